//! Typing indicators that expire after a TTL without a refresh.
//!
//! The node whose socket is typing holds the indicator and its timer
//! ([`Typing`]). The other nodes of a cluster follow the indicators they
//! hear of ([`RemoteTyping`]) and stop one themselves if its node goes
//! quiet past the TTL (it died), so no client is left with a user typing
//! forever.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{Bus, EventSink, Origin};
use crate::core::event::{ConversationIds, DomainEvent, Publisher};
use crate::core::{UserId, UserSummary};

struct Entry {
    generation: u64,
    conversation: ConversationIds,
    user: UserSummary,
    members: Vec<UserId>,
}

pub struct Typing {
    ttl: Duration,
    publisher: Arc<dyn Publisher>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_generation: u64,
    entries: HashMap<(i64, UserId), Entry>,
}

impl Typing {
    pub fn new(ttl: Duration, publisher: Arc<dyn Publisher>) -> Arc<Self> {
        Arc::new(Typing {
            ttl,
            publisher,
            state: Mutex::new(State::default()),
        })
    }

    /// Marks the user typing (or refreshes it) and tells the members; the
    /// indicator stops by itself after the TTL.
    pub fn start(
        self: &Arc<Self>,
        conversation: ConversationIds,
        user: UserSummary,
        members: Vec<UserId>,
        recording: bool,
    ) {
        let key = (conversation.id, user.id.clone());
        let generation = {
            let mut st = self.state.lock();
            st.next_generation += 1;
            let generation = st.next_generation;
            st.entries.insert(
                key.clone(),
                Entry {
                    generation,
                    conversation,
                    user: user.clone(),
                    members: members.clone(),
                },
            );
            generation
        };
        self.publisher.publish(DomainEvent::Typing {
            conversation,
            user,
            typing: true,
            recording,
            members,
        });
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let Some(ttl) = this.upgrade().map(|t| t.ttl) else {
                return;
            };
            tokio::time::sleep(ttl).await;
            if let Some(this) = this.upgrade() {
                this.stop_if(&key, Some(generation));
            }
        });
    }

    /// Stops the indicator; false if the user was not typing there.
    pub fn stop(&self, conversation_id: i64, user: &UserId) -> bool {
        self.stop_if(&(conversation_id, user.clone()), None)
    }

    /// Stops every indicator of a user (their last socket closed).
    pub fn stop_all(&self, user: &UserId) {
        let keys: Vec<_> = self
            .state
            .lock()
            .entries
            .keys()
            .filter(|(_, u)| u == user)
            .cloned()
            .collect();
        for key in keys {
            self.stop_if(&key, None);
        }
    }

    fn stop_if(&self, key: &(i64, UserId), generation: Option<u64>) -> bool {
        let entry = {
            let mut st = self.state.lock();
            match st.entries.get(key) {
                Some(e) if generation.is_none_or(|g| g == e.generation) => st.entries.remove(key),
                _ => None,
            }
        };
        match entry {
            Some(e) => {
                self.publisher.publish(DomainEvent::Typing {
                    conversation: e.conversation,
                    user: e.user,
                    typing: false,
                    recording: false,
                    members: e.members,
                });
                true
            }
            None => false,
        }
    }
}

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
    use crate::fanout::testing::Recorder;

    fn user() -> UserSummary {
        UserSummary {
            id: UserId::parse("u").unwrap(),
            username: None,
            display_name: None,
            avatar_url: None,
        }
    }

    fn typing_flags(events: &[DomainEvent]) -> Vec<bool> {
        events
            .iter()
            .filter_map(|e| match e {
                DomainEvent::Typing { typing, .. } => Some(*typing),
                _ => None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn typing_expires_after_the_ttl_unless_refreshed() {
        let rec = Arc::new(Recorder::default());
        let t = Typing::new(Duration::from_secs(10), rec.clone());
        let conv = ConversationIds {
            id: 1,
            uuid: uuid::Uuid::nil(),
            direct: false,
        };
        t.start(conv, user(), vec![], false);
        tokio::time::sleep(Duration::from_secs(6)).await;
        t.start(conv, user(), vec![], false);
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(typing_flags(&rec.take()), vec![true, true]);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(typing_flags(&rec.take()), vec![false]);
    }

    #[tokio::test]
    async fn stop_is_told_once() {
        let rec = Arc::new(Recorder::default());
        let t = Typing::new(Duration::from_secs(10), rec.clone());
        let conv = ConversationIds {
            id: 1,
            uuid: uuid::Uuid::nil(),
            direct: false,
        };
        t.start(conv, user(), vec![], false);
        assert!(t.stop(1, &user().id));
        assert!(!t.stop(1, &user().id));
        assert_eq!(typing_flags(&rec.take()), vec![true, false]);
    }

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
            },
            user: user(),
            typing,
            recording: false,
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
