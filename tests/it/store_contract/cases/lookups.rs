//! Rows looked up by id and by uuid, and missing rows.

use confab::core::{ConversationRef, MessageRef};
use confab::store::DynStore;

use super::{group, send, text, users, with_client_id};
use crate::helpers::user_id;

pub async fn message_lookup_by_id_and_by_uuid(s: DynStore) {
    let ids = users(&s, &["a", "b"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let m = send(&s, with_client_id(text(conv, &ids[0], "hi", 100), "k")).await;
    let c = s
        .conversation(ConversationRef::Id(conv))
        .await
        .expect("conversation")
        .expect("exists");
    assert_eq!(m.conversation_uuid, c.uuid);
    assert_eq!(m.conversation_id, conv);
    assert_eq!(m.sender_id, ids[0]);
    assert_eq!(m.created_at, 100);

    let by_id = s.message(MessageRef::Id(m.id)).await.expect("by id");
    let by_uuid = s.message(MessageRef::Uuid(m.uuid)).await.expect("by uuid");
    assert_eq!(by_id.as_ref(), Some(&m));
    assert_eq!(by_uuid.as_ref(), Some(&m));
}

pub async fn conversation_lookup_by_id_and_uuid(s: DynStore) {
    let ids = users(&s, &["a", "b"]).await;
    let (direct, _) = s
        .direct_conversation(&ids[0], &ids[1], 10)
        .await
        .expect("direct");
    let g = s
        .create_group(&ids[0], Some("g"), &ids[1..], 20)
        .await
        .expect("group");
    for conv in [direct, g] {
        let by_id = s
            .conversation(ConversationRef::Id(conv.id))
            .await
            .expect("by id");
        let by_uuid = s
            .conversation(ConversationRef::Uuid(conv.uuid))
            .await
            .expect("by uuid");
        assert_eq!(by_id.as_ref(), Some(&conv));
        assert_eq!(by_uuid.as_ref(), Some(&conv));
    }
}

pub async fn a_missing_row_is_none(s: DynStore) {
    let ids = users(&s, &["a", "b"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let nobody = user_id("nobody");
    assert!(s.user(&nobody).await.expect("user").is_none());
    assert!(
        s.users(std::slice::from_ref(&nobody))
            .await
            .expect("users")
            .is_empty()
    );
    assert!(s.credentials("nobody").await.expect("creds").is_none());
    assert!(
        s.conversation(ConversationRef::Id(conv + 1000))
            .await
            .expect("conversation")
            .is_none()
    );
    assert!(
        s.conversation(ConversationRef::Uuid(uuid::Uuid::new_v4()))
            .await
            .expect("conversation")
            .is_none()
    );
    assert!(
        s.message(MessageRef::Id(12345))
            .await
            .expect("message")
            .is_none()
    );
    assert!(
        s.message(MessageRef::Uuid(uuid::Uuid::new_v4()))
            .await
            .expect("message")
            .is_none()
    );
    assert!(s.member(conv, &nobody).await.expect("member").is_none());
    assert!(
        s.member(conv + 1000, &ids[0])
            .await
            .expect("member")
            .is_none()
    );
    assert!(s.members(conv + 1000).await.expect("members").is_empty());
    assert_eq!(s.unread_count(conv, &nobody).await.expect("unread"), 0);
    assert!(s.conversations_of(&nobody).await.expect("convs").is_empty());
    assert!(s.contacts(&nobody).await.expect("contacts").is_empty());
    assert!(!s.remove_member(conv, &nobody).await.expect("remove"));
}
