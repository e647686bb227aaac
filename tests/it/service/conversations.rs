//! Conversations: a direct pair created once, members added and removed by
//! admins, roles and titles changed by them, mute toggled by a member, a room
//! opened (its viewers told), typing in it.

use confab::core::command::{Command, Outcome, RoomTarget};
use confab::core::event::DomainEvent;
use confab::core::{ConversationKind, CoreError, ErrorCode, Role, RowRef};

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

#[tokio::test]
async fn roles_and_titles_change_by_admins_and_tell_who_sees_the_change() {
    let (svc, rec) = recorded_service().await;
    let owner = provisioned_actor(&svc, "owner").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let carol = provisioned_actor(&svc, "carol").await;
    let g = group_conversation(&svc, &owner, &["bob", "carol"]).await;
    let r = RowRef::Id(g.id);
    rec.take();
    assert!(matches!(
        svc.set_role(&bob, r, &carol.user.id, Role::Admin).await,
        Err(CoreError::Forbidden(_))
    ));
    assert!(matches!(
        svc.set_title(&bob, r, "Mine").await,
        Err(CoreError::Forbidden(_))
    ));
    assert!(rec.take().is_empty(), "nothing changed, nothing told");

    svc.set_role(&owner, r, &bob.user.id, Role::Admin)
        .await
        .expect("promote");
    let told = rec.take();
    assert!(
        matches!(&told[..], [DomainEvent::RoomChanged { audience, .. }] if *audience == vec![bob.user.id.clone()]),
        "{told:?}"
    );
    svc.set_title(&bob, r, "Renamed")
        .await
        .expect("an admin renames");
    let told = rec.take();
    assert!(
        matches!(&told[..], [DomainEvent::RoomChanged { audience, .. }] if audience.len() == 3),
        "{told:?}"
    );
    let c = svc.conversation(&carol, r).await.expect("carol's view");
    assert_eq!(c.conversation.title.as_deref(), Some("Renamed"));
    assert!(svc.toggle_muted(&carol, r).await.expect("mute"));
    assert!(!svc.toggle_muted(&carol, r).await.expect("unmute"));
}

#[tokio::test]
async fn opening_a_room_tells_its_viewers_who_came_in() {
    let (svc, rec) = recorded_service().await;
    provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let opened = svc
        .execute(
            &bob,
            Command::OpenRoom {
                target: RoomTarget::Peer(user_id("alice")),
            },
        )
        .await
        .expect("open");
    let Outcome::RoomOpened { view, .. } = opened else {
        panic!("{opened:?}")
    };
    let chat = view.summary.conversation.id;
    let entered: Vec<_> = rec
        .take()
        .into_iter()
        .filter_map(|e| match e {
            DomainEvent::RoomEntered {
                conversation,
                member,
                user,
                members,
            } => Some((conversation.id, member.user_id, user, members.len())),
            _ => None,
        })
        .collect();
    assert_eq!(entered, vec![(chat, user_id("bob"), bob.user.clone(), 2)]);
    // A non-member opens nothing, and nobody hears of it.
    let mallory = provisioned_actor(&svc, "mallory").await;
    let err = svc
        .execute(
            &mallory,
            Command::OpenRoom {
                target: RoomTarget::Conversation(RowRef::Id(chat)),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert!(rec.take().is_empty());
}

#[tokio::test]
async fn typing_carries_the_name_the_client_gave() {
    let (svc, rec) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let c = svc
        .create_conversation(&alice, ConversationKind::Direct, user_ids(&["bob"]), None)
        .await
        .expect("direct")
        .summary
        .conversation;
    let typing = |typing: bool, name: Option<&str>| Command::Typing {
        conversation: RowRef::Id(c.id).into(),
        typing,
        recording: false,
        name: name.map(str::to_owned),
    };
    let names = |events: Vec<DomainEvent>| -> Vec<(bool, Option<String>)> {
        events
            .into_iter()
            .filter_map(|e| match e {
                DomainEvent::Typing { typing, name, .. } => Some((typing, name)),
                _ => None,
            })
            .collect()
    };
    svc.execute(&alice, typing(true, Some(" John Doe ")))
        .await
        .expect("start");
    svc.execute(&alice, typing(false, Some("John Doe")))
        .await
        .expect("stop");
    assert_eq!(
        names(rec.take()),
        vec![
            (true, Some("John Doe".to_owned())),
            (false, Some("John Doe".to_owned()))
        ]
    );
    // A blank name is none; a bad one is refused and nothing is told.
    svc.execute(&alice, typing(true, Some("  ")))
        .await
        .expect("blank");
    assert_eq!(names(rec.take()), vec![(true, None)]);
    for bad in ["x".repeat(101), "a\u{0}b".to_owned()] {
        let err = svc
            .execute(&alice, typing(true, Some(&bad)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPayload);
    }
    assert!(names(rec.take()).is_empty());
}
