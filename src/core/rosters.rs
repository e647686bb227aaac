//! The conversations a message send checks, kept in memory: the
//! conversation, its members, and for a direct conversation the friendship
//! of its pair (whether it is blocked). A send reads them from here rather
//! than from the store, which every send of the same conversation would
//! read again.
//!
//! An entry is dropped by the domain events that change what it holds
//! (a member added or removed, a member's role or mute, a group's title, a
//! friendship requested, answered, blocked or unblocked), published here or
//! heard from another node, before anyone acts on the event: a removed
//! member is refused from then on, on every node that heard it. Every drop
//! moves a generation forward, and an entry read from the store before a
//! drop is not kept, so that a change racing with a read is never hidden. A
//! node that may have missed other nodes' events (the cluster's link was
//! lost or fell behind) drops everything. Entries also expire after
//! [`TTL`] (changes made outside a running node, such as `confab user
//! delete`), and at most [`CAPACITY`] are kept.
//!
//! What a roster holds of the conversation (its newest sequence number, its
//! time) and of the members (their read and delivery watermarks) is as of
//! when it was read: a send uses neither.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

use super::event::DomainEvent;
use super::{Conversation, ConversationKind, ConversationRef, Friendship, Member, UserId};

/// How long an entry is kept at most.
pub const TTL: Duration = Duration::from_secs(30);

/// How many conversations are kept at most.
pub const CAPACITY: usize = 10_000;

/// What a send checks of a conversation.
#[derive(Debug, Clone)]
pub struct Roster {
    pub conversation: Conversation,
    pub members: Vec<Member>,
    /// The friendship of a direct conversation's two members, if any.
    pub friendship: Option<Friendship>,
}

impl Roster {
    /// Whether this roster is of the direct conversation of `a` and `b`.
    fn is_pair(&self, a: &UserId, b: &UserId) -> bool {
        self.conversation.kind == ConversationKind::Direct
            && self.members.iter().any(|m| &m.user_id == a)
            && self.members.iter().any(|m| &m.user_id == b)
    }
}

struct Entry {
    roster: Arc<Roster>,
    read_at: Instant,
}

#[derive(Default)]
struct Inner {
    /// Moved forward by every drop.
    generation: u64,
    by_id: HashMap<i64, Entry>,
    by_uuid: HashMap<Uuid, i64>,
    /// The conversations kept that have an external id (imported).
    by_external: HashMap<String, i64>,
}

impl Inner {
    fn drop_where(&mut self, f: impl Fn(&Roster) -> bool) {
        self.generation += 1;
        let (by_uuid, by_external) = (&mut self.by_uuid, &mut self.by_external);
        self.by_id.retain(|_, e| {
            let keep = !f(&e.roster);
            if !keep {
                by_uuid.remove(&e.roster.conversation.uuid);
                if let Some(x) = &e.roster.conversation.external_id {
                    by_external.remove(x);
                }
            }
            keep
        });
    }
}

/// The cache; see the module.
pub struct Rosters {
    inner: Mutex<Inner>,
    ttl: Duration,
    capacity: usize,
}

impl Default for Rosters {
    fn default() -> Self {
        Rosters::new(TTL, CAPACITY)
    }
}

impl Rosters {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Rosters {
            inner: Mutex::default(),
            ttl,
            capacity,
        }
    }

    /// The roster of a conversation, if kept and not expired.
    pub fn get(&self, r: ConversationRef) -> Option<Arc<Roster>> {
        let inner = self.inner.lock();
        let id = match r {
            ConversationRef::Id(id) => id,
            ConversationRef::Uuid(uuid) => *inner.by_uuid.get(&uuid)?,
            ConversationRef::External(x) => *inner.by_external.get(x.as_str())?,
        };
        let entry = inner.by_id.get(&id)?;
        (entry.read_at.elapsed() < self.ttl).then(|| entry.roster.clone())
    }

    /// The generation to give [`Rosters::keep`] for a roster about to be
    /// read from the store.
    pub fn generation(&self) -> u64 {
        self.inner.lock().generation
    }

    /// Keeps a roster read from the store since `generation`, unless
    /// something was dropped meanwhile.
    pub fn keep(&self, generation: u64, roster: Roster) -> Arc<Roster> {
        let roster = Arc::new(roster);
        let mut inner = self.inner.lock();
        if inner.generation != generation {
            return roster;
        }
        if inner.by_id.len() >= self.capacity {
            let ttl = self.ttl;
            inner.by_id.retain(|_, e| e.read_at.elapsed() < ttl);
            if inner.by_id.len() >= self.capacity {
                inner.by_id.clear();
            }
            let Inner {
                by_id,
                by_uuid,
                by_external,
                ..
            } = &mut *inner;
            by_uuid.retain(|_, id| by_id.contains_key(id));
            by_external.retain(|_, id| by_id.contains_key(id));
        }
        let c = &roster.conversation;
        inner.by_uuid.insert(c.uuid, c.id);
        if let Some(x) = &c.external_id {
            inner.by_external.insert(x.clone(), c.id);
        }
        inner.by_id.insert(
            c.id,
            Entry {
                roster: roster.clone(),
                read_at: Instant::now(),
            },
        );
        roster
    }

    /// Drops what `event` changes.
    pub fn changed(&self, event: &DomainEvent) {
        match event {
            DomainEvent::MemberAdded { conversation, .. }
            | DomainEvent::MemberRemoved { conversation, .. }
            | DomainEvent::RoomChanged { conversation, .. } => {
                let id = conversation.id;
                self.inner.lock().drop_where(|r| r.conversation.id == id);
            }
            DomainEvent::ConversationCreated { conversation, .. } => {
                let id = conversation.id;
                self.inner.lock().drop_where(|r| r.conversation.id == id);
            }
            DomainEvent::FriendshipChanged { friendship } => {
                let (a, b) = (&friendship.requester, &friendship.addressee);
                self.inner.lock().drop_where(|r| r.is_pair(a, b));
            }
            DomainEvent::Unblocked { by, other } => {
                self.inner.lock().drop_where(|r| r.is_pair(by, other));
            }
            DomainEvent::MessageCreated { .. }
            | DomainEvent::MessageEdited { .. }
            | DomainEvent::MessageDeleted { .. }
            | DomainEvent::MessagesRead { .. }
            | DomainEvent::MessagesDelivered { .. }
            | DomainEvent::Typing { .. }
            | DomainEvent::Presence { .. }
            | DomainEvent::RoomEntered { .. }
            | DomainEvent::AgentAdded { .. }
            | DomainEvent::AgentRemoved { .. } => {}
        }
    }

    /// Drops everything (events may have been missed).
    pub fn clear(&self) {
        self.inner.lock().drop_where(|_| true);
    }

    /// How many conversations are kept.
    pub fn len(&self) -> usize {
        self.inner.lock().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::ConversationIds;
    use crate::core::{FriendshipStatus, Role};

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("user id")
    }

    fn roster(id: i64, kind: ConversationKind, members: &[&str]) -> Roster {
        Roster {
            conversation: Conversation {
                id,
                uuid: Uuid::from_u128(id as u128),
                kind,
                title: None,
                created_by: user(members[0]),
                created_at: 0,
                last_seq: 0,
                updated_at: 0,
                department_id: None,
                external_id: None,
            },
            members: members
                .iter()
                .map(|m| Member {
                    conversation_id: id,
                    user_id: user(m),
                    role: Role::Member,
                    joined_at: 0,
                    last_read_seq: 0,
                    last_delivered_seq: 0,
                    muted: false,
                })
                .collect(),
            friendship: None,
        }
    }

    fn ids(id: i64) -> ConversationIds {
        ConversationIds {
            id,
            uuid: Uuid::from_u128(id as u128),
            direct: false,
            external_id: None,
        }
    }

    #[test]
    fn a_kept_roster_is_found_by_id_and_by_uuid() {
        let rosters = Rosters::default();
        let g = rosters.generation();
        rosters.keep(g, roster(7, ConversationKind::Group, &["a", "b"]));
        assert!(rosters.get(ConversationRef::Id(7)).is_some());
        assert!(
            rosters
                .get(ConversationRef::Uuid(Uuid::from_u128(7)))
                .is_some()
        );
        assert!(rosters.get(ConversationRef::Id(8)).is_none());
    }

    #[test]
    fn an_imported_roster_is_found_by_its_external_id_until_a_change_drops_it() {
        let rosters = Rosters::default();
        let oid = "65a1b2c3d4e5f60718293a4b";
        let mut imported = roster(9, ConversationKind::Group, &["a", "b"]);
        imported.conversation.external_id = Some(oid.to_owned());
        rosters.keep(rosters.generation(), imported);
        let by_oid = || {
            let x = crate::core::ExternalId::parse(oid).expect("an external id");
            rosters.get(ConversationRef::External(x))
        };
        assert_eq!(by_oid().map(|r| r.conversation.id), Some(9));
        rosters.changed(&DomainEvent::RoomChanged {
            conversation: ids(9),
            audience: Vec::new(),
        });
        assert!(by_oid().is_none());
    }

    #[test]
    fn a_roster_read_before_a_change_is_not_kept() {
        let rosters = Rosters::default();
        let g = rosters.generation();
        rosters.changed(&DomainEvent::MemberRemoved {
            conversation: ids(7),
            user: user("b"),
            members: vec![user("a"), user("b")],
        });
        rosters.keep(g, roster(7, ConversationKind::Group, &["a", "b"]));
        assert!(rosters.get(ConversationRef::Id(7)).is_none());
    }

    #[test]
    fn membership_changes_drop_their_conversation_only() {
        let rosters = Rosters::default();
        let g = rosters.generation();
        rosters.keep(g, roster(7, ConversationKind::Group, &["a", "b"]));
        rosters.keep(g, roster(8, ConversationKind::Group, &["a", "c"]));
        rosters.changed(&DomainEvent::MemberAdded {
            conversation: ids(7),
            user: user("d"),
            members: vec![],
        });
        assert!(rosters.get(ConversationRef::Id(7)).is_none());
        assert!(
            rosters
                .get(ConversationRef::Uuid(Uuid::from_u128(7)))
                .is_none()
        );
        assert!(rosters.get(ConversationRef::Id(8)).is_some());
    }

    #[test]
    fn a_friendship_change_drops_the_direct_conversation_of_its_pair() {
        let rosters = Rosters::default();
        let g = rosters.generation();
        rosters.keep(g, roster(1, ConversationKind::Direct, &["a", "b"]));
        rosters.keep(g, roster(2, ConversationKind::Direct, &["a", "c"]));
        rosters.keep(g, roster(3, ConversationKind::Group, &["a", "b"]));
        rosters.changed(&DomainEvent::FriendshipChanged {
            friendship: Friendship {
                requester: user("b"),
                addressee: user("a"),
                status: FriendshipStatus::Blocked,
                blocked_by: Some(user("b")),
                created_at: 0,
                updated_at: 0,
            },
        });
        assert!(rosters.get(ConversationRef::Id(1)).is_none());
        assert!(rosters.get(ConversationRef::Id(2)).is_some());
        assert!(rosters.get(ConversationRef::Id(3)).is_some());
        rosters.keep(
            rosters.generation(),
            roster(1, ConversationKind::Direct, &["a", "b"]),
        );
        rosters.changed(&DomainEvent::Unblocked {
            by: user("a"),
            other: user("b"),
        });
        assert!(rosters.get(ConversationRef::Id(1)).is_none());
    }

    #[test]
    fn entries_expire_and_their_number_is_bounded() {
        let rosters = Rosters::new(Duration::ZERO, 10);
        rosters.keep(
            rosters.generation(),
            roster(1, ConversationKind::Group, &["a"]),
        );
        assert!(rosters.get(ConversationRef::Id(1)).is_none(), "expired");
        let rosters = Rosters::new(TTL, 3);
        for id in 1..=10 {
            rosters.keep(
                rosters.generation(),
                roster(id, ConversationKind::Group, &["a"]),
            );
            assert!(rosters.len() <= 3);
        }
        assert!(rosters.get(ConversationRef::Id(10)).is_some());
    }
}
