//! Presence changes told in bursts. With presence visible to everyone,
//! each user coming online is one packet to every connected socket: a storm
//! of connections is quadratic in packets whatever is done, but it need not
//! be quadratic in wake-ups and writes. The changes of a short window are
//! gathered and published together, back to back, so that each socket's
//! writer finds the whole burst queued and sends it in one flush; and only
//! each user's net change of the window is told (online then offline within
//! it, or offline then online, is nothing).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::core::event::{DomainEvent, Publisher};
use crate::core::ports::DynStore;
use crate::core::{FriendshipStatus, Millis, UserId};

/// A user came online or went offline `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub user: UserId,
    pub online: bool,
    pub at: Millis,
}

/// The net changes of the current window, in the order of each user's
/// first change in it.
#[derive(Debug, Default)]
struct Pending {
    /// `None` where a user's changes cancelled out.
    changes: Vec<Option<Change>>,
    /// Where each user's change is in `changes`.
    index: HashMap<UserId, usize>,
    /// A flush of this window is on its way.
    scheduled: bool,
}

impl Pending {
    /// Adds a change; true if it is the first of a window (a flush is to
    /// be scheduled).
    fn push(&mut self, change: Change) -> bool {
        match self.index.get(&change.user) {
            Some(&i) => {
                // Back where the window found the user: nothing to tell. (The
                // same change twice, from two sources, is told once.)
                let undone = self.changes[i]
                    .as_ref()
                    .is_some_and(|told| told.online != change.online);
                if undone {
                    self.changes[i] = None;
                    self.index.remove(&change.user);
                }
            }
            None => {
                self.index.insert(change.user.clone(), self.changes.len());
                self.changes.push(Some(change));
            }
        }
        !std::mem::replace(&mut self.scheduled, true)
    }

    /// The net changes of the window, which ends.
    fn take(&mut self) -> Vec<Change> {
        self.index.clear();
        self.scheduled = false;
        std::mem::take(&mut self.changes)
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Tells presence changes: to everyone or to each user's contacts, each
/// window's net changes at once.
pub struct Announcer {
    store: DynStore,
    publisher: Arc<dyn Publisher>,
    /// Every socket hears of every user (`presence.visible_to = "everyone"`).
    everyone: bool,
    /// How long changes are gathered before they are told; zero tells each
    /// at once.
    window: Duration,
    pending: Mutex<Pending>,
    /// Held while a window's changes are told, so windows are told in order.
    telling: tokio::sync::Mutex<()>,
}

impl Announcer {
    pub fn new(
        store: DynStore,
        publisher: Arc<dyn Publisher>,
        everyone: bool,
        window: Duration,
    ) -> Arc<Self> {
        Arc::new(Announcer {
            store,
            publisher,
            everyone,
            window,
            pending: Mutex::default(),
            telling: tokio::sync::Mutex::new(()),
        })
    }

    /// Tells `change` with the others of its window, at the window's end.
    pub async fn tell(self: &Arc<Self>, change: Change) {
        if self.window.is_zero() {
            let _telling = self.telling.lock().await;
            self.publish(vec![change]).await;
            return;
        }
        if self.pending.lock().push(change) {
            let this = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(this.window).await;
                this.flush().await;
            });
        }
    }

    /// Tells the changes gathered so far now (a stopping node's last ones).
    pub async fn flush(&self) {
        let _telling = self.telling.lock().await;
        let changes = self.pending.lock().take();
        self.publish(changes).await;
    }

    /// Publishes `changes` back to back, once each user's contacts (the
    /// events' audience) are known.
    async fn publish(&self, changes: Vec<Change>) {
        let mut events = Vec::with_capacity(changes.len());
        for Change { user, online, at } in changes {
            match contacts(&self.store, &user).await {
                Ok(audience) => events.push(DomainEvent::Presence {
                    user,
                    online,
                    at,
                    audience,
                    everyone: self.everyone,
                }),
                Err(e) => tracing::warn!(error = %e, "could not load contacts for presence"),
            }
        }
        for event in events {
            self.publisher.publish(event);
        }
    }
}

/// A user's contacts: the users who share a conversation with the user and
/// the user's accepted friends, sorted.
pub async fn contacts(
    store: &DynStore,
    user: &UserId,
) -> crate::core::ports::StoreResult<Vec<UserId>> {
    let mut contacts = store.contacts(user).await?;
    let friendships = store.friendships_of(user).await?;
    contacts.extend(
        friendships
            .iter()
            .filter(|f| f.status == FriendshipStatus::Accepted)
            .map(|f| f.other(user).clone()),
    );
    contacts.sort();
    contacts.dedup();
    Ok(contacts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(user: &str, online: bool, at: Millis) -> Change {
        Change {
            user: UserId::parse(user).expect("user id"),
            online,
            at,
        }
    }

    #[test]
    fn the_first_change_of_a_window_schedules_its_flush_and_the_others_do_not() {
        let mut p = Pending::default();
        assert!(p.push(change("a", true, 1)));
        assert!(!p.push(change("b", true, 2)));
        assert_eq!(p.take().len(), 2);
        assert!(p.push(change("c", true, 3)), "a new window");
    }

    #[test]
    fn changes_are_told_in_the_order_of_each_users_first_change() {
        let mut p = Pending::default();
        p.push(change("b", true, 1));
        p.push(change("a", true, 2));
        p.push(change("c", false, 3));
        assert_eq!(
            p.take(),
            [
                change("b", true, 1),
                change("a", true, 2),
                change("c", false, 3)
            ]
        );
    }

    #[test]
    fn online_then_offline_within_a_window_is_nothing_and_so_is_the_reverse() {
        let mut p = Pending::default();
        p.push(change("a", true, 1));
        p.push(change("b", false, 2));
        p.push(change("a", false, 3));
        p.push(change("b", true, 4));
        assert_eq!(p.take(), []);
    }

    #[test]
    fn a_change_told_twice_within_a_window_is_told_once_with_its_first_time() {
        let mut p = Pending::default();
        p.push(change("a", true, 1));
        p.push(change("a", true, 2));
        assert_eq!(p.take(), [change("a", true, 1)]);
    }

    #[test]
    fn a_user_whose_changes_cancelled_out_may_change_again_in_the_window() {
        let mut p = Pending::default();
        p.push(change("a", true, 1));
        p.push(change("a", false, 2));
        p.push(change("a", true, 3));
        assert_eq!(p.take(), [change("a", true, 3)]);
    }
}
