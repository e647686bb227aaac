//! The core's rules, exercised through the service over a real SQLite store,
//! with every domain event it publishes recorded.

mod attachments;
mod conversations;
mod departments;
mod friendships;
mod messages;
mod rosters;
mod users;

use confab::core::command::Actor;
use confab::core::event::{DomainEvent, Publisher};
use confab::core::service::{Limits, Service};
use confab::core::{Conversation, ConversationKind};
use parking_lot::Mutex;
use std::sync::Arc;

use crate::helpers::user_ids;

/// The domain events the service published, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<DomainEvent>>);

impl Publisher for Recorder {
    fn publish(&self, event: DomainEvent) {
        self.0.lock().push(event);
    }
}

impl Recorder {
    /// The events published since the last call.
    fn take(&self) -> Vec<DomainEvent> {
        std::mem::take(&mut *self.0.lock())
    }
}

/// A service on the default limits over a fresh in-memory SQLite store, and
/// the recorder of what it publishes.
async fn recorded_service() -> (Arc<Service>, Arc<Recorder>) {
    recorded_service_with(Limits::default()).await
}

/// [`recorded_service`] on `limits`.
async fn recorded_service_with(limits: Limits) -> (Arc<Service>, Arc<Recorder>) {
    let store = confab::store::open("sqlite::memory:").await.expect("store");
    let rec = Arc::new(Recorder::default());
    (Service::new(store, rec.clone(), limits), rec)
}

/// The direct conversation of `creator` and `other`, untitled.
async fn direct_conversation(svc: &Service, creator: &Actor, other: &str) -> Conversation {
    svc.create_conversation(creator, ConversationKind::Direct, user_ids(&[other]), None)
        .await
        .expect("direct")
        .summary
        .conversation
}

/// An untitled group that `creator` made with `others`.
async fn group_conversation(svc: &Service, creator: &Actor, others: &[&str]) -> Conversation {
    svc.create_conversation(creator, ConversationKind::Group, user_ids(others), None)
        .await
        .expect("group")
        .summary
        .conversation
}
