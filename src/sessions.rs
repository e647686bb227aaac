//! The sockets of this node by user, with the `iat` of the token each
//! proved itself with, so that an operator's decision taken elsewhere (a
//! user disabled, deleted, or their tokens revoked by `confab user ...` in
//! another process, or on another node) reaches the sockets already open:
//! every [`EVERY`] the node reads the rows of its connected users (one
//! query) and disconnects the sockets whose token the row now refuses
//! ([`crate::core::User::token_refusal`]). Each node does this for its own
//! sockets, so it works alike on one node and in a cluster, with no bus.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::core::{User, UserId};
use crate::store::DynStore;

/// How often the rows of the connected users are read.
pub const EVERY: Duration = Duration::from_secs(2);

type Disconnect = Box<dyn Fn() + Send + Sync>;

struct Session {
    user: UserId,
    issued_at: Option<u64>,
    disconnect: Disconnect,
}

#[derive(Default)]
pub struct Sessions {
    open: Arc<Mutex<HashMap<u64, Session>>>,
    next: AtomicU64,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("open", &self.open.lock().len())
            .finish()
    }
}

/// A socket's place in [`Sessions`]; it leaves when this is dropped.
pub struct Registered {
    id: u64,
    open: Arc<Mutex<HashMap<u64, Session>>>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.open.lock().remove(&self.id);
    }
}

impl Sessions {
    /// Keeps a socket of `user`, proved by a token issued at `issued_at`,
    /// until the returned [`Registered`] is dropped; `disconnect` closes it.
    pub fn register(
        &self,
        user: UserId,
        issued_at: Option<u64>,
        disconnect: impl Fn() + Send + Sync + 'static,
    ) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.open.lock().insert(
            id,
            Session {
                user,
                issued_at,
                disconnect: Box::new(disconnect),
            },
        );
        Registered {
            id,
            open: self.open.clone(),
        }
    }

    /// The users with a socket here.
    pub fn users(&self) -> Vec<UserId> {
        let set: BTreeSet<UserId> = self.open.lock().values().map(|s| s.user.clone()).collect();
        set.into_iter().collect()
    }

    /// Disconnects every socket whose token the row of its user (among
    /// `rows`) refuses now; how many. A user without a row is left alone.
    pub fn enforce(&self, rows: &[User]) -> usize {
        let by_id: HashMap<&UserId, &User> = rows.iter().map(|u| (&u.id, u)).collect();
        let refused: Vec<u64> = self
            .open
            .lock()
            .iter()
            .filter(|(_, s)| {
                by_id
                    .get(&s.user)
                    .is_some_and(|u| u.token_refusal(s.issued_at).is_some())
            })
            .map(|(id, _)| *id)
            .collect();
        let sessions: Vec<Session> = {
            let mut open = self.open.lock();
            refused.iter().filter_map(|id| open.remove(id)).collect()
        };
        for s in &sessions {
            tracing::info!(user = %s.user, "socket closed: its token is no longer accepted");
            (s.disconnect)();
        }
        sessions.len()
    }
}

/// Every [`EVERY`] until `stop` turns true: reads the connected users' rows
/// and disconnects the sockets they refuse.
pub fn spawn(sessions: Arc<Sessions>, store: DynStore, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            let users = sessions.users();
            if users.is_empty() {
                continue;
            }
            match store.users(&users).await {
                Ok(rows) => {
                    sessions.enforce(&rows);
                }
                Err(e) => tracing::debug!(error = %e, "could not read the connected users"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn user(id: &str) -> User {
        User {
            id: UserId::parse(id).expect("id"),
            username: None,
            display_name: None,
            avatar_url: None,
            email: None,
            placeholder: false,
            created_at: 0,
            last_seen_at: None,
            disabled: false,
            tokens_valid_after: None,
            deleted_at: None,
        }
    }

    #[test]
    fn only_the_refused_sockets_are_disconnected() {
        let sessions = Sessions::default();
        let closed = Arc::new(AtomicUsize::new(0));
        let counter = |c: &Arc<AtomicUsize>| {
            let c = c.clone();
            move || {
                c.fetch_add(1, Ordering::SeqCst);
            }
        };
        let _a = sessions.register(user("a").id, Some(10), counter(&closed));
        let _b_old = sessions.register(user("b").id, Some(10), counter(&closed));
        let _b_new = sessions.register(user("b").id, Some(20), counter(&closed));
        let c = sessions.register(user("c").id, None, counter(&closed));
        assert_eq!(sessions.users().len(), 3);
        drop(c);
        assert_eq!(sessions.users().len(), 2);

        let mut b = user("b");
        b.tokens_valid_after = Some(15_000);
        assert_eq!(sessions.enforce(&[user("a"), b.clone()]), 1);
        assert_eq!(closed.load(Ordering::SeqCst), 1);
        let mut a = user("a");
        a.disabled = true;
        assert_eq!(sessions.enforce(&[a, b]), 1);
        assert_eq!(closed.load(Ordering::SeqCst), 2);
        assert_eq!(sessions.users(), vec![user("b").id]);
    }
}
