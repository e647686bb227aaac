//! History import: items under foreign ids, idempotent, refused alone,
//! sequence numbers in time order, watermarks, and live messages after.

use confab::core::import::{
    ImportConversation, ImportItem, ImportMember, ImportMessage, ImportOutcome, ImportUser,
    ImportWatermark, WatermarkKind,
};
use confab::core::{ConversationKind, MessageKind, Page, Profile, Role, RowRef};
use confab::store::DynStore;

use super::{send, text};
use crate::helpers::user_id;

fn r(s: &str) -> RowRef {
    RowRef::parse_any(s).expect("a foreign id")
}

fn member(u: &str) -> ImportMember {
    ImportMember {
        user_id: user_id(u),
        role: Role::Member,
        joined_at: 10,
    }
}

fn conversation(id: &str, kind: ConversationKind, members: &[&str]) -> ImportItem {
    ImportItem::Conversation(ImportConversation {
        id: r(id),
        kind,
        title: None,
        created_by: user_id(members[0]),
        created_at: 10,
        members: members.iter().map(|m| member(m)).collect(),
    })
}

fn message(id: &str, conv: &str, sender: &str, at: i64, body: &str) -> ImportItem {
    ImportItem::Message(ImportMessage {
        id: r(id),
        conversation: r(conv),
        sender: user_id(sender),
        created_at: at,
        kind: MessageKind::Text,
        text: Some(body.to_owned()),
        attachments: vec![],
        edited_at: None,
        deleted_at: None,
    })
}

fn read(conv: &str, user: &str, up_to: &str) -> ImportItem {
    ImportItem::Watermark(ImportWatermark {
        kind: WatermarkKind::Read,
        conversation: r(conv),
        user_id: user_id(user),
        up_to: r(up_to),
    })
}

pub async fn an_import_keeps_foreign_ids_and_a_second_run_changes_nothing(s: DynStore) {
    let oid = "64b7f0c2e4b0a1a2b3c4d5e6";
    let uuid = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    let items = vec![
        ImportItem::User(ImportUser {
            id: user_id("u1"),
            profile: Profile {
                display_name: Some("One".into()),
                ..Profile::default()
            },
            disabled: false,
            created_at: 1,
        }),
        conversation("4242", ConversationKind::Group, &["u1", "u2", "u3"]),
        conversation(uuid, ConversationKind::Direct, &["u1", "u2"]),
        conversation(oid, ConversationKind::Group, &["u2", "u3"]),
        message("900", "4242", "u1", 100, "n1"),
        message("901", "4242", "u2", 200, "n2"),
        message(
            "a0000000-0000-4000-8000-000000000001",
            uuid,
            "u1",
            100,
            "u1",
        ),
        message("m-obj-1", oid, "u2", 300, "o1"),
        message("m-obj-2", "nope", "u2", 300, "lost"),
        read("4242", "u3", "900"),
        read("4242", "u9", "900"),
    ];
    let first = s.import(&items, 1000).await.expect("import");
    assert_eq!(&first[..8], &vec![ImportOutcome::Created; 8][..]);
    assert!(
        matches!(first[8], ImportOutcome::Refused(_)),
        "unknown conversation"
    );
    assert_eq!(first[9], ImportOutcome::Created);
    assert!(
        matches!(first[10], ImportOutcome::Refused(_)),
        "not a member"
    );

    let by_number = s
        .conversation(r("4242"))
        .await
        .unwrap()
        .expect("by its number");
    assert_eq!((by_number.id, by_number.last_seq), (4242, 2));
    let by_uuid = s.conversation(r(uuid)).await.unwrap().expect("by its uuid");
    assert_eq!(by_uuid.uuid.to_string(), uuid);
    let by_oid = s
        .conversation(r(oid))
        .await
        .unwrap()
        .expect("by its external id");
    assert_eq!(by_oid.external_id.as_deref(), Some(oid));
    let m = s
        .message(r("m-obj-1"))
        .await
        .unwrap()
        .expect("by external id");
    assert_eq!(
        (m.seq, m.conversation_external_id.as_deref()),
        (1, Some(oid))
    );
    let n = s.message(r("900")).await.unwrap().expect("by number");
    assert_eq!((n.id, n.seq, n.created_at), (900, 1, 100));
    assert_eq!(s.unread_count(4242, &user_id("u3")).await.unwrap(), 1);

    let second = s.import(&items, 2000).await.expect("again");
    assert_eq!(
        second
            .iter()
            .filter(|o| **o == ImportOutcome::Created)
            .count(),
        0,
        "{second:?}"
    );
    let after = s.conversation(r("4242")).await.unwrap().unwrap();
    assert_eq!(after.last_seq, 2);

    // A live message after the import gets the next id and sequence number.
    let live = send(&s, text(4242, &user_id("u1"), "live", 500)).await;
    assert_eq!(live.seq, 3);
    assert!(live.id > 901, "the id sequence moved past imported ids");
}

pub async fn an_imported_message_older_than_the_newest_is_put_in_time_order(s: DynStore) {
    let items = vec![
        conversation("c-1", ConversationKind::Direct, &["a", "b"]),
        message("m-3", "c-1", "a", 300, "third"),
        message("m-1", "c-1", "b", 100, "first"),
        read("c-1", "b", "m-3"),
        message("m-2", "c-1", "a", 200, "second"),
    ];
    s.import(&items, 1000).await.expect("import");
    assert_eq!(s.import_finish().await.expect("finish"), 1);
    let c = s.conversation(r("c-1")).await.unwrap().unwrap();
    let texts: Vec<_> = s
        .messages(
            c.id,
            Page {
                before_seq: None,
                after_seq: None,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.seq, m.text.unwrap_or_default()))
        .collect();
    assert_eq!(
        texts,
        [
            (1, "first".into()),
            (2, "second".into()),
            (3, "third".to_owned())
        ]
    );
    let b = s.member(c.id, &user_id("b")).await.unwrap().unwrap();
    assert_eq!(b.last_read_seq, 3, "the watermark follows m-3");
    assert_eq!(s.import_finish().await.expect("nothing left"), 0);
}
