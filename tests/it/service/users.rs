//! Users: placeholders filled in by a first token, presence (who is told,
//! who may ask, the grace before offline), device tokens.

use std::time::Duration;

use confab::core::event::DomainEvent;
use confab::core::presence::Visibility;
use confab::core::service::Limits;
use confab::core::{ConversationKind, DevicePlatform, ErrorCode, Profile};

use super::{direct_conversation, recorded_service, recorded_service_with};
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
    svc.flush_presence().await;
    rec.take();
    svc.connected(&bob).await;
    svc.connected(&bob).await;
    svc.disconnected(&bob).await;
    svc.flush_presence().await;
    let events = rec.take();
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0], DomainEvent::Presence { online: true, audience, .. } if audience == &user_ids(&["alice"]))
    );
    svc.disconnected(&bob).await;
    svc.flush_presence().await;
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

/// The presence events among `events`: (user, online, everyone, audience).
fn presence_of(events: &[DomainEvent]) -> Vec<(String, bool, bool, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::Presence {
                user,
                online,
                everyone,
                audience,
                ..
            } => Some((
                user.to_string(),
                *online,
                *everyone,
                audience.iter().map(ToString::to_string).collect(),
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn by_default_everyone_hears_of_presence_and_may_ask_for_it() {
    let (svc, rec) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let stranger = provisioned_actor(&svc, "stranger").await;
    direct_conversation(&svc, &alice, "bob").await;
    svc.flush_presence().await;
    rec.take();
    svc.connected(&alice).await;
    svc.flush_presence().await;
    assert_eq!(
        presence_of(&rec.take()),
        [("alice".into(), true, true, vec!["bob".into()])],
        "to everyone; the contacts are the audience still (V Chat's rooms)"
    );
    let s = svc
        .online_status(&stranger, &user_ids(&["alice", "nobody"]))
        .await
        .expect("status");
    assert!(s[0].online, "a stranger sees her online");
    assert!(s[0].last_seen_at.is_some());
    assert!(!s[1].online);
}

#[tokio::test]
async fn with_contacts_only_those_sharing_a_conversation_or_a_friendship_see_presence() {
    // Each change told at once: an arrival and a departure in one window
    // would cancel out.
    let limits = Limits {
        presence: Visibility::Contacts,
        offline_grace: Duration::ZERO,
        presence_window: Duration::ZERO,
        ..Limits::default()
    };
    let (svc, rec) = recorded_service_with(limits).await;
    let alice = provisioned_actor(&svc, "alice").await;
    let friend = provisioned_actor(&svc, "friend").await;
    let asked = provisioned_actor(&svc, "asked").await;
    let stranger = provisioned_actor(&svc, "stranger").await;
    direct_conversation(&svc, &alice, "bob").await;
    svc.request_friendship(&alice, friend.id())
        .await
        .expect("ask");
    svc.respond_friendship(&friend, alice.id(), true)
        .await
        .expect("accept");
    // A request not (yet) accepted makes no contact.
    svc.request_friendship(&alice, asked.id())
        .await
        .expect("ask");
    rec.take();
    svc.connected(&alice).await;
    svc.disconnected(&alice).await;
    let told = presence_of(&rec.take());
    let contacts: Vec<String> = vec!["bob".into(), "friend".into()];
    assert_eq!(
        told,
        [
            ("alice".into(), true, false, contacts.clone()),
            ("alice".into(), false, false, contacts),
        ]
    );
    svc.connected(&alice).await;
    for (who, sees) in [(&friend, true), (&asked, false), (&stranger, false)] {
        let s = svc
            .online_status(who, &user_ids(&["alice"]))
            .await
            .expect("status");
        assert_eq!(s[0].online, sees, "{}", who.id());
        assert_eq!(s[0].last_seen_at.is_some(), sees, "{}", who.id());
    }
    svc.connected(&stranger).await;
    let own = svc
        .online_status(&stranger, &user_ids(&["stranger"]))
        .await
        .expect("own status");
    assert!(own[0].online, "a user sees themself");
}

#[tokio::test]
async fn a_socket_back_within_the_grace_is_neither_a_departure_nor_an_arrival() {
    let grace = Duration::from_millis(400);
    let limits = Limits {
        offline_grace: grace,
        ..Limits::default()
    };
    let (svc, rec) = recorded_service_with(limits).await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    svc.connected(&bob).await;
    svc.flush_presence().await;
    rec.take();
    // A reload: the socket closes and another opens within the grace.
    let closing = tokio::spawn({
        let (svc, bob) = (svc.clone(), bob.clone());
        async move { svc.disconnected(&bob).await }
    });
    tokio::time::sleep(grace / 4).await;
    let status = svc
        .online_status(&alice, &user_ids(&["bob"]))
        .await
        .expect("status");
    assert!(status[0].online, "online within the grace");
    svc.connected(&bob).await;
    closing.await.expect("settled");
    svc.flush_presence().await;
    assert_eq!(presence_of(&rec.take()), [], "no offline, no online");
    // The last socket closes for good: offline after the grace, last seen
    // when it closed.
    let closed_at = confab::core::now_millis();
    let started = tokio::time::Instant::now();
    svc.disconnected(&bob).await;
    assert!(started.elapsed() >= grace);
    svc.flush_presence().await;
    let events = rec.take();
    assert_eq!(presence_of(&events).len(), 1);
    let Some(DomainEvent::Presence {
        online: false, at, ..
    }) = events.first()
    else {
        panic!("offline: {events:?}");
    };
    assert!(
        *at >= closed_at && *at < closed_at + 200,
        "at {at}, closed {closed_at}"
    );
    let status = svc
        .online_status(&alice, &user_ids(&["bob"]))
        .await
        .expect("status");
    assert!(!status[0].online);
    assert_eq!(status[0].last_seen_at, Some(*at));
}

#[tokio::test]
async fn device_tokens_are_validated_and_removed_by_their_owner() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    for bad in ["", "has space", "tab\t", "é", &"x".repeat(4097)] {
        let err = svc
            .register_device(&alice, bad, DevicePlatform::Android, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPayload, "{bad:?}");
    }
    let d = svc
        .register_device(&alice, &"t".repeat(4096), DevicePlatform::Web, None)
        .await
        .expect("long token");
    assert_eq!(&d.user_id, alice.id());
    assert!(!svc.remove_device(&bob, &d.token).await.expect("not his"));
    assert!(svc.remove_device(&alice, &d.token).await.expect("hers"));
}
