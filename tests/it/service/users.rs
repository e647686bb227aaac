//! Users: placeholders filled in by a first token, presence told to
//! contacts, device tokens.

use confab::core::event::DomainEvent;
use confab::core::{ConversationKind, DevicePlatform, ErrorCode, Profile};

use super::{direct_conversation, recorded_service};
use crate::helpers::{provisioned_actor, user_id, user_ids};

#[tokio::test]
async fn placeholder_members_are_filled_in_from_their_first_token() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    svc.create_conversation(
        &alice,
        ConversationKind::Group,
        user_ids(&["newbie"]),
        Some("g".into()),
    )
    .await
    .expect("group");
    let newbie = user_id("newbie");
    assert!(svc.user(&newbie).await.expect("placeholder").placeholder);
    let profile = Profile {
        display_name: Some("New Bie".into()),
        ..Profile::default()
    };
    let u = svc.provision(&newbie, profile).await.expect("provision");
    assert!(!u.placeholder);
    assert_eq!(u.display_name.as_deref(), Some("New Bie"));
}

#[tokio::test]
async fn presence_is_told_to_contacts_when_the_first_socket_opens_and_the_last_closes() {
    let (svc, rec) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    direct_conversation(&svc, &alice, "bob").await;
    rec.take();
    svc.connected(&bob).await;
    svc.connected(&bob).await;
    svc.disconnected(&bob).await;
    let events = rec.take();
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0], DomainEvent::Presence { online: true, audience, .. } if audience == &user_ids(&["alice"]))
    );
    svc.disconnected(&bob).await;
    assert!(matches!(
        &rec.take()[0],
        DomainEvent::Presence { online: false, .. }
    ));
    let status = svc
        .online_status(&alice, &user_ids(&["bob"]))
        .await
        .expect("status");
    assert!(!status[0].online);
    assert!(status[0].last_seen_at.is_some());
}

#[tokio::test]
async fn device_tokens_are_validated_and_removed_by_their_owner() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    for bad in ["", "has space", "tab\t", "é", &"x".repeat(4097)] {
        let err = svc
            .register_device(&alice, bad, DevicePlatform::Android)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPayload, "{bad:?}");
    }
    let d = svc
        .register_device(&alice, &"t".repeat(4096), DevicePlatform::Web)
        .await
        .expect("long token");
    assert_eq!(&d.user_id, alice.id());
    assert!(!svc.remove_device(&bob, &d.token).await.expect("not his"));
    assert!(svc.remove_device(&alice, &d.token).await.expect("hers"));
}
