//! One NDJSON line of an import into a validated [`ImportItem`], or the
//! reason it is refused. The format is `docs/import.md`.

use serde::Deserialize;
use serde_json::Value;

use crate::core::import::{
    ImportConversation, ImportItem, ImportMember, ImportMessage, ImportUser, ImportWatermark,
    WatermarkKind, kind_of,
};
use crate::core::{
    Attachment, AttachmentMeta, ConversationKind, Millis, Profile, Role, RowRef, UserId,
    ids::validate_attachment_url,
};

/// The longest message text an import takes (characters).
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Parses one line (without its newline). `Ok(None)` for a blank line.
pub fn parse_line(line: &str) -> Result<Option<ImportItem>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Some(kind) = v.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return Err("no \"type\"".into());
    };
    let item = match kind.as_str() {
        "user" => ImportItem::User(user(de(v)?)?),
        "conversation" => ImportItem::Conversation(conversation(de(v)?)?),
        "member" => {
            let m: MemberRecord = de(v)?;
            ImportItem::Member {
                conversation: foreign_id(&m.conversation, "conversation")?,
                member: member(m.member)?,
            }
        }
        "message" => ImportItem::Message(message(de(v)?)?),
        "read" | "delivered" => {
            let w: WatermarkRecord = de(v)?;
            ImportItem::Watermark(ImportWatermark {
                kind: if kind == "read" {
                    WatermarkKind::Read
                } else {
                    WatermarkKind::Delivered
                },
                conversation: foreign_id(&w.conversation, "conversation")?,
                user_id: user_id(&w.user_id, "userId")?,
                up_to: foreign_id(&w.up_to, "upTo")?,
            })
        }
        other => return Err(format!("unknown type {other:?}")),
    };
    Ok(Some(item))
}

fn de<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserRecord {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    created_at: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberFields {
    user_id: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    joined_at: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConversationRecord {
    id: Value,
    kind: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    created_at: Option<Value>,
    #[serde(default)]
    members: Vec<MemberFields>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberRecord {
    conversation: Value,
    #[serde(flatten)]
    member: MemberFields,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttachmentRecord {
    url: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    mime: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    width: Option<u32>,
    #[serde(default)]
    height: Option<u32>,
    #[serde(default)]
    duration_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageRecord {
    id: Value,
    conversation: Value,
    sender: String,
    created_at: Value,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<AttachmentRecord>,
    #[serde(default)]
    edited_at: Option<Value>,
    #[serde(default)]
    deleted_at: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WatermarkRecord {
    conversation: Value,
    user_id: String,
    up_to: Value,
}

fn user_id(s: &str, field: &str) -> Result<UserId, String> {
    UserId::parse(s).map_err(|e| format!("{field}: {e}"))
}

/// A foreign id: a positive integer (or its decimal string), a UUID, or
/// an external id.
fn foreign_id(v: &Value, field: &str) -> Result<RowRef, String> {
    RowRef::from_json_any(v).map_err(|e| format!("{field}: {e}"))
}

/// A time: integer epoch milliseconds or an RFC 3339 string.
fn time(v: &Value, field: &str) -> Result<Millis, String> {
    let t = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_rfc3339(s),
        _ => None,
    };
    t.filter(|t| (0..=253_402_300_799_999).contains(t))
        .ok_or_else(|| {
            format!(
                "{field}: a time is epoch milliseconds or an RFC 3339 string (2024-01-02T03:04:05Z)"
            )
        })
}

fn opt_time(v: Option<&Value>, field: &str) -> Result<Option<Millis>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => time(v, field).map(Some),
    }
}

fn text_field(s: Option<String>, max: usize, field: &str) -> Result<Option<String>, String> {
    match s {
        Some(s) if s.chars().count() > max => Err(format!("{field}: longer than {max} characters")),
        Some(s) if s.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn user(r: UserRecord) -> Result<ImportUser, String> {
    if let Some(a) = &r.avatar {
        validate_attachment_url(a).map_err(|e| format!("avatar: {e}"))?;
    }
    Ok(ImportUser {
        id: user_id(&r.id, "id")?,
        profile: Profile {
            display_name: text_field(r.name, 200, "name")?,
            avatar_url: r.avatar,
            email: text_field(r.email, 320, "email")?,
        },
        disabled: r.disabled,
        created_at: opt_time(r.created_at.as_ref(), "createdAt")?.unwrap_or(0),
    })
}

fn member(m: MemberFields) -> Result<ImportMember, String> {
    let role = match m.role.as_deref() {
        None => Role::Member,
        Some(r) => Role::parse(r).ok_or_else(|| format!("role {r:?}: owner, admin or member"))?,
    };
    Ok(ImportMember {
        user_id: user_id(&m.user_id, "userId")?,
        role,
        joined_at: opt_time(m.joined_at.as_ref(), "joinedAt")?.unwrap_or(0),
    })
}

fn conversation(r: ConversationRecord) -> Result<ImportConversation, String> {
    let kind = match r.kind.as_str() {
        "direct" => ConversationKind::Direct,
        "group" => ConversationKind::Group,
        other => return Err(format!("kind {other:?}: direct or group")),
    };
    let created_at = opt_time(r.created_at.as_ref(), "createdAt")?.unwrap_or(0);
    let mut members = Vec::with_capacity(r.members.len());
    for m in r.members {
        let mut m = member(m)?;
        if m.joined_at == 0 {
            m.joined_at = created_at;
        }
        if members
            .iter()
            .any(|o: &ImportMember| o.user_id == m.user_id)
        {
            return Err(format!("member {} is listed twice", m.user_id));
        }
        members.push(m);
    }
    if kind == ConversationKind::Direct && members.len() != 2 {
        return Err("a direct conversation has exactly two members".into());
    }
    let created_by = match r.created_by {
        Some(c) => user_id(&c, "createdBy")?,
        None => members
            .iter()
            .find(|m| m.role == Role::Owner)
            .or(members.first())
            .map(|m| m.user_id.clone())
            .ok_or("createdBy is required when there are no members")?,
    };
    Ok(ImportConversation {
        id: foreign_id(&r.id, "id")?,
        kind,
        title: text_field(r.title, 200, "title")?,
        created_by,
        created_at,
        members,
    })
}

fn message(r: MessageRecord) -> Result<ImportMessage, String> {
    let mut attachments = Vec::with_capacity(r.attachments.len());
    for a in r.attachments {
        validate_attachment_url(&a.url).map_err(|e| format!("attachments: {e}"))?;
        attachments.push(Attachment {
            url: a.url,
            meta: AttachmentMeta {
                name: a.name,
                size: a.size,
                content_type: a.mime,
                width: a.width,
                height: a.height,
                duration_ms: a.duration_ms,
                thumbnail: None,
            },
        });
    }
    let text = text_field(r.text, MAX_TEXT_CHARS, "text")?;
    let deleted_at = opt_time(r.deleted_at.as_ref(), "deletedAt")?;
    if text.is_none() && attachments.is_empty() && deleted_at.is_none() {
        return Err("a message has a text or attachments (or is deleted)".into());
    }
    Ok(ImportMessage {
        id: foreign_id(&r.id, "id")?,
        conversation: foreign_id(&r.conversation, "conversation")?,
        sender: user_id(&r.sender, "sender")?,
        created_at: time(&r.created_at, "createdAt")?,
        kind: kind_of(&attachments),
        text,
        attachments,
        edited_at: opt_time(r.edited_at.as_ref(), "editedAt")?,
        deleted_at,
    })
}

/// `2024-01-02T03:04:05Z`, `2024-01-02T03:04:05.678+02:00`, … as epoch
/// milliseconds (fractions beyond milliseconds are dropped).
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &s[start..i.min(start + 3)];
        millis = frac.parse::<i64>().ok()? * 10_i64.pow(3 - frac.len() as u32);
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
            let o = (h * 60 + m) * 60_000;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000 + millis) - offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::MessageKind;
    use proptest::prelude::*;

    #[test]
    fn rfc3339_times_parse_to_epoch_milliseconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00.123Z"),
            Some(951_782_400_123)
        );
        assert_eq!(
            parse_rfc3339("2023-11-15T00:13:20+02:00"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.000123456Z"),
            Some(1_700_000_000_000)
        );
        for bad in [
            "",
            "2023-11-14",
            "2023-13-14T22:13:20Z",
            "2023-11-14T22:13:20",
            "x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_record_type_parses_to_its_item() {
        let user = parse_line(
            r#"{"type":"user","id":"u1","name":"Alice","avatar":"https://x.org/a.png","email":"a@x.org","disabled":false,"createdAt":1000}"#,
        )
        .unwrap()
        .unwrap();
        let ImportItem::User(u) = user else {
            panic!("{user:?}")
        };
        assert_eq!(u.id.as_str(), "u1");
        assert_eq!(u.profile.display_name.as_deref(), Some("Alice"));
        assert_eq!(u.created_at, 1000);

        let conv = parse_line(
            r#"{"type":"conversation","id":"64b7f0c2e4b0a1a2b3c4d5e6","kind":"direct","createdAt":"2024-01-02T03:04:05Z","members":[{"userId":"u1","role":"owner"},{"userId":"u2"}]}"#,
        )
        .unwrap()
        .unwrap();
        let ImportItem::Conversation(c) = conv else {
            panic!("{conv:?}")
        };
        assert!(matches!(c.id, RowRef::External(_)));
        assert_eq!(c.created_by.as_str(), "u1", "the owner created it");
        assert_eq!(c.members[1].role, Role::Member);
        assert_eq!(c.members[1].joined_at, c.created_at);

        let msg = parse_line(
            r#"{"type":"message","id":17,"conversation":"42","sender":"u1","createdAt":5,"text":null,"attachments":[{"url":"https://x.org/p.png","name":"p.png","mime":"image/png","size":3}]}"#,
        )
        .unwrap()
        .unwrap();
        let ImportItem::Message(m) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(m.id, RowRef::Id(17));
        assert_eq!(m.conversation, RowRef::Id(42));
        assert_eq!(m.kind, MessageKind::Image);

        let read = parse_line(
            r#"{"type":"read","conversation":"3fa85f64-5717-4562-b3fc-2c963f66afa6","userId":"u2","upTo":17}"#,
        )
        .unwrap()
        .unwrap();
        assert!(matches!(
            read,
            ImportItem::Watermark(ImportWatermark {
                kind: WatermarkKind::Read,
                conversation: RowRef::Uuid(_),
                ..
            })
        ));
        assert!(matches!(
            parse_line(r#"{"type":"member","conversation":7,"userId":"u3","role":"admin"}"#),
            Ok(Some(ImportItem::Member { .. }))
        ));
        assert_eq!(parse_line("   "), Ok(None));
    }

    #[test]
    fn bad_records_are_refused_with_a_reason() {
        for (line, reason) in [
            ("{", "not JSON"),
            ("[]", "no \"type\""),
            (r#"{"type":"planet"}"#, "unknown type"),
            (r#"{"type":"user","id":"a b"}"#, "id:"),
            (
                r#"{"type":"conversation","id":0,"kind":"group","createdBy":"u1"}"#,
                "id:",
            ),
            (
                r#"{"type":"conversation","id":1,"kind":"direct","members":[{"userId":"u1"}]}"#,
                "exactly two",
            ),
            (
                r#"{"type":"conversation","id":1,"kind":"channel","createdBy":"u1"}"#,
                "kind",
            ),
            (
                r#"{"type":"message","id":1,"conversation":1,"sender":"u1","createdAt":"yesterday","text":"x"}"#,
                "createdAt",
            ),
            (
                r#"{"type":"message","id":1,"conversation":1,"sender":"u1","createdAt":1}"#,
                "text or attachments",
            ),
            (
                r#"{"type":"message","id":1,"conversation":1,"sender":"u1","createdAt":1,"attachments":[{"url":"a b"}]}"#,
                "attachments",
            ),
            (
                r#"{"type":"member","conversation":1,"userId":"u1","role":"king"}"#,
                "role",
            ),
        ] {
            match parse_line(line) {
                Err(e) => assert!(e.contains(reason), "{line}: {e} does not say {reason}"),
                Ok(item) => panic!("{line} parsed as {item:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_lines_never_panic(line in ".{0,300}") {
            let _ = parse_line(&line);
        }

        #[test]
        fn arbitrary_json_records_never_panic(
            kind in prop::sample::select(vec!["user", "conversation", "member", "message", "read", "delivered"]),
            id in prop::option::of(".{0,20}"),
            n in any::<i64>(),
            t in ".{0,30}",
        ) {
            let line = serde_json::json!({
                "type": kind, "id": id, "conversation": n, "sender": id, "userId": id,
                "createdAt": t, "upTo": n, "kind": "group", "text": t,
            })
            .to_string();
            let _ = parse_line(&line);
        }
    }
}
