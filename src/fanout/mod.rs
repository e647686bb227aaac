//! Delivery of domain events to sockets: the [`Bus`], the core's
//! [`Publisher`].
//!
//! The bus hands each event published on this node to every sink (each
//! dialect's renderer, which emits to its own Socket.IO rooms, and push). In
//! a cluster it also sends the event to the other nodes ([`cluster`]) and
//! hands theirs to the sinks here, marked [`Origin::Remote`]: every node
//! renders every event for its own sockets. [`cluster`] also implements the
//! core's other cluster ports on Redis: the claims behind presence and
//! viewing, and the shared rate counter.

use parking_lot::RwLock;
use std::sync::{Arc, OnceLock};

use crate::core::event::{DomainEvent, Publisher};
use crate::core::rosters::Rosters;

pub mod cluster;

/// Where an event was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// On this node: its side effects (push) are this node's to do.
    Here,
    /// On another node of the cluster, which does its side effects.
    Remote,
}

/// Something that acts on domain events: a dialect's renderer, push.
pub trait EventSink: Send + Sync + 'static {
    fn deliver(&self, event: &DomainEvent, origin: Origin);

    /// Events of other nodes may have been missed: the link to them was
    /// lost, or fell behind.
    fn missed(&self) {}
}

/// The fan-out: every published event goes to every sink, and to the other
/// nodes once linked.
#[derive(Default)]
pub struct Bus {
    sinks: RwLock<Vec<Arc<dyn EventSink>>>,
    cluster: OnceLock<Forward>,
}

/// Sends an event published here to the other nodes.
pub type Forward = Box<dyn Fn(DomainEvent) + Send + Sync>;

impl Bus {
    pub fn new() -> Arc<Self> {
        Arc::new(Bus::default())
    }

    pub fn subscribe(&self, sink: Arc<dyn EventSink>) {
        self.sinks.write().push(sink);
    }

    /// From now on, published events are also handed to `forward`.
    pub fn link(&self, forward: Forward) {
        let _ = self.cluster.set(forward);
    }

    /// An event another node published (or one this node made up about
    /// another node's state, such as an expired typing indicator).
    pub fn deliver_remote(&self, event: &DomainEvent) {
        self.deliver(event, Origin::Remote);
    }

    fn deliver(&self, event: &DomainEvent, origin: Origin) {
        for sink in self.sinks.read().iter() {
            sink.deliver(event, origin);
        }
    }

    /// Tells the sinks that events of other nodes may have been missed.
    pub fn missed(&self) {
        for sink in self.sinks.read().iter() {
            sink.missed();
        }
    }
}

/// Drops from the core's rosters what other nodes' events change (this
/// node's own events drop it as they are published), and everything when
/// their events may have been missed.
pub struct RosterSink(pub Arc<Rosters>);

impl EventSink for RosterSink {
    fn deliver(&self, event: &DomainEvent, origin: Origin) {
        if origin == Origin::Remote {
            self.0.changed(event);
        }
    }

    fn missed(&self) {
        self.0.clear();
    }
}

impl Publisher for Bus {
    fn publish(&self, event: DomainEvent) {
        self.deliver(&event, Origin::Here);
        if let Some(forward) = self.cluster.get() {
            forward(event);
        }
    }
}
