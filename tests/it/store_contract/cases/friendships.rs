//! Friendships: one row per unordered pair.

use confab::core::{Friendship, FriendshipStatus, Millis, UserId};
use confab::store::DynStore;

use super::users;
use crate::helpers::user_id;

fn friendship(
    requester: &UserId,
    addressee: &UserId,
    status: FriendshipStatus,
    at: Millis,
) -> Friendship {
    Friendship {
        requester: requester.clone(),
        addressee: addressee.clone(),
        status,
        blocked_by: (status == FriendshipStatus::Blocked).then(|| requester.clone()),
        created_at: at,
        updated_at: at,
    }
}

pub async fn a_friendship_is_one_row_per_unordered_pair(s: DynStore) {
    let ids = users(&s, &["bob", "alice", "carol"]).await;
    let (bob, alice, carol) = (&ids[0], &ids[1], &ids[2]);
    assert!(s.friendship(bob, alice).await.expect("none").is_none());

    let pending = friendship(bob, alice, FriendshipStatus::Pending, 10);
    s.put_friendship(&pending).await.expect("put");
    assert_eq!(
        s.friendship(bob, alice).await.expect("get"),
        Some(pending.clone())
    );
    assert_eq!(
        s.friendship(alice, bob).await.expect("get reversed"),
        Some(pending.clone())
    );

    // A new request the other way round replaces the row, not adds one.
    let rejected = Friendship {
        status: FriendshipStatus::Rejected,
        updated_at: 20,
        ..pending.clone()
    };
    s.put_friendship(&rejected).await.expect("reject");
    let renewed = friendship(alice, bob, FriendshipStatus::Pending, 30);
    s.put_friendship(&renewed).await.expect("swap");
    assert_eq!(
        s.friendship(bob, alice).await.expect("get"),
        Some(renewed.clone())
    );
    assert_eq!(
        s.friendships_of(bob).await.expect("of bob"),
        vec![renewed.clone()]
    );

    let blocked = Friendship {
        status: FriendshipStatus::Blocked,
        blocked_by: Some(bob.clone()),
        updated_at: 40,
        ..renewed.clone()
    };
    s.put_friendship(&blocked).await.expect("block");
    assert_eq!(
        s.friendship(alice, bob).await.expect("get"),
        Some(blocked.clone())
    );

    let other = friendship(carol, alice, FriendshipStatus::Accepted, 50);
    s.put_friendship(&other).await.expect("carol");
    // Most recently updated first, from either side of the pair.
    assert_eq!(
        s.friendships_of(alice).await.expect("of alice"),
        vec![other.clone(), blocked.clone()]
    );
    assert_eq!(
        s.friendships_of(carol).await.expect("of carol"),
        vec![other]
    );

    assert!(s.delete_friendship(alice, bob).await.expect("delete"));
    assert!(!s.delete_friendship(bob, alice).await.expect("delete again"));
    assert!(s.friendship(bob, alice).await.expect("gone").is_none());
    assert_eq!(s.friendships_of(bob).await.expect("of bob"), vec![]);
}

pub async fn a_friendship_with_an_unknown_user_provisions_a_placeholder(s: DynStore) {
    let alice = users(&s, &["alice"]).await.remove(0);
    let ghost = user_id("ghost");
    let f = friendship(&alice, &ghost, FriendshipStatus::Blocked, 10);
    s.put_friendship(&f).await.expect("put");
    let u = s.user(&ghost).await.expect("user").expect("placeholder");
    assert!(u.placeholder);
    assert_eq!(s.friendship(&ghost, &alice).await.expect("get"), Some(f));
}
