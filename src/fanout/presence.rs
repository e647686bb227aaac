//! Presence on this node: how many sockets each user has open, across all
//! dialects, and when the last one closed.

use parking_lot::Mutex;
use std::collections::HashMap;

use crate::core::{Millis, UserId};

#[derive(Default)]
pub struct Presence {
    sockets: Mutex<HashMap<UserId, u32>>,
}

impl Presence {
    /// Counts a new socket; true if the user just came online.
    pub fn connect(&self, user: &UserId) -> bool {
        let mut map = self.sockets.lock();
        let n = map.entry(user.clone()).or_insert(0);
        *n += 1;
        *n == 1
    }

    /// Counts a closed socket; true if it was the user's last one.
    pub fn disconnect(&self, user: &UserId) -> bool {
        let mut map = self.sockets.lock();
        match map.get_mut(user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                map.remove(user);
                true
            }
            None => false,
        }
    }

    pub fn is_online(&self, user: &UserId) -> bool {
        self.sockets.lock().contains_key(user)
    }

    pub fn online_count(&self) -> usize {
        self.sockets.lock().len()
    }
}

/// Last-seen time as shown: now for an online user.
pub fn last_seen(online: bool, stored: Option<Millis>, now: Millis) -> Option<Millis> {
    if online { Some(now) } else { stored }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_with_two_sockets_stays_online_until_both_close() {
        let p = Presence::default();
        let u = UserId::parse("u").unwrap();
        assert!(p.connect(&u));
        assert!(!p.connect(&u));
        assert!(!p.disconnect(&u));
        assert!(p.is_online(&u));
        assert!(p.disconnect(&u));
        assert!(!p.is_online(&u));
        assert!(!p.disconnect(&u));
    }
}
