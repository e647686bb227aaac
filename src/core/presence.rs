//! Presence: how many sockets each user has open on this node, across all
//! dialects, and — in a cluster — whether any node holds one (a claim per
//! user, see [`ClaimStore`]). A user is online while any live node holds a
//! socket of theirs.
//!
//! A user whose last socket here closes is not offline at once: the user
//! stays online for a grace ([`Presence::settle`]), and a socket that comes
//! back within it (a page reload) cancels the departure. The claim is kept
//! through the grace, so the other nodes of a cluster do not see the user
//! leave either; a socket that comes back on another node finds it held.
//! The user's last-seen time is when the last socket closed. Who hears of a
//! user's presence, and who may ask for it, is a [`Visibility`].

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::ports::ClaimStore;
use super::{Millis, UserId, now_millis};

pub mod announce;

/// Who hears a user come online or go offline, and who may ask whether a
/// user is online.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Every user with a socket (what the seeds' servers do).
    #[default]
    Everyone,
    /// The user's contacts: users who share a conversation with the user or
    /// are the user's accepted friends.
    Contacts,
}

impl Visibility {
    /// Whether `viewer`, whose contacts are `contacts`, may see `user`'s
    /// presence (a user always sees their own).
    pub fn allows(self, viewer: &UserId, user: &UserId, contacts: &[UserId]) -> bool {
        match self {
            Visibility::Everyone => true,
            Visibility::Contacts => viewer == user || contacts.contains(user),
        }
    }
}

/// What closing a socket did to its user's presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// The user has other sockets on this node.
    NotLast,
    /// It was the user's last socket here: [`Presence::settle`] tells,
    /// after the grace, whether the user went offline.
    Last(Departure),
}

/// A user's last socket on this node closed, at `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    user: UserId,
    /// Which departure of the user this is: a socket that came back and
    /// closed again starts another.
    ticket: u64,
    pub since: Millis,
}

/// This node's sockets.
#[derive(Default)]
struct Local {
    /// Open sockets per user.
    sockets: HashMap<UserId, u32>,
    /// Users whose last socket here closed less than the grace ago: the
    /// ticket and time of that departure. Still online.
    leaving: HashMap<UserId, (u64, Millis)>,
    /// The last departure ticket handed out.
    tickets: u64,
}

#[derive(Default)]
pub struct Presence {
    local: Mutex<Local>,
    cluster: Option<Arc<dyn ClaimStore>>,
    /// How long a user whose last socket here closed stays online.
    grace: Duration,
    /// Cancelled when the node stops: the graces end at once.
    stopping: tokio_util::sync::CancellationToken,
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
    /// Presence shared with the other nodes through `claims`; a user whose
    /// last socket closes stays online for `grace`.
    pub fn clustered(claims: Option<Arc<dyn ClaimStore>>, grace: Duration) -> Self {
        Presence {
            local: Mutex::default(),
            cluster: claims,
            grace,
            stopping: Default::default(),
        }
    }

    /// How long a user whose last socket here closed stays online.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// Counts a new socket; true if the user just came online (on no node
    /// before; while the cluster cannot be reached, on this node). A socket
    /// of a user within the grace of a departure cancels it: the user never
    /// went offline.
    pub async fn connect(&self, user: &UserId) -> bool {
        let pending = {
            let mut local = self.local.lock();
            let came_back = local.leaving.remove(user).is_some();
            let n = local.sockets.entry(user.clone()).or_insert(0);
            *n += 1;
            if *n > 1 || came_back {
                return false;
            }
            self.cluster.as_ref().map(|c| c.claim(claim_key(user)))
        };
        match pending {
            None => true,
            Some(pending) => pending.await.map_or(true, |n| n == 1),
        }
    }

    /// Counts a closed socket. The user's last one here starts a departure
    /// (the user is still online, and still claimed in a cluster).
    pub fn disconnect(&self, user: &UserId) -> Closed {
        let mut local = self.local.lock();
        match local.sockets.get_mut(user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                Closed::NotLast
            }
            Some(_) => {
                local.sockets.remove(user);
                local.tickets += 1;
                let departure = Departure {
                    user: user.clone(),
                    ticket: local.tickets,
                    since: now_millis(),
                };
                local
                    .leaving
                    .insert(user.clone(), (departure.ticket, departure.since));
                Closed::Last(departure)
            }
            None => Closed::NotLast,
        }
    }

    /// Waits out the grace of a departure, then ends it: unless a socket of
    /// the user came back here meanwhile, this node releases the user's
    /// claim. Answers the time the user went offline (the departure's) if
    /// no node holds a socket of the user any more.
    pub async fn settle(&self, departure: &Departure) -> Option<Millis> {
        if !self.grace.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(self.grace) => {}
                () = self.stopping.cancelled() => {}
            }
        }
        let pending = {
            let mut local = self.local.lock();
            match local.leaving.get(&departure.user) {
                Some((ticket, _)) if *ticket == departure.ticket => {
                    local.leaving.remove(&departure.user);
                }
                _ => return None,
            }
            self.cluster
                .as_ref()
                .map(|c| c.release(claim_key(&departure.user)))
        };
        let offline = match pending {
            None => true,
            Some(pending) => pending.await.map_or(true, |n| n == 0),
        };
        offline.then_some(departure.since)
    }

    /// This node is stopping: the departures in their grace, and those to
    /// come, settle at once (no socket of theirs will come back here).
    pub fn end_graces(&self) {
        self.stopping.cancel();
    }

    /// Whether the user has a socket on this node.
    pub fn is_here(&self, user: &UserId) -> bool {
        self.local.lock().sockets.contains_key(user)
    }

    /// Which of `users` are online on any node (while the cluster cannot be
    /// reached: here). A user within the grace of a departure is online.
    pub async fn online_among(&self, users: &[UserId]) -> HashSet<UserId> {
        let (mut online, elsewhere): (HashSet<UserId>, Vec<UserId>) = {
            let local = self.local.lock();
            let (here, elsewhere): (Vec<&UserId>, Vec<&UserId>) = users
                .iter()
                .partition(|u| local.sockets.contains_key(*u) || local.leaving.contains_key(*u));
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
    /// than after the presence TTL, and the departures in their grace end
    /// with it. Answers the users that leaves offline, with the time each
    /// went offline (its departure's, else now).
    pub async fn leave(&self) -> Vec<(UserId, Millis)> {
        let Some(claims) = &self.cluster else {
            return vec![];
        };
        let leaving = std::mem::take(&mut self.local.lock().leaving);
        match claims.leave().await {
            Ok(keys) => {
                let now = now_millis();
                keys.iter()
                    .filter_map(|k| claimed_user(k))
                    .map(|u| {
                        let since = leaving.get(&u).map_or(now, |(_, since)| *since);
                        (u, since)
                    })
                    .collect()
            }
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
mod tests;
