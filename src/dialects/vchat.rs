//! The V Chat dialect (`seeds/vchat-api.txt`): the raw token in the
//! `Authorization` header; namespace `/` holds the rooms list
//! (`update_one_room`, `user_online_changed`, `user_typing_changed`) and
//! namespace `/message` the one open room (`all_messages`, `new_message`, as
//! JSON strings). Error texts follow `accept-language` (English, Arabic).
//! Decisions where the seed is silent are in `docs/dialects/vchat.md`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Delivery, Dialect, Out, Receipt, authorization_header, conversation_room, token_value,
    user_room, user_rooms,
};
use crate::core::command::{Actor, Command, ConversationTarget, Outcome};
use crate::core::event::DomainEvent;
use crate::core::views::ConversationView;
use crate::core::{
    ConversationKind, CoreError, DeliveryStatus, ErrorCode, FriendshipStatus, Message, MessageKind,
    RowRef, UserId,
};

/// Namespace `/`: the rooms list.
pub struct VChat;

/// Namespace `/message`: the room a user has open.
pub struct VChatMessage;

/// Messages per page of `all_messages` and `load_more`.
pub const PAGE: u32 = 30;

/// Where a user or group has no picture.
pub const DEFAULT_USER_IMAGE: &str = "default_user_image.png";
pub const DEFAULT_GROUP_IMAGE: &str = "default_group_image.png";

// ------------------------------------------------------------- languages

/// The language of a client's error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ar,
}

impl Lang {
    /// From `accept-language`: Arabic if its first language is `ar…`.
    pub fn from_headers(headers: &http::HeaderMap) -> Lang {
        let first = headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split([',', ';']).next())
            .map(str::trim)
            .unwrap_or("");
        if first.len() >= 2 && first[..2].eq_ignore_ascii_case("ar") {
            Lang::Ar
        } else {
            Lang::En
        }
    }

    /// An error's text in this language (English keeps the details).
    pub fn error(self, error: &CoreError) -> String {
        self.text(error.code(), error.to_string())
    }

    /// The text of an error with `code`, given its English text.
    pub fn text(self, code: ErrorCode, english: String) -> String {
        match self {
            Lang::En => english,
            Lang::Ar => arabic(code).to_owned(),
        }
    }

    /// A refused handshake's text in this language.
    pub fn refusal(self, message: String) -> String {
        match self {
            Lang::En => message,
            Lang::Ar => "رمز الدخول مفقود أو غير صالح".to_owned(),
        }
    }
}

fn arabic(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthenticated => "يلزم تسجيل الدخول",
        ErrorCode::Forbidden => "غير مسموح لك بهذا الإجراء",
        ErrorCode::NotFound => "غير موجود",
        ErrorCode::InvalidPayload => "البيانات المرسلة غير صالحة",
        ErrorCode::RateLimited => "طلبات كثيرة، حاول مرة أخرى لاحقاً",
        ErrorCode::Conflict => "يتعارض مع الحالة الحالية",
        ErrorCode::Unavailable => "الخدمة غير متاحة مؤقتاً",
        ErrorCode::Internal => "حدث خطأ في الخادم",
    }
}

// --------------------------------------------------------------- payloads

fn parse<T: serde::de::DeserializeOwned>(payload: &Value) -> Result<T, CoreError> {
    T::deserialize(payload).map_err(|e| CoreError::invalid(format!("invalid payload: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypingPayload {
    room_id: RowRef,
    status: TypingStatus,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum TypingStatus {
    Typing,
    Recording,
    Stop,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomPayload {
    room_id: RowRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoadMore {
    room_id: RowRef,
    before_message_id: RowRef,
}

/// The room of `/message`'s `join`: the id itself, or `{roomId}`.
fn room_id(payload: &Value) -> Result<RowRef, CoreError> {
    if payload.is_object() {
        return Ok(parse::<RoomPayload>(payload)?.room_id);
    }
    RowRef::from_json(payload)
        .map_err(|_| CoreError::invalid("join takes the room id (a string or {roomId})"))
}

fn unknown(event: &str) -> CoreError {
    CoreError::invalid(format!(
        "unknown event {:?}",
        event.chars().take(64).collect::<String>()
    ))
}

// ------------------------------------------------------------------ views

/// `messageType` of a message kind.
pub fn message_type(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Text => "text",
        MessageKind::Image => "image",
        MessageKind::Audio => "voice",
        MessageKind::Video => "video",
        MessageKind::File => "file",
    }
}

/// A message as V Chat shows it, with its sender's name and picture.
pub fn message_json(m: &Message, sender_name: &str, sender_image: Option<&str>) -> Value {
    let deleted = m.deleted_at.is_some();
    let attachment = m
        .attachments
        .first()
        .filter(|_| !deleted)
        .map(|url| json!({ "url": url, "type": message_type(m.kind) }));
    let kind = if deleted {
        "text"
    } else {
        message_type(m.kind)
    };
    json!({
        "_id": m.id.to_string(),
        "messageType": kind,
        "messageAttachment": attachment,
        "createdAt": m.created_at,
        "content": if deleted { "" } else { m.text.as_deref().unwrap_or("") },
        "senderId": m.sender_id,
        "senderName": sender_name,
        "senderImageThumb": sender_image.unwrap_or(DEFAULT_USER_IMAGE),
        "roomId": m.conversation_id.to_string(),
    })
}

/// A room as `me` sees it: every field of the seed's room object.
pub fn room_json(view: &ConversationView, me: &UserId) -> Value {
    let summary = &view.summary;
    let c = &summary.conversation;
    let peer = view.peer(me);
    let mine = summary.members.iter().find(|m| &m.user_id == me);
    let last = summary.last_message.as_ref();
    let last_json = last.map(|m| {
        let sender = view.user(&m.sender_id);
        message_json(
            m,
            sender.map_or(m.sender_id.as_str(), |u| u.name()),
            sender.and_then(|u| u.avatar_url.as_deref()),
        )
    });
    let peer_read = last.is_some_and(|m| {
        &m.sender_id == me && DeliveryStatus::of(m, &summary.members) == DeliveryStatus::Read
    });
    let blocker = view
        .friendship
        .as_ref()
        .filter(|f| f.status == FriendshipStatus::Blocked)
        .and_then(|f| f.blocked_by.clone());
    let single = c.kind == ConversationKind::Direct;
    json!({
        "_id": c.id.to_string(),
        "roomType": if single { "single" } else { "group" },
        "creatorId": c.created_by,
        "updatedAt": c.updated_at,
        "title": match peer {
            Some(p) => p.name().to_owned(),
            None => c.title.clone().unwrap_or_default(),
        },
        "thumbImage": match peer {
            Some(p) => p.avatar_url.clone().unwrap_or_else(|| DEFAULT_USER_IMAGE.to_owned()),
            None => DEFAULT_GROUP_IMAGE.to_owned(),
        },
        "peerId": peer.map(|p| &p.id),
        "peerEmail": peer.and_then(|p| p.email.clone().or_else(|| p.username.clone())),
        "isOnline": i32::from(peer.is_some_and(|p| view.is_online(&p.id))),
        "lastMessage": last_json,
        "ifPeerReadMyLastMessage": i32::from(peer_read),
        "unReadCount": summary.unread_count,
        "roomMembersCount": summary.members.len(),
        "isMute": i32::from(mine.is_some_and(|m| m.muted)),
        "blockerId": blocker,
        "groupSetting": (!single).then(|| json!({
            "creatorId": c.created_by,
            "title": c.title,
            "membersCount": summary.members.len(),
        })),
    })
}

/// A page of history as a JSON string, newest first.
fn page_string(page: &crate::core::views::HistoryPage) -> String {
    let items: Vec<Value> = page
        .messages
        .iter()
        .rev()
        .map(|m| {
            let sender = page.senders.iter().find(|u| u.id == m.sender_id);
            message_json(
                m,
                sender.map_or(m.sender_id.as_str(), |u| u.name()),
                sender.and_then(|u| u.avatar_url.as_deref()),
            )
        })
        .collect();
    Value::Array(items).to_string()
}

fn errors(lang: Lang, event: &str, error: &CoreError) -> Vec<Out> {
    let text = lang.error(error);
    let code = error.code().as_str();
    vec![
        Out::Ack(json!({ "success": false, "error": text, "code": code })),
        Out::Emit(
            "error",
            json!({ "success": false, "error": text, "code": code, "event": event }),
        ),
    ]
}

fn handshake_token(parts: &http::request::Parts, auth: Option<&Value>) -> Option<String> {
    authorization_header(parts).or_else(|| token_value(auth.and_then(|a| a.get("token"))))
}

/// A room view for each member, as the room changed for them.
fn room_update(conversation_id: i64, users: &[UserId]) -> Delivery {
    Delivery::PerUser {
        users: users.to_vec(),
        command: Command::Room {
            conversation: RowRef::Id(conversation_id),
        },
        event: "update_one_room",
    }
}

/// The direct room of `a` and `b`, for each of them.
fn pair_updates(a: &UserId, b: &UserId, event: &'static str) -> Vec<Delivery> {
    [(a, b), (b, a)]
        .into_iter()
        .map(|(user, peer)| Delivery::PerUser {
            users: vec![user.clone()],
            command: Command::DirectRoomWith { peer: peer.clone() },
            event,
        })
        .collect()
}

// ---------------------------------------------------------------- dialect

impl Dialect for VChat {
    fn name(&self) -> &'static str {
        "vchat"
    }

    fn namespace(&self) -> &'static str {
        "/"
    }

    fn handshake_token(
        &self,
        parts: &http::request::Parts,
        auth: Option<&Value>,
    ) -> Option<String> {
        handshake_token(parts, auth)
    }

    fn localize_refusal(&self, parts: &http::request::Parts, message: String) -> String {
        Lang::from_headers(&parts.headers).refusal(message)
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        Ok(match event {
            "join" => Command::Conversations {
                catch_up: vec![],
                direct_only: false,
                skip: 0,
                limit: u32::MAX,
            },
            "typing" => {
                let p: TypingPayload = parse(payload)?;
                Command::Typing {
                    conversation: ConversationTarget::Ref(p.room_id),
                    typing: p.status != TypingStatus::Stop,
                    recording: p.status == TypingStatus::Recording,
                }
            }
            other => return Err(unknown(other)),
        })
    }

    fn encode(&self, actor: &Actor, event: &str, outcome: &Outcome) -> Vec<Out> {
        match outcome {
            Outcome::Conversations { views, .. } => vec![Out::Ack(json!({
                "success": true,
                "data": views.iter().map(|v| room_json(v, actor.id())).collect::<Vec<_>>(),
            }))],
            Outcome::Room(view) if event == "user_online_changed" => {
                let peer = view.peer(actor.id());
                let status = i32::from(peer.is_some_and(|p| view.is_online(&p.id)));
                let room = view.summary.conversation.id.to_string();
                vec![Out::Emit(
                    "user_online_changed",
                    Value::String(json!({ "status": status, "roomId": room }).to_string()),
                )]
            }
            Outcome::Room(view) => vec![Out::Emit("update_one_room", room_json(view, actor.id()))],
            _ => vec![Out::Ack(json!({ "success": true }))],
        }
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        errors(Lang::En, event, error)
    }

    fn encode_error_for(
        &self,
        parts: &http::request::Parts,
        event: &str,
        error: &CoreError,
    ) -> Vec<Out> {
        errors(Lang::from_headers(&parts.headers), event, error)
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessageCreated {
                conversation,
                members,
                ..
            } => vec![room_update(conversation.id, members)],
            // The last message may have changed.
            DomainEvent::MessageEdited { message, members }
            | DomainEvent::MessageDeleted { message, members } => {
                vec![room_update(message.conversation_id, members)]
            }
            DomainEvent::MessagesRead {
                conversation,
                members,
                ..
            }
            | DomainEvent::MemberAdded {
                conversation,
                members,
                ..
            }
            | DomainEvent::MemberRemoved {
                conversation,
                members,
                ..
            } => vec![room_update(conversation.id, members)],
            DomainEvent::ConversationCreated {
                conversation,
                members,
            } => vec![room_update(conversation.id, members)],
            DomainEvent::RoomChanged {
                conversation,
                audience,
            } => vec![room_update(conversation.id, audience)],
            DomainEvent::FriendshipChanged { friendship } => pair_updates(
                &friendship.requester,
                &friendship.addressee,
                "update_one_room",
            ),
            DomainEvent::Unblocked { by, other } => pair_updates(by, other, "update_one_room"),
            DomainEvent::Presence { user, audience, .. } => audience
                .iter()
                .map(|member| Delivery::PerUser {
                    users: vec![member.clone()],
                    command: Command::DirectRoomWith { peer: user.clone() },
                    event: "user_online_changed",
                })
                .collect(),
            DomainEvent::Typing {
                conversation,
                user,
                typing,
                recording,
                members,
            } => vec![Delivery::Emit {
                to: user_rooms(members, Some(&user.id)),
                except: vec![],
                event: "user_typing_changed",
                data: json!({
                    "status": match (typing, recording) {
                        (false, _) => "stop",
                        (true, true) => "recording",
                        (true, false) => "typing",
                    },
                    "name": user.name(),
                    "roomId": conversation.id.to_string(),
                }),
                receipt: None,
            }],
            _ => vec![],
        }
    }
}

impl Dialect for VChatMessage {
    fn name(&self) -> &'static str {
        "vchat"
    }

    fn namespace(&self) -> &'static str {
        "/message"
    }

    fn handshake_token(
        &self,
        parts: &http::request::Parts,
        auth: Option<&Value>,
    ) -> Option<String> {
        handshake_token(parts, auth)
    }

    fn localize_refusal(&self, parts: &http::request::Parts, message: String) -> String {
        Lang::from_headers(&parts.headers).refusal(message)
    }

    fn reads_on_delivery(&self) -> bool {
        true
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        Ok(match event {
            "join" => Command::ViewRoom {
                conversation: room_id(payload)?,
                limit: PAGE,
            },
            "load_more" => {
                let p: LoadMore = parse(payload)?;
                Command::History {
                    conversation: p.room_id,
                    before: Some(p.before_message_id),
                    skip: 0,
                    limit: PAGE,
                }
            }
            other => return Err(unknown(other)),
        })
    }

    fn encode(&self, _actor: &Actor, event: &str, outcome: &Outcome) -> Vec<Out> {
        match outcome {
            // `join`: the socket views this room only.
            Outcome::History(page) if event == "join" => vec![
                Out::UnviewAll,
                Out::View(page.conversation.id),
                Out::Emit("all_messages", Value::String(page_string(page))),
                Out::Ack(json!({ "success": true })),
            ],
            Outcome::History(page) => vec![Out::Ack(Value::String(page_string(page)))],
            _ => vec![Out::Ack(json!({ "success": true }))],
        }
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        errors(Lang::En, event, error)
    }

    fn encode_error_for(
        &self,
        parts: &http::request::Parts,
        event: &str,
        error: &CoreError,
    ) -> Vec<Out> {
        errors(Lang::from_headers(&parts.headers), event, error)
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessageCreated {
                conversation,
                message,
                sender,
                members,
                ..
            } => vec![Delivery::Emit {
                to: vec![conversation_room(message.conversation_id)],
                except: vec![],
                event: "new_message",
                data: Value::String(
                    message_json(message, sender.name(), sender.avatar_url.as_deref()).to_string(),
                ),
                receipt: Some(Receipt::new(message, *conversation, members)),
            }],
            DomainEvent::MemberRemoved {
                conversation, user, ..
            } => vec![Delivery::Leave {
                of: user_room(user),
                room: conversation_room(conversation.id),
            }],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lang: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::ACCEPT_LANGUAGE, lang.parse().unwrap());
        h
    }

    #[test]
    fn accept_language_picks_arabic_or_english() {
        assert_eq!(Lang::from_headers(&headers("ar")), Lang::Ar);
        assert_eq!(Lang::from_headers(&headers("ar-EG,en;q=0.8")), Lang::Ar);
        assert_eq!(Lang::from_headers(&headers("en-US")), Lang::En);
        assert_eq!(Lang::from_headers(&headers("fr")), Lang::En);
        assert_eq!(Lang::from_headers(&http::HeaderMap::new()), Lang::En);
        let e = CoreError::NotFound("conversation");
        assert_eq!(Lang::En.error(&e), "conversation not found");
        assert_eq!(Lang::Ar.error(&e), "غير موجود");
    }

    #[test]
    fn typing_statuses_decode_to_typing_and_recording() {
        let d = VChat;
        let t = |status: &str| d.decode("typing", &json!({ "roomId": "5", "status": status }));
        assert!(matches!(
            t("typing").unwrap(),
            Command::Typing {
                typing: true,
                recording: false,
                ..
            }
        ));
        assert!(matches!(
            t("recording").unwrap(),
            Command::Typing {
                typing: true,
                recording: true,
                ..
            }
        ));
        assert!(matches!(
            t("stop").unwrap(),
            Command::Typing { typing: false, .. }
        ));
        assert!(t("dancing").is_err());
        assert!(d.decode("typing", &json!({ "status": "typing" })).is_err());
    }

    #[test]
    fn message_join_takes_an_id_or_an_object() {
        let d = VChatMessage;
        for payload in [json!("12"), json!(12), json!({ "roomId": "12" })] {
            assert!(matches!(
                d.decode("join", &payload).unwrap(),
                Command::ViewRoom {
                    conversation: RowRef::Id(12),
                    ..
                }
            ));
        }
        assert!(d.decode("join", &json!(null)).is_err());
        assert!(d.decode("join", &json!("not a room")).is_err());
        assert!(d.decode("load_more", &json!({ "roomId": "12" })).is_err());
    }

    #[test]
    fn decoding_arbitrary_json_never_panics() {
        use proptest::prelude::*;
        proptest::proptest!(|(s in any::<String>(), n in any::<i64>())| {
            for payload in [json!(s), json!({ "roomId": s, "status": s }), json!({ "roomId": n, "beforeMessageId": s })] {
                for event in ["join", "typing", "load_more"] {
                    let _ = VChat.decode(event, &payload);
                    let _ = VChatMessage.decode(event, &payload);
                }
            }
        });
    }
}
