//! How many sockets a namespace has on this node: its dialect renders
//! nothing for an event while nobody there could receive it (a listener
//! whose clients are all elsewhere costs no work per message).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub(super) struct Audience(AtomicUsize);

impl Audience {
    /// Counts a socket from its handshake on, until the returned
    /// [`Present`] is dropped (when its close has been handled, or with the
    /// socket if it never got that far).
    pub(super) fn enter(self: &Arc<Self>) -> Present {
        self.0.fetch_add(1, Ordering::SeqCst);
        Present(self.clone())
    }

    /// Whether no socket of the namespace is here.
    pub(super) fn is_empty(&self) -> bool {
        self.0.load(Ordering::SeqCst) == 0
    }
}

/// One socket counted in an [`Audience`].
#[derive(Debug)]
pub(super) struct Present(Arc<Audience>);

impl Drop for Present {
    fn drop(&mut self) {
        (self.0).0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_counts_until_its_presence_is_dropped() {
        let audience = Arc::new(Audience::default());
        assert!(audience.is_empty());
        let a = audience.enter();
        let b = audience.enter();
        drop(a);
        assert!(!audience.is_empty());
        drop(b);
        assert!(audience.is_empty());
    }
}
