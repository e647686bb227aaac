//! Device tokens of push notifications, and uploads.

use confab::core::error::StoreError;
use confab::core::{Device, DevicePlatform, MessageKind, Upload, UserId};
use confab::store::DynStore;

use super::users;

pub async fn a_device_token_belongs_to_one_user(s: DynStore) {
    let ids = users(&s, &["alice", "bob"]).await;
    let (alice, bob) = (&ids[0], &ids[1]);
    let dev = |user: &UserId, token: &str, platform, at| Device {
        user_id: user.clone(),
        token: token.to_owned(),
        platform,
        created_at: at,
        push_format: None,
    };
    s.add_device(&dev(alice, "t1", DevicePlatform::Android, 1))
        .await
        .expect("t1");
    s.add_device(&dev(alice, "t2", DevicePlatform::Web, 2))
        .await
        .expect("t2");
    s.add_device(&dev(bob, "t3", DevicePlatform::Ios, 3))
        .await
        .expect("t3");
    let mut all = s
        .devices_of(&[alice.clone(), bob.clone()])
        .await
        .expect("devices");
    all.sort_by(|a, b| a.token.cmp(&b.token));
    assert_eq!(
        all,
        vec![
            dev(alice, "t1", DevicePlatform::Android, 1),
            dev(alice, "t2", DevicePlatform::Web, 2),
            dev(bob, "t3", DevicePlatform::Ios, 3),
        ]
    );

    // A push format is kept, and replaced when the token is registered
    // again.
    let app = Device {
        push_format: Some("vchat".into()),
        ..dev(bob, "t4", DevicePlatform::Android, 5)
    };
    s.add_device(&app).await.expect("t4");
    let stored = |d: Vec<Device>, token: &str| d.into_iter().find(|d| d.token == token);
    assert_eq!(
        stored(
            s.devices_of(std::slice::from_ref(bob)).await.expect("bob"),
            "t4"
        ),
        Some(app.clone())
    );
    s.add_device(&dev(bob, "t4", DevicePlatform::Android, 6))
        .await
        .expect("t4 again");
    assert_eq!(
        stored(
            s.devices_of(std::slice::from_ref(bob)).await.expect("bob"),
            "t4"
        ),
        Some(dev(bob, "t4", DevicePlatform::Android, 6))
    );
    assert!(s.remove_device(bob, "t4").await.expect("t4 removed"));

    // Registering a token again moves it to the new user.
    s.add_device(&dev(bob, "t1", DevicePlatform::Ios, 4))
        .await
        .expect("move");
    let alices = s
        .devices_of(std::slice::from_ref(alice))
        .await
        .expect("alice");
    assert_eq!(alices, vec![dev(alice, "t2", DevicePlatform::Web, 2)]);
    assert_eq!(
        s.devices_of(std::slice::from_ref(bob))
            .await
            .expect("bob")
            .len(),
        2
    );

    // A user removes only their own tokens.
    assert!(!s.remove_device(alice, "t1").await.expect("not hers"));
    assert!(s.remove_device(bob, "t1").await.expect("his"));
    assert!(!s.remove_device(bob, "t1").await.expect("again"));
    // The push service reports a dead token: gone whoever had it.
    assert!(s.remove_device_token("t2").await.expect("dead"));
    assert!(!s.remove_device_token("t2").await.expect("again"));
    assert!(
        s.devices_of(std::slice::from_ref(alice))
            .await
            .expect("alice")
            .is_empty()
    );
    assert!(s.devices_of(&[]).await.expect("nobody").is_empty());
}

pub async fn uploads_are_recorded_once_by_path(s: DynStore) {
    let alice = users(&s, &["alice"]).await.remove(0);
    let up = Upload {
        path: "/uploads/chat-messages/images/abc.webp".into(),
        owner: alice.clone(),
        kind: MessageKind::Image,
        content_type: "image/webp".into(),
        size: 1234,
        created_at: 10,
    };
    assert!(s.upload(&up.path).await.expect("none").is_none());
    s.record_upload(&up).await.expect("record");
    assert_eq!(s.upload(&up.path).await.expect("get"), Some(up.clone()));
    let again = s.record_upload(&up).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}
