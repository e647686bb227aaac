//! The names a socket gives conversations, for a dialect whose clients name
//! them in a field of their own ([`Handshake::conversation_field`]): the
//! form in which a socket last named a conversation (JobSpare's
//! `user456_user123` where the other member's client says
//! `user123_user456`) is put in that field of what the socket is sent about
//! the conversation. The worker remembers the form once an event naming the
//! conversation succeeded and names it so in the event's answer; the
//! delivery task names it so in what it renders for the socket.
//!
//! [`Handshake::conversation_field`]: crate::dialects::Handshake::conversation_field

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use crate::dialects::Out;

/// At most this many conversations are named per socket: past it, the
/// socket's new conversations keep the name the dialect gives them.
const MAX_NAMES: usize = 1024;

/// A socket's forms of the conversations it named, by conversation id (in
/// the socket's extensions; only its worker writes them).
#[derive(Clone, Default)]
pub(super) struct Names(Arc<parking_lot::Mutex<HashMap<i64, Value>>>);

impl Names {
    /// Gives `socket` its (empty) names.
    pub(super) fn attach<A: Adapter>(socket: &SocketRef<A>) {
        socket.extensions.insert(Names::default());
    }

    /// `socket` named `conversation` as `form`.
    pub(super) fn remember<A: Adapter>(socket: &SocketRef<A>, conversation: i64, form: &Value) {
        let Some(names) = socket.extensions.get::<Names>() else {
            return;
        };
        let mut names = names.0.lock();
        if names.len() < MAX_NAMES || names.contains_key(&conversation) {
            names.insert(conversation, form.clone());
        }
    }

    /// The form in which `socket` last named `conversation`, if it did.
    pub(super) fn of<A: Adapter>(socket: &SocketRef<A>, conversation: i64) -> Option<Value> {
        socket
            .extensions
            .get::<Names>()?
            .0
            .lock()
            .get(&conversation)
            .cloned()
    }
}

/// `data` with its `field` set to `form`; `None` when `data` has no such
/// field or holds `form` there already.
pub(super) fn renamed(data: &Value, field: &str, form: &Value) -> Option<Value> {
    if data.get(field)? == form {
        return None;
    }
    let mut data = data.clone();
    data[field] = form.clone();
    Some(data)
}

/// The answer to an event that named a conversation as `form`: its emits
/// and acknowledgement name it so too.
pub(super) fn rename_outs(outs: &mut [Out], field: &str, form: &Value) {
    for out in outs {
        if let Out::Emit(_, data) | Out::Ack(data) = out
            && let Some(renamed) = renamed(data, field, form)
        {
            *data = renamed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_payload_is_renamed_only_where_it_names_a_conversation_otherwise() {
        let form = json!("bob_alice");
        assert_eq!(
            renamed(
                &json!({"conversationId": "alice_bob", "x": 1}),
                "conversationId",
                &form
            ),
            Some(json!({"conversationId": "bob_alice", "x": 1}))
        );
        assert_eq!(
            renamed(
                &json!({"conversationId": "bob_alice"}),
                "conversationId",
                &form
            ),
            None
        );
        assert_eq!(
            renamed(&json!({"userId": "a"}), "conversationId", &form),
            None
        );
        assert_eq!(renamed(&json!([1]), "conversationId", &form), None);
        // A number stays the number the client sent.
        assert_eq!(
            renamed(
                &json!({"conversationId": "alice_bob"}),
                "conversationId",
                &json!(3)
            ),
            Some(json!({"conversationId": 3}))
        );
    }

    #[test]
    fn the_answer_to_an_event_names_the_conversation_as_the_event_did() {
        let mut outs = vec![
            Out::View(3),
            Out::Emit(
                "joined_conversation",
                json!({"conversationId": "a_b", "id": 3}),
            ),
            Out::Ack(json!({"conversationId": "a_b"})),
            Out::Emit("other", json!({"userId": "a"})),
        ];
        rename_outs(&mut outs, "conversationId", &json!("b_a"));
        assert_eq!(
            outs,
            vec![
                Out::View(3),
                Out::Emit(
                    "joined_conversation",
                    json!({"conversationId": "b_a", "id": 3})
                ),
                Out::Ack(json!({"conversationId": "b_a"})),
                Out::Emit("other", json!({"userId": "a"})),
            ]
        );
    }
}
