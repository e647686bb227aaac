//! Conversations: a direct pair created once, members added and removed by
//! admins.

use confab::core::event::DomainEvent;
use confab::core::{ConversationKind, CoreError, ErrorCode, RowRef};

use super::{group_conversation, recorded_service};
use crate::helpers::{provisioned_actor, text_message, user_id, user_ids};

#[tokio::test]
async fn a_direct_conversation_is_returned_not_duplicated() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let a = svc
        .create_conversation(&alice, ConversationKind::Direct, user_ids(&["bob"]), None)
        .await
        .expect("create");
    let b = svc
        .create_conversation(
            &bob,
            ConversationKind::Direct,
            user_ids(&["alice", "bob"]),
            None,
        )
        .await
        .expect("again");
    assert!(a.created);
    assert!(!b.created);
    assert_eq!(a.summary.conversation.id, b.summary.conversation.id);
    let err = svc
        .create_conversation(&alice, ConversationKind::Direct, user_ids(&["alice"]), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
}

#[tokio::test]
async fn members_are_added_by_admins_and_removed_members_lose_access() {
    let (svc, rec) = recorded_service().await;
    let owner = provisioned_actor(&svc, "owner").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let dave = user_id("dave");
    let g = group_conversation(&svc, &owner, &["bob"]).await;
    let r = RowRef::Id(g.id);
    assert!(matches!(
        svc.add_member(&bob, r, &dave).await,
        Err(CoreError::Forbidden(_))
    ));
    let s = svc.add_member(&owner, r, &dave).await.expect("add");
    assert_eq!(s.members.len(), 3);
    svc.remove_member(&owner, r, &bob.user.id)
        .await
        .expect("remove");
    assert!(matches!(
        svc.send(&bob, r, text_message("still in?")).await,
        Err(CoreError::NotFound("conversation"))
    ));
    assert!(
        rec.take()
            .iter()
            .any(|e| matches!(e, DomainEvent::MemberRemoved { .. }))
    );
}
