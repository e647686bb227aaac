//! Delivery of domain events to sockets, and the live state that belongs to
//! connections rather than to the store: presence and typing.
//!
//! On one node the bus hands each event to every dialect's sink, which emits
//! to Socket.IO rooms of its own server.

use parking_lot::RwLock;
use std::sync::Arc;

use crate::core::event::{DomainEvent, Publisher};

pub mod presence;
pub mod typing;
pub mod viewing;

/// One dialect's renderer: turns a domain event into emits on its own sockets.
pub trait EventSink: Send + Sync + 'static {
    fn deliver(&self, event: &DomainEvent);
}

/// The in-process fan-out: every published event goes to every sink.
#[derive(Default)]
pub struct Bus {
    sinks: RwLock<Vec<Arc<dyn EventSink>>>,
}

impl Bus {
    pub fn new() -> Arc<Self> {
        Arc::new(Bus::default())
    }

    pub fn subscribe(&self, sink: Arc<dyn EventSink>) {
        self.sinks.write().push(sink);
    }
}

impl Publisher for Bus {
    fn publish(&self, event: DomainEvent) {
        for sink in self.sinks.read().iter() {
            sink.deliver(&event);
        }
    }
}

#[cfg(test)]
pub mod testing {
    use super::*;
    use parking_lot::Mutex;

    /// A publisher that records what it is given.
    #[derive(Default)]
    pub struct Recorder(pub Mutex<Vec<DomainEvent>>);

    impl Publisher for Recorder {
        fn publish(&self, event: DomainEvent) {
            self.0.lock().push(event);
        }
    }

    impl Recorder {
        pub fn take(&self) -> Vec<DomainEvent> {
            std::mem::take(&mut *self.0.lock())
        }
    }
}
