//! Which conversations each user is viewing right now: a socket that joined
//! a conversation's room (Syarah's `joinRoom`, Dozaar's `join:conversation`,
//! V Chat's `/message` namespace) views it until it leaves the room or
//! disconnects. Push notifications skip viewers. In a cluster each node
//! claims the (user, conversation) pairs its sockets view, so a viewer on
//! any node counts.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

use super::UserId;
use super::ports::ClaimStore;

/// Identifies one socket (its dialect and Socket.IO id).
pub type SocketKey = String;

#[derive(Default)]
pub struct Viewing {
    /// (user, conversation) → the sockets here viewing it.
    views: Mutex<HashMap<(UserId, i64), Vec<SocketKey>>>,
    cluster: Option<Arc<dyn ClaimStore>>,
}

fn claim_key(user: &UserId, conversation_id: i64) -> String {
    format!("v:{conversation_id}:{user}")
}

impl Viewing {
    /// Viewing shared with the other nodes through `claims`.
    pub fn clustered(claims: Option<Arc<dyn ClaimStore>>) -> Self {
        Viewing {
            views: Mutex::default(),
            cluster: claims,
        }
    }

    pub fn view(&self, user: &UserId, conversation_id: i64, socket: &str) {
        let mut views = self.views.lock();
        let sockets = views.entry((user.clone(), conversation_id)).or_default();
        if sockets.iter().any(|s| s == socket) {
            return;
        }
        sockets.push(socket.to_owned());
        if sockets.len() == 1
            && let Some(claims) = &self.cluster
        {
            claims.claim_quietly(claim_key(user, conversation_id));
        }
    }

    pub fn unview(&self, user: &UserId, conversation_id: i64, socket: &str) {
        let mut views = self.views.lock();
        let key = (user.clone(), conversation_id);
        if let Some(sockets) = views.get_mut(&key) {
            sockets.retain(|s| s != socket);
            if sockets.is_empty() {
                views.remove(&key);
                self.released(user, conversation_id);
            }
        }
    }

    /// Forgets every view of a closed socket.
    pub fn socket_closed(&self, user: &UserId, socket: &str) {
        self.views.lock().retain(|(u, conversation_id), sockets| {
            if u == user {
                sockets.retain(|s| s != socket);
                if sockets.is_empty() {
                    self.released(u, *conversation_id);
                }
            }
            !sockets.is_empty()
        });
    }

    /// Called under the lock, so releases reach the cluster in order with
    /// claims.
    fn released(&self, user: &UserId, conversation_id: i64) {
        if let Some(claims) = &self.cluster {
            claims.release_quietly(claim_key(user, conversation_id));
        }
    }

    /// True if one of the user's sockets on this node views the conversation.
    pub fn is_viewing_here(&self, user: &UserId, conversation_id: i64) -> bool {
        self.views
            .lock()
            .contains_key(&(user.clone(), conversation_id))
    }

    /// True if one of the user's sockets on any node views the conversation
    /// (while the cluster cannot be reached: on this node).
    pub async fn is_viewing(&self, user: &UserId, conversation_id: i64) -> bool {
        if self.is_viewing_here(user, conversation_id) {
            return true;
        }
        let Some(claims) = &self.cluster else {
            return false;
        };
        match claims.held(&[claim_key(user, conversation_id)]).await {
            Ok(held) => held.first().copied().unwrap_or(false),
            Err(e) => {
                tracing::debug!(error = %e, "viewing on other nodes unknown");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_conversation_is_viewed_until_its_last_socket_leaves_or_closes() {
        let v = Viewing::default();
        let u = UserId::parse("u").unwrap();
        v.view(&u, 1, "a");
        v.view(&u, 1, "b");
        v.view(&u, 2, "a");
        v.unview(&u, 1, "a");
        assert!(v.is_viewing(&u, 1).await);
        v.socket_closed(&u, "b");
        assert!(!v.is_viewing(&u, 1).await);
        assert!(v.is_viewing_here(&u, 2));
        v.socket_closed(&u, "a");
        assert!(!v.is_viewing(&u, 2).await);
    }
}
