//! Which conversations each user is viewing right now, on this node: a socket
//! that joined a conversation's room (Syarah's `joinRoom`, Dozaar's
//! `join:conversation`, V Chat's `/message` namespace) views it until it
//! leaves the room or disconnects. Push notifications skip viewers.

use parking_lot::Mutex;
use std::collections::HashMap;

use crate::core::UserId;

/// Identifies one socket (its dialect and Socket.IO id).
pub type SocketKey = String;

#[derive(Default)]
pub struct Viewing {
    /// (user, conversation) → the sockets viewing it.
    views: Mutex<HashMap<(UserId, i64), Vec<SocketKey>>>,
}

impl Viewing {
    pub fn view(&self, user: &UserId, conversation_id: i64, socket: &str) {
        let mut views = self.views.lock();
        let sockets = views.entry((user.clone(), conversation_id)).or_default();
        if !sockets.iter().any(|s| s == socket) {
            sockets.push(socket.to_owned());
        }
    }

    pub fn unview(&self, user: &UserId, conversation_id: i64, socket: &str) {
        let mut views = self.views.lock();
        let key = (user.clone(), conversation_id);
        if let Some(sockets) = views.get_mut(&key) {
            sockets.retain(|s| s != socket);
            if sockets.is_empty() {
                views.remove(&key);
            }
        }
    }

    /// Forgets every view of a closed socket.
    pub fn socket_closed(&self, user: &UserId, socket: &str) {
        self.views.lock().retain(|(u, _), sockets| {
            if u == user {
                sockets.retain(|s| s != socket);
            }
            !sockets.is_empty()
        });
    }

    /// True if one of the user's sockets is viewing the conversation.
    pub fn is_viewing(&self, user: &UserId, conversation_id: i64) -> bool {
        self.views
            .lock()
            .contains_key(&(user.clone(), conversation_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_is_viewed_until_its_last_socket_leaves_or_closes() {
        let v = Viewing::default();
        let u = UserId::parse("u").unwrap();
        v.view(&u, 1, "a");
        v.view(&u, 1, "b");
        v.view(&u, 2, "a");
        v.unview(&u, 1, "a");
        assert!(v.is_viewing(&u, 1));
        v.socket_closed(&u, "b");
        assert!(!v.is_viewing(&u, 1));
        assert!(v.is_viewing(&u, 2));
        v.socket_closed(&u, "a");
        assert!(!v.is_viewing(&u, 2));
    }
}
