//! Presence: how many sockets each user has open on this node, across all
//! dialects, and — in a cluster — whether any node holds one (a claim per
//! user, see [`ClaimStore`]). A user is online while any live node holds a
//! socket of theirs.

use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::ports::ClaimStore;
use super::{Millis, UserId};

/// What closing a socket did to its user's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The user has other sockets on this node.
    NotLast,
    /// It was the user's last socket here; `offline` if it was their last
    /// anywhere.
    Last { offline: bool },
}

#[derive(Default)]
pub struct Presence {
    sockets: Mutex<HashMap<UserId, u32>>,
    cluster: Option<Arc<dyn ClaimStore>>,
}

/// The claim key of a user's presence.
pub fn claim_key(user: &UserId) -> String {
    format!("p:{user}")
}

/// The user of a presence claim key.
pub fn claimed_user(key: &str) -> Option<UserId> {
    UserId::parse(key.strip_prefix("p:")?).ok()
}

impl Presence {
    /// Presence shared with the other nodes through `claims`.
    pub fn clustered(claims: Option<Arc<dyn ClaimStore>>) -> Self {
        Presence {
            sockets: Mutex::default(),
            cluster: claims,
        }
    }

    /// Counts a new socket; true if the user just came online (on no node
    /// before; while the cluster cannot be reached, on this node).
    pub async fn connect(&self, user: &UserId) -> bool {
        let pending = {
            let mut map = self.sockets.lock();
            let n = map.entry(user.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                return false;
            }
            self.cluster.as_ref().map(|c| c.claim(claim_key(user)))
        };
        match pending {
            None => true,
            Some(pending) => pending.await.map_or(true, |n| n == 1),
        }
    }

    /// Counts a closed socket.
    pub async fn disconnect(&self, user: &UserId) -> Closed {
        let pending = {
            let mut map = self.sockets.lock();
            match map.get_mut(user) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    return Closed::NotLast;
                }
                Some(_) => {
                    map.remove(user);
                    self.cluster.as_ref().map(|c| c.release(claim_key(user)))
                }
                None => return Closed::NotLast,
            }
        };
        let offline = match pending {
            None => true,
            Some(pending) => pending.await.map_or(true, |n| n == 0),
        };
        Closed::Last { offline }
    }

    /// Whether the user has a socket on this node.
    pub fn is_here(&self, user: &UserId) -> bool {
        self.sockets.lock().contains_key(user)
    }

    /// Which of `users` are online on any node (while the cluster cannot be
    /// reached: here).
    pub async fn online_among(&self, users: &[UserId]) -> HashSet<UserId> {
        let (mut online, elsewhere): (HashSet<UserId>, Vec<UserId>) = {
            let map = self.sockets.lock();
            let (here, elsewhere): (Vec<&UserId>, Vec<&UserId>) =
                users.iter().partition(|u| map.contains_key(*u));
            (
                here.into_iter().cloned().collect(),
                elsewhere.into_iter().cloned().collect(),
            )
        };
        if let Some(claims) = &self.cluster
            && !elsewhere.is_empty()
        {
            let keys: Vec<String> = elsewhere.iter().map(claim_key).collect();
            match claims.held(&keys).await {
                Ok(held) => online.extend(
                    elsewhere
                        .into_iter()
                        .zip(held)
                        .filter(|(_, held)| *held)
                        .map(|(u, _)| u),
                ),
                Err(e) => tracing::debug!(error = %e, "presence of other nodes unknown"),
            }
        }
        online
    }

    /// This node is stopping: the cluster forgets its sockets now rather
    /// than after the presence TTL; answers the users that leaves offline.
    pub async fn leave(&self) -> Vec<UserId> {
        let Some(claims) = &self.cluster else {
            return vec![];
        };
        match claims.leave().await {
            Ok(keys) => keys.iter().filter_map(|k| claimed_user(k)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not leave the cluster: the other nodes will reap this one");
                vec![]
            }
        }
    }
}

/// Last-seen time as shown: now for an online user.
pub fn last_seen(online: bool, stored: Option<Millis>, now: Millis) -> Option<Millis> {
    if online { Some(now) } else { stored }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn online(p: &Presence, u: &UserId) -> bool {
        p.online_among(std::slice::from_ref(u)).await.contains(u)
    }

    #[tokio::test]
    async fn a_user_with_two_sockets_stays_online_until_both_close() {
        let p = Presence::default();
        let u = UserId::parse("u").unwrap();
        assert!(p.connect(&u).await);
        assert!(!p.connect(&u).await);
        assert_eq!(p.disconnect(&u).await, Closed::NotLast);
        assert!(online(&p, &u).await);
        assert_eq!(p.disconnect(&u).await, Closed::Last { offline: true });
        assert!(!online(&p, &u).await);
        assert_eq!(p.disconnect(&u).await, Closed::NotLast);
    }

    #[test]
    fn a_presence_claim_names_its_user() {
        let u = UserId::parse("a.b@c").unwrap();
        assert_eq!(claimed_user(&claim_key(&u)), Some(u));
        assert_eq!(claimed_user("v:1:u"), None);
    }
}
