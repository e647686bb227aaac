//! Typing indicators that expire after a TTL without a refresh.
//!
//! The node whose socket is typing holds the indicator and its timer
//! ([`Typing`]). The other nodes of a cluster follow the indicators they
//! hear of and stop one themselves if its node goes quiet past the TTL
//! (`crate::fanout::cluster::typing`).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::event::{ConversationIds, DomainEvent, Publisher};
use super::{UserId, UserSummary};

struct Entry {
    generation: u64,
    conversation: ConversationIds,
    user: UserSummary,
    name: Option<String>,
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
    /// indicator stops by itself after the TTL. `name` is the name the
    /// client gave for who is typing, if any (its stop carries it too).
    pub fn start(
        self: &Arc<Self>,
        conversation: ConversationIds,
        user: UserSummary,
        name: Option<String>,
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
                    name: name.clone(),
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
            name,
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
                    name: e.name,
                    members: e.members,
                });
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::testing::Recorder;

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
            external_id: None,
        };
        t.start(conv, user(), None, vec![], false);
        tokio::time::sleep(Duration::from_secs(6)).await;
        t.start(conv, user(), None, vec![], false);
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
            external_id: None,
        };
        t.start(conv, user(), None, vec![], false);
        assert!(t.stop(1, &user().id));
        assert!(!t.stop(1, &user().id));
        assert_eq!(typing_flags(&rec.take()), vec![true, false]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_indicator_stops_with_the_name_it_started_with() {
        let rec = Arc::new(Recorder::default());
        let t = Typing::new(Duration::from_secs(10), rec.clone());
        let conv = ConversationIds {
            id: 1,
            uuid: uuid::Uuid::nil(),
            direct: false,
            external_id: None,
        };
        t.start(conv, user(), Some("John Doe".into()), vec![], false);
        tokio::time::sleep(Duration::from_secs(11)).await;
        let names: Vec<_> = rec
            .take()
            .into_iter()
            .filter_map(|e| match e {
                DomainEvent::Typing { typing, name, .. } => Some((typing, name)),
                _ => None,
            })
            .collect();
        let john = Some("John Doe".to_owned());
        assert_eq!(names, vec![(true, john.clone()), (false, john)]);
    }
}
