//! Friendships: requests and answers, blocks, the friends list.

use confab::core::event::DomainEvent;
use confab::core::{CoreError, ErrorCode, FriendshipStatus, RowRef};

use super::{Recorder, direct_conversation, group_conversation, recorded_service};
use crate::helpers::{provisioned_actor, text_message};

fn friendship_events(rec: &Recorder) -> Vec<FriendshipStatus> {
    rec.take()
        .into_iter()
        .filter_map(|e| match e {
            DomainEvent::FriendshipChanged { friendship } => Some(friendship.status),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_request_answered_by_a_request_the_other_way_is_accepted() {
    let (svc, rec) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let f = svc
        .request_friendship(&alice, bob.id())
        .await
        .expect("request");
    assert_eq!(f.status, FriendshipStatus::Pending);
    assert_eq!(&f.requester, alice.id());
    // Asking again changes nothing and tells nobody.
    svc.request_friendship(&alice, bob.id())
        .await
        .expect("again");
    let f = svc
        .request_friendship(&bob, alice.id())
        .await
        .expect("back");
    assert_eq!(f.status, FriendshipStatus::Accepted);
    assert_eq!(
        friendship_events(&rec),
        vec![FriendshipStatus::Pending, FriendshipStatus::Accepted]
    );
    let err = svc
        .request_friendship(&alice, alice.id())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
}

#[tokio::test]
async fn only_the_addressee_answers_a_friend_request() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let carol = provisioned_actor(&svc, "carol").await;
    svc.request_friendship(&alice, bob.id())
        .await
        .expect("request");
    let err = svc
        .respond_friendship(&alice, bob.id(), true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    let err = svc
        .respond_friendship(&carol, alice.id(), true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    let f = svc
        .respond_friendship(&bob, alice.id(), false)
        .await
        .expect("reject");
    assert_eq!(f.status, FriendshipStatus::Rejected);
    // After a rejection either may ask again.
    let f = svc
        .request_friendship(&bob, alice.id())
        .await
        .expect("ask again");
    assert_eq!(
        (f.status, &f.requester),
        (FriendshipStatus::Pending, bob.id())
    );
    let f = svc
        .respond_friendship(&alice, bob.id(), true)
        .await
        .expect("accept");
    assert_eq!(f.status, FriendshipStatus::Accepted);
    assert_eq!(
        svc.friendship_between(&bob, alice.id()).await.expect("get"),
        Some(f)
    );
}

#[tokio::test]
async fn a_block_stops_direct_messages_both_ways_until_the_blocker_unblocks() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let g = group_conversation(&svc, &alice, &["bob"]).await;
    svc.send(&bob, RowRef::Id(c.id), text_message("before"))
        .await
        .expect("before");

    // No friendship needed to block.
    let f = svc.block(&alice, bob.id()).await.expect("block");
    assert_eq!(f.status, FriendshipStatus::Blocked);
    assert_eq!(f.blocked_by.as_ref(), Some(alice.id()));
    for who in [&alice, &bob] {
        let err = svc
            .send(who, RowRef::Id(c.id), text_message("blocked"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::Forbidden("messages between these users are blocked")
            ),
            "{err:?}"
        );
    }
    // Groups are not affected.
    svc.send(&bob, RowRef::Id(g.id), text_message("group"))
        .await
        .expect("group message");
    // A blocked pair cannot be befriended, and only the blocker unblocks.
    let err = svc.request_friendship(&bob, alice.id()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    let err = svc.unblock(&bob, alice.id()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);

    svc.unblock(&alice, bob.id()).await.expect("unblock");
    assert_eq!(
        svc.friendship_between(&alice, bob.id())
            .await
            .expect("none"),
        None
    );
    svc.send(&bob, RowRef::Id(c.id), text_message("after"))
        .await
        .expect("after");
    let err = svc.unblock(&alice, bob.id()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn friends_are_listed_with_their_direct_conversation_if_any() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let carol = provisioned_actor(&svc, "carol").await;
    let dave = provisioned_actor(&svc, "dave").await;
    for other in [&bob, &carol, &dave] {
        svc.request_friendship(&alice, other.id())
            .await
            .expect("request");
    }
    svc.respond_friendship(&bob, alice.id(), true)
        .await
        .expect("bob accepts");
    svc.respond_friendship(&carol, alice.id(), true)
        .await
        .expect("carol accepts");
    let c = direct_conversation(&svc, &alice, "bob").await;
    let mut friends = svc.friends_with_chats(&alice).await.expect("friends");
    friends.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let got: Vec<(&str, Option<i64>)> = friends
        .iter()
        .map(|(_, u, chat)| (u.id.as_str(), chat.as_ref().map(|c| c.id)))
        .collect();
    assert_eq!(got, vec![("bob", Some(c.id)), ("carol", None)]);
    assert_eq!(svc.friendships(&alice).await.expect("all").len(), 3);
    // Listing created no conversation.
    assert!(svc.conversations(&carol).await.expect("convs").is_empty());
}
