//! Users: profiles, placeholders, passwords, last seen.

use confab::core::Profile;
use confab::core::error::StoreError;
use confab::store::DynStore;

use super::{profile, users};
use crate::helpers::user_id;

pub async fn the_store_answers_a_ping(s: DynStore) {
    s.ping().await.expect("ping");
}

pub async fn upsert_creates_then_refreshes_profile_and_keeps_unspecified_fields(s: DynStore) {
    let alice = user_id("alice");
    let created = s
        .upsert_user(&alice, &profile(Some("Alice"), Some("/a.png"), None), 1_000)
        .await
        .expect("create");
    assert_eq!(created.id, alice);
    assert_eq!(created.display_name.as_deref(), Some("Alice"));
    assert_eq!(created.avatar_url.as_deref(), Some("/a.png"));
    assert_eq!(created.email, None);
    assert_eq!(created.username, None);
    assert!(!created.placeholder);
    assert_eq!(created.created_at, 1_000);
    assert_eq!(created.last_seen_at, None);

    let refreshed = s
        .upsert_user(
            &alice,
            &profile(Some("Alice B"), None, Some("a@x.io")),
            2_000,
        )
        .await
        .expect("refresh");
    assert_eq!(refreshed.display_name.as_deref(), Some("Alice B"));
    assert_eq!(refreshed.avatar_url.as_deref(), Some("/a.png"));
    assert_eq!(refreshed.email.as_deref(), Some("a@x.io"));
    assert_eq!(refreshed.created_at, 1_000);

    let stored = s.user(&alice).await.expect("user").expect("exists");
    assert_eq!(stored, refreshed);
}

pub async fn last_seen_is_recorded(s: DynStore) {
    let alice = users(&s, &["alice"]).await.remove(0);
    s.set_last_seen(&alice, 5_000).await.expect("last seen");
    let u = s.user(&alice).await.expect("user").expect("exists");
    assert_eq!(u.last_seen_at, Some(5_000));
    // An unknown user is no error.
    s.set_last_seen(&user_id("nobody"), 5_000)
        .await
        .expect("unknown");
}

pub async fn placeholders_are_filled_by_the_first_upsert(s: DynStore) {
    let (bob, carol) = (user_id("bob"), user_id("carol"));
    s.ensure_users(&[bob.clone(), carol.clone(), bob.clone()], 100)
        .await
        .expect("ensure");
    let b = s.user(&bob).await.expect("user").expect("placeholder");
    assert!(b.placeholder);
    assert_eq!(b.display_name, None);
    assert_eq!(b.created_at, 100);

    let full = s
        .upsert_user(&bob, &profile(Some("Bob"), None, None), 200)
        .await
        .expect("upsert");
    assert!(!full.placeholder);
    assert_eq!(full.display_name.as_deref(), Some("Bob"));
    assert_eq!(full.created_at, 100);

    // Existing users are untouched by ensure_users.
    s.ensure_users(std::slice::from_ref(&bob), 300)
        .await
        .expect("ensure again");
    assert_eq!(s.user(&bob).await.expect("user"), Some(full));
    s.ensure_users(&[], 300).await.expect("ensure nothing");

    let mut found = s
        .users(&[bob.clone(), carol.clone(), user_id("nobody")])
        .await
        .expect("users");
    found.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        found.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
        vec![bob, carol.clone()]
    );
    assert!(found[1].placeholder);
    assert!(s.users(&[]).await.expect("no users").is_empty());
}

pub async fn password_user_conflicts_on_username_case_insensitively(s: DynStore) {
    let (u1, u2) = (user_id("u1"), user_id("u2"));
    let user = s
        .create_password_user(&u1, "Alice", &profile(Some("Al"), None, None), "hash1", 10)
        .await
        .expect("register");
    assert_eq!(user.username.as_deref(), Some("Alice"));
    assert_eq!(user.display_name.as_deref(), Some("Al"));
    assert!(!user.placeholder);

    let taken = s
        .create_password_user(&u2, "aLICE", &Profile::default(), "hash2", 11)
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let same_id = s
        .create_password_user(&u1, "other", &Profile::default(), "hash3", 12)
        .await;
    assert!(
        matches!(same_id, Err(StoreError::Conflict(_))),
        "{same_id:?}"
    );
    assert_eq!(s.user(&u2).await.expect("user"), None);

    let creds = s
        .credentials("ALICE")
        .await
        .expect("credentials")
        .expect("found");
    assert_eq!(creds.user, user);
    assert_eq!(creds.password_hash, "hash1");
    assert!(s.credentials("bob").await.expect("credentials").is_none());

    // A token user without a password has no credentials.
    s.upsert_user(&user_id("tok"), &Profile::default(), 13)
        .await
        .expect("upsert");
    assert!(s.credentials("tok").await.expect("credentials").is_none());
}

pub async fn a_user_is_found_by_username_then_by_email(s: DynStore) {
    let (u1, u2, u3) = (user_id("u1"), user_id("u2"), user_id("u3"));
    let by_name = s
        .create_password_user(&u1, "Alice@x.io", &Profile::default(), "hash", 10)
        .await
        .expect("register");
    // Another user whose email is that login name: the username wins.
    s.upsert_user(&u2, &profile(None, None, Some("alice@x.io")), 20)
        .await
        .expect("u2");
    s.upsert_user(&u3, &profile(None, None, Some("carol@x.io")), 30)
        .await
        .expect("u3");
    let found = |login: &'static str| {
        let s = s.clone();
        async move { s.user_by_login(login).await.expect("lookup").map(|u| u.id) }
    };
    assert_eq!(found("ALICE@x.io").await, Some(by_name.id.clone()));
    assert_eq!(found("alice@x.io").await, Some(by_name.id));
    assert_eq!(found("carol@x.io").await, Some(u3));
    assert_eq!(found("nobody@x.io").await, None);
    assert_eq!(found("u2").await, None, "not by id");
}
