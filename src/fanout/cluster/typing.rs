//! Following the typing indicators of other nodes: the node whose socket
//! is typing holds the indicator and stops it ([`crate::core::typing`]);
//! every other node stops it itself if that node goes quiet past the TTL
//! (it died), so no client is left with a user typing forever.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::core::UserId;
use crate::core::event::DomainEvent;
use crate::fanout::{Bus, EventSink, Origin};

/// How long past the TTL another node's indicator is given before this node
/// stops it: the holder's own stop normally arrives first.
const REMOTE_GRACE: Duration = Duration::from_secs(2);

/// Follows the typing indicators of other nodes.
pub struct RemoteTyping {
    ttl: Duration,
    bus: Weak<Bus>,
    /// (conversation, user) → the generation of the last start heard.
    heard: Arc<Mutex<HashMap<(i64, UserId), u64>>>,
    next_generation: std::sync::atomic::AtomicU64,
}

impl RemoteTyping {
    pub fn new(ttl: Duration, bus: &Arc<Bus>) -> Arc<Self> {
        Arc::new(RemoteTyping {
            ttl: ttl + REMOTE_GRACE,
            bus: Arc::downgrade(bus),
            heard: Arc::default(),
            next_generation: Default::default(),
        })
    }
}

impl EventSink for RemoteTyping {
    fn deliver(&self, event: &DomainEvent, origin: Origin) {
        let DomainEvent::Typing {
            conversation,
            user,
            typing,
            name,
            members,
            ..
        } = event
        else {
            return;
        };
        if origin == Origin::Here {
            return;
        }
        let key = (conversation.id, user.id.clone());
        if !*typing {
            self.heard.lock().remove(&key);
            return;
        }
        let generation = self
            .next_generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.heard.lock().insert(key.clone(), generation);
        let (heard, bus, ttl) = (self.heard.clone(), self.bus.clone(), self.ttl);
        let stop = DomainEvent::Typing {
            conversation: *conversation,
            user: user.clone(),
            typing: false,
            recording: false,
            name: name.clone(),
            members: members.clone(),
        };
        tokio::spawn(async move {
            tokio::time::sleep(ttl).await;
            let expired = {
                let mut heard = heard.lock();
                let expired = heard.get(&key) == Some(&generation);
                if expired {
                    heard.remove(&key);
                }
                expired
            };
            if expired && let Some(bus) = bus.upgrade() {
                bus.deliver_remote(&stop);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::UserSummary;
    use crate::core::event::{ConversationIds, Publisher};

    #[derive(Default)]
    struct Seen(parking_lot::Mutex<Vec<bool>>);

    impl EventSink for Seen {
        fn deliver(&self, event: &DomainEvent, _origin: Origin) {
            if let DomainEvent::Typing { typing, .. } = event {
                self.0.lock().push(*typing);
            }
        }
    }

    fn typing_event(typing: bool) -> DomainEvent {
        DomainEvent::Typing {
            conversation: ConversationIds {
                id: 1,
                uuid: uuid::Uuid::nil(),
                direct: false,
                external_id: None,
            },
            user: UserSummary {
                id: UserId::parse("u").unwrap(),
                username: None,
                display_name: None,
                avatar_url: None,
            },
            typing,
            recording: false,
            name: None,
            members: vec![],
        }
    }

    #[tokio::test(start_paused = true)]
    async fn another_nodes_indicator_stops_here_when_its_node_goes_quiet() {
        let bus = Bus::new();
        let seen = Arc::new(Seen::default());
        bus.subscribe(seen.clone());
        bus.subscribe(RemoteTyping::new(Duration::from_secs(10), &bus));
        bus.deliver_remote(&typing_event(true));
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(*seen.0.lock(), vec![true]);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(*seen.0.lock(), vec![true, false]);
        // A stop from the holder in time cancels it; ours start nothing.
        bus.deliver_remote(&typing_event(true));
        bus.deliver_remote(&typing_event(false));
        bus.publish(typing_event(true));
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(*seen.0.lock(), vec![true, false, true, false, true]);
    }
}
