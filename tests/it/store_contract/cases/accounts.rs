//! What an operator does to accounts: listing, disabling, revoking tokens,
//! deleting (the row stays as the anonymised sender of its messages), and
//! the messages a user sent.

use confab::core::{Device, DevicePlatform, Friendship, FriendshipStatus, Profile};
use confab::store::DynStore;

use super::{group, send, text, users};
use crate::helpers::user_id;

pub async fn users_are_listed_by_id_in_pages(s: DynStore) {
    let ids = users(&s, &["carol", "alice", "bob"]).await;
    let all = s.list_users(None, 10).await.expect("list");
    let listed: Vec<&str> = all.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(listed, ["alice", "bob", "carol"]);
    assert!(all.iter().all(|u| !u.disabled && u.deleted_at.is_none()));
    let page = s.list_users(Some(&ids[1]), 1).await.expect("page");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id.as_str(), "bob");
    assert!(
        s.list_users(Some(&ids[0]), 10)
            .await
            .expect("end")
            .is_empty()
    );
}

pub async fn users_are_searched_by_a_prefix_of_id_username_or_display_name_in_pages(s: DynStore) {
    let named = |name: &str| Profile {
        display_name: Some(name.to_owned()),
        ..Profile::default()
    };
    for (id, name) in [("u1", "Zed"), ("u2", "Alma"), ("alfa", "Bo"), ("u3", "Bea")] {
        s.upsert_user(&user_id(id), &named(name), 1)
            .await
            .expect("upsert");
    }
    s.create_password_user(&user_id("u4"), "ALbert", &Profile::default(), "hash", 1)
        .await
        .expect("password user");
    s.upsert_user(&user_id("w1"), &named("50%_off"), 1)
        .await
        .expect("upsert");
    let ids = |users: Vec<confab::core::User>| -> Vec<String> {
        users.into_iter().map(|u| u.id.to_string()).collect()
    };
    // By id, display name (any case) or username (any case), by id.
    let found = s.search_users("al", None, 10).await.expect("search");
    assert_eq!(ids(found), ["alfa", "u2", "u4"]);
    let page = s
        .search_users("AL", Some(&user_id("alfa")), 1)
        .await
        .expect("page");
    assert_eq!(ids(page), ["u2"]);
    assert_eq!(
        ids(s.search_users("b", None, 10).await.expect("search")),
        ["alfa", "u3"]
    );
    // A prefix, not a substring; wildcards are plain characters.
    assert!(
        s.search_users("ma", None, 10)
            .await
            .expect("search")
            .is_empty()
    );
    assert_eq!(
        ids(s.search_users("50%_", None, 10).await.expect("search")),
        ["w1"]
    );
    assert!(
        s.search_users("5%", None, 10)
            .await
            .expect("search")
            .is_empty()
    );
    assert!(
        s.search_users("%", None, 10)
            .await
            .expect("search")
            .is_empty()
    );
    assert!(
        s.search_users("u_", None, 10)
            .await
            .expect("search")
            .is_empty()
    );
    // The empty prefix lists everyone.
    assert_eq!(s.search_users("", None, 10).await.expect("all").len(), 6);
}

pub async fn a_user_is_disabled_and_enabled_and_an_unknown_one_is_not_found(s: DynStore) {
    let alice = users(&s, &["alice"]).await.remove(0);
    assert!(s.set_disabled(&alice, true).await.expect("disable"));
    assert!(
        s.user(&alice)
            .await
            .expect("user")
            .expect("exists")
            .disabled
    );
    assert!(s.set_disabled(&alice, false).await.expect("enable"));
    assert!(
        !s.user(&alice)
            .await
            .expect("user")
            .expect("exists")
            .disabled
    );
    assert!(
        !s.set_disabled(&user_id("nobody"), true)
            .await
            .expect("unknown")
    );
}

pub async fn tokens_are_revoked_per_user_or_for_all_and_never_moved_back(s: DynStore) {
    let ids = users(&s, &["alice", "bob"]).await;
    assert_eq!(s.revoke_tokens(Some(&ids[0]), 5_000).await.expect("one"), 1);
    let alice = s.user(&ids[0]).await.expect("user").expect("exists");
    assert_eq!(alice.tokens_valid_after, Some(5_000));
    assert_eq!(
        s.user(&ids[1])
            .await
            .expect("user")
            .expect("exists")
            .tokens_valid_after,
        None
    );
    assert_eq!(s.revoke_tokens(None, 3_000).await.expect("all"), 2);
    let after: Vec<_> = s
        .list_users(None, 10)
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.tokens_valid_after)
        .collect();
    assert_eq!(after, [Some(5_000), Some(3_000)]);
    // Users created after a revocation of all tokens are born with it.
    let carol = s
        .upsert_user(&user_id("carol"), &Profile::default(), 4_000)
        .await
        .expect("carol");
    assert_eq!(carol.tokens_valid_after, Some(3_000));
    s.ensure_users(&[user_id("dave")], 4_000)
        .await
        .expect("dave");
    let dave = s
        .user(&user_id("dave"))
        .await
        .expect("user")
        .expect("exists");
    assert_eq!(dave.tokens_valid_after, Some(3_000));
    let erin = s
        .create_password_user(&user_id("erin"), "erin", &Profile::default(), "hash", 4_000)
        .await
        .expect("erin");
    assert_eq!(erin.tokens_valid_after, Some(3_000));
    // A later revocation of all moves it on; an earlier one does not.
    s.revoke_tokens(None, 2_000).await.expect("earlier");
    let frank = s
        .upsert_user(&user_id("frank"), &Profile::default(), 4_000)
        .await
        .expect("frank");
    assert_eq!(frank.tokens_valid_after, Some(3_000));
    assert_eq!(
        s.revoke_tokens(Some(&user_id("nobody")), 1)
            .await
            .expect("none"),
        0
    );
}

pub async fn a_deleted_user_keeps_their_messages_anonymised_and_loses_the_rest(s: DynStore) {
    let ids = users(&s, &["alice", "bob"]).await;
    let (alice, bob) = (&ids[0], &ids[1]);
    s.upsert_user(
        alice,
        &Profile {
            display_name: Some("Alice".into()),
            avatar_url: Some("/a.png".into()),
            email: Some("a@x.io".into()),
        },
        2,
    )
    .await
    .expect("profile");
    let conv = group(&s, alice, std::slice::from_ref(bob), 10).await;
    let sent = send(&s, text(conv, alice, "hello", 20)).await;
    send(&s, text(conv, bob, "hi", 30)).await;
    s.add_device(&Device {
        user_id: alice.clone(),
        token: "t1".into(),
        platform: DevicePlatform::Android,
        created_at: 1,
        push_format: None,
    })
    .await
    .expect("device");
    s.put_friendship(&Friendship {
        requester: alice.clone(),
        addressee: bob.clone(),
        status: FriendshipStatus::Accepted,
        blocked_by: None,
        created_at: 1,
        updated_at: 1,
    })
    .await
    .expect("friendship");
    assert_eq!(
        s.messages_by(alice).await.expect("by alice"),
        vec![sent.clone()]
    );

    assert!(s.delete_user(alice, 100).await.expect("delete"));
    let gone = s.user(alice).await.expect("user").expect("row stays");
    assert_eq!(gone.deleted_at, Some(100));
    assert!(gone.disabled);
    assert_eq!(gone.tokens_valid_after, Some(100));
    assert_eq!(
        (
            gone.display_name,
            gone.avatar_url,
            gone.email,
            gone.username
        ),
        (None, None, None, None)
    );
    assert!(
        s.devices_of(std::slice::from_ref(alice))
            .await
            .expect("devices")
            .is_empty()
    );
    assert!(
        s.friendship(alice, bob)
            .await
            .expect("friendship")
            .is_none()
    );
    assert!(s.member(conv, alice).await.expect("member").is_none());
    assert!(s.member(conv, bob).await.expect("member").is_some());
    // The message stays, from the emptied row.
    assert_eq!(s.messages_by(alice).await.expect("kept"), vec![sent]);
    // Once only; and a deleted user is not enabled again.
    assert!(!s.delete_user(alice, 200).await.expect("again"));
    assert!(!s.set_disabled(alice, false).await.expect("enable"));
}
