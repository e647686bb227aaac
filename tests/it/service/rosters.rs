//! The conversations a send checks, kept in memory (`core::rosters`): a
//! change is refused nowhere late. On one node, and on a second node that
//! shares the store and hears the first one's events through its bus as a
//! cluster delivers them (serialised, handed over as another node's).

use std::sync::Arc;

use confab::core::event::DomainEvent;
use confab::core::service::{Limits, Service};
use confab::core::{ConversationKind, CoreError, RowRef};
use confab::fanout::{Bus, RosterSink};

use super::{direct_conversation, group_conversation, recorded_service};
use crate::helpers::{provisioned_actor, text_message};

/// Two nodes over one store: every event published on `a` reaches `b`'s
/// bus as a remote event, as Redis hands it over (JSON there and back).
async fn two_nodes() -> (Arc<Service>, Arc<Service>) {
    let store = confab::store::open("sqlite::memory:").await.expect("store");
    let (bus_a, bus_b) = (Bus::new(), Bus::new());
    let a = Service::new(store.clone(), bus_a.clone(), Limits::default());
    let b = Service::new(store, bus_b.clone(), Limits::default());
    bus_b.subscribe(Arc::new(RosterSink(b.rosters().clone())));
    let to_b = bus_b.clone();
    bus_a.link(Box::new(move |event: DomainEvent| {
        let wire = serde_json::to_vec(&event).expect("serialise");
        let event: DomainEvent = serde_json::from_slice(&wire).expect("deserialise");
        to_b.deliver_remote(&event);
    }));
    (a, b)
}

#[tokio::test]
async fn a_removed_member_is_refused_at_once_though_the_conversation_was_kept() {
    let (svc, _) = recorded_service().await;
    let owner = provisioned_actor(&svc, "owner").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let g = group_conversation(&svc, &owner, &["bob"]).await;
    let r = RowRef::Id(g.id);
    svc.send(&bob, r, text_message("in"))
        .await
        .expect("a member");
    assert!(!svc.rosters().is_empty(), "kept after the first send");
    svc.remove_member(&owner, r, &bob.user.id)
        .await
        .expect("remove");
    assert!(matches!(
        svc.send(&bob, RowRef::Uuid(g.uuid), text_message("still in?"))
            .await,
        Err(CoreError::NotFound("conversation"))
    ));
}

#[tokio::test]
async fn a_member_removed_on_one_node_is_refused_at_once_on_another() {
    let (a, b) = two_nodes().await;
    let owner = provisioned_actor(&a, "owner").await;
    let bob = provisioned_actor(&b, "bob").await;
    let g = group_conversation(&a, &owner, &["bob"]).await;
    let r = RowRef::Uuid(g.uuid);
    b.send(&bob, r, text_message("in")).await.expect("a member");
    b.send(&bob, r, text_message("again"))
        .await
        .expect("from memory");
    a.remove_member(&owner, r, &bob.user.id)
        .await
        .expect("removed on node A");
    assert!(matches!(
        b.send(&bob, r, text_message("still in?")).await,
        Err(CoreError::NotFound("conversation"))
    ));
}

#[tokio::test]
async fn a_member_added_on_one_node_may_send_at_once_on_another() {
    let (a, b) = two_nodes().await;
    let owner = provisioned_actor(&a, "owner").await;
    let bob = provisioned_actor(&b, "bob").await;
    let carol = provisioned_actor(&b, "carol").await;
    let g = group_conversation(&a, &owner, &["bob"]).await;
    let r = RowRef::Id(g.id);
    b.send(&bob, r, text_message("in")).await.expect("a member");
    assert!(matches!(
        b.send(&carol, r, text_message("not yet")).await,
        Err(CoreError::NotFound("conversation"))
    ));
    a.add_member(&owner, r, carol.id())
        .await
        .expect("added on node A");
    let sent = b
        .send(&carol, r, text_message("now"))
        .await
        .expect("a member now");
    assert!(sent.1);
}

#[tokio::test]
async fn a_block_on_one_node_stops_the_pair_at_once_on_another_and_an_unblock_lets_it_go() {
    let (a, b) = two_nodes().await;
    let alice = provisioned_actor(&a, "alice").await;
    let bob = provisioned_actor(&b, "bob").await;
    let d = direct_conversation(&a, &alice, "bob").await;
    assert_eq!(d.kind, ConversationKind::Direct);
    let r = RowRef::Id(d.id);
    b.send(&bob, r, text_message("hi"))
        .await
        .expect("not blocked");
    a.block(&alice, bob.id()).await.expect("blocked on node A");
    assert!(matches!(
        b.send(&bob, r, text_message("hello?")).await,
        Err(CoreError::Forbidden(_))
    ));
    a.unblock(&alice, bob.id())
        .await
        .expect("unblocked on node A");
    b.send(&bob, r, text_message("hi again"))
        .await
        .expect("unblocked");
}

#[tokio::test]
async fn a_node_that_may_have_missed_events_forgets_every_conversation() {
    let (a, b) = two_nodes().await;
    let owner = provisioned_actor(&a, "owner").await;
    let g = group_conversation(&a, &owner, &["bob"]).await;
    b.send(&owner, RowRef::Id(g.id), text_message("in"))
        .await
        .expect("member");
    assert_eq!(b.rosters().len(), 1);
    let bus = Bus::new();
    bus.subscribe(Arc::new(RosterSink(b.rosters().clone())));
    bus.missed();
    assert!(b.rosters().is_empty());
}
