//! What a dialect is: a table that decodes a client's `(event, payload)` into
//! a core command and encodes outcomes, errors and domain events back into
//! `(event, payload)` of its API. Dialects never touch the store and never
//! decide who may do what; `socket` runs them.

use serde_json::Value;

use crate::core::command::{Actor, Command, Outcome};
use crate::core::event::{ConversationIds, DeliveredMessage, DomainEvent};
use crate::core::{CoreError, Message, UserId};

pub mod dozaar;
pub mod jobspare;
pub mod socket;
pub mod syarah;
pub mod vchat;
pub mod voxora;

/// What the runtime does on the socket that sent an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Emit an event to this socket.
    Emit(&'static str, Value),
    /// Answer the client's acknowledgement callback, if it passed one.
    Ack(Value),
    /// Put this socket in a conversation's room: it now views the
    /// conversation (gets its live events; no push for it).
    View(i64),
    /// Take this socket out of a conversation's room.
    Unview(i64),
    /// Take this socket out of every conversation room it is in.
    UnviewAll,
    /// Put this socket in a room (without viewing anything).
    Join(String),
    /// Take this socket out of a room.
    Leave(String),
    /// Emit to every socket in a room, this one included if it is in it.
    Broadcast(String, &'static str, Value),
}

/// What a new message's emit records for the users it reached: the
/// message, and its members (the audience of the receipt's event, known
/// from the message's own event, so not read again).
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub message: DeliveredMessage,
    pub members: Vec<UserId>,
}

impl Receipt {
    pub fn new(message: &Message, conversation: ConversationIds, members: &[UserId]) -> Self {
        Receipt {
            message: DeliveredMessage::new(message, conversation),
            members: members.to_vec(),
        }
    }
}

/// What the fan-out does with a domain event on this dialect's sockets.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// Emit to every socket in any of `to` and none of `except`.
    Emit {
        to: Vec<String>,
        except: Vec<String>,
        event: &'static str,
        data: Value,
        /// Set on a new message: the sockets it reached record its delivery
        /// to their users (all but the sender).
        receipt: Option<Receipt>,
    },
    /// For each of `users` with a socket here: run `command` as that user
    /// and emit what [`Dialect::encode`] makes of the outcome (as `event`)
    /// to that user's sockets. For views that differ per user (V Chat's
    /// room as each member sees it); runs in order, beside the emits.
    PerUser {
        users: Vec<UserId>,
        command: Command,
        event: &'static str,
    },
    /// Make the sockets in any of `of` join room `room`.
    Join { of: Vec<String>, room: String },
    /// Make the sockets in room `of` leave room `room`.
    Leave { of: String, room: String },
}

impl Delivery {
    /// An emit to the sockets viewing a conversation.
    pub fn to_conversation(conversation_id: i64, event: &'static str, data: Value) -> Self {
        Delivery::Emit {
            to: vec![conversation_room(conversation_id)],
            except: vec![],
            event,
            data,
            receipt: None,
        }
    }
}

pub trait Dialect: Send + Sync + 'static {
    /// Short name, as in the config (`dozaar`).
    fn name(&self) -> &'static str;
    /// The Socket.IO namespace the dialect serves.
    fn namespace(&self) -> &'static str;
    /// The token a client presented in its handshake, if any.
    fn handshake_token(&self, parts: &http::request::Parts, auth: Option<&Value>)
    -> Option<String>;
    /// Whether a client may connect without a token and prove who it is with
    /// a token inside each event that needs it (Syarah).
    fn identity_per_event(&self) -> bool {
        false
    }
    /// The user id a client says it is at handshake; a token must agree.
    fn claimed_user(&self, _parts: &http::request::Parts) -> Option<String> {
        None
    }
    /// A token carried inside an event's payload.
    fn event_token(&self, _payload: &Value) -> Option<String> {
        None
    }
    /// What a socket is told once its handshake identified `actor`.
    fn on_connect(&self, _actor: &Actor) -> Vec<Out> {
        vec![]
    }
    /// A command the core must accept before a client with a verified token
    /// connects; its outcome is encoded as the event `"connect"` and applied
    /// to the new socket. An `Err` refuses the connection with that message.
    fn admission(&self, _parts: &http::request::Parts) -> Result<Option<Command>, String> {
        Ok(None)
    }
    /// The `connect_error` message when the core refused the admission.
    fn refusal(&self, error: &CoreError) -> String {
        error.to_string()
    }
    /// The client event that carries a binary upload (Voxora's
    /// `file_upload`); the runtime puts its bytes through the upload
    /// pipeline and encodes [`Outcome::Uploaded`].
    fn upload_event(&self) -> Option<&'static str> {
        None
    }
    /// Whether a socket that was sent a new message has read it: the socket
    /// shows the conversation open (V Chat's `/message`).
    fn reads_on_delivery(&self) -> bool {
        false
    }
    /// The answer to a failed client event, for a client whose handshake
    /// was `parts` (its language, say).
    fn encode_error_for(
        &self,
        _parts: &http::request::Parts,
        event: &str,
        error: &CoreError,
    ) -> Vec<Out> {
        self.encode_error(event, error)
    }
    /// The `connect_error` message of a refused handshake, for its client.
    fn localize_refusal(&self, _parts: &http::request::Parts, message: String) -> String {
        message
    }
    /// A client event as a core command.
    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError>;
    /// The answer to a client event that succeeded.
    fn encode(&self, actor: &Actor, event: &str, outcome: &Outcome) -> Vec<Out>;
    /// The answer to a client event that failed.
    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out>;
    /// A domain event as emits to this dialect's rooms.
    fn render(&self, event: &DomainEvent) -> Vec<Delivery>;
}

/// The room of every socket of one user, in each dialect's namespace.
pub fn user_room(user: &UserId) -> String {
    format!("u:{user}")
}

/// The personal rooms of `users`, but for `except`.
pub fn user_rooms(users: &[UserId], except: Option<&UserId>) -> Vec<String> {
    users
        .iter()
        .filter(|u| Some(*u) != except)
        .map(user_room)
        .collect()
}

/// The room of the sockets that joined (are viewing) a conversation.
pub fn conversation_room(conversation_id: i64) -> String {
    format!("c:{conversation_id}")
}

/// The conversation whose room `room` is (see [`conversation_room`]).
pub fn room_conversation(room: &str) -> Option<i64> {
    room.strip_prefix("c:")?.parse().ok()
}

/// The token in an `Authorization` header, with or without `Bearer `.
pub fn authorization_header(parts: &http::request::Parts) -> Option<String> {
    let v = parts
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let token = match v.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ if v.eq_ignore_ascii_case("bearer") => "",
        _ => v,
    };
    (!token.is_empty()).then(|| token.to_owned())
}

/// A token given as a JSON string (handshake auth object or event payload),
/// with or without `Bearer ` in front.
pub fn token_value(v: Option<&Value>) -> Option<String> {
    let t = v?.as_str()?.trim();
    let t = t
        .strip_prefix("Bearer ")
        .or_else(|| t.strip_prefix("bearer "))
        .unwrap_or(t)
        .trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A query parameter of the handshake request, percent-decoded.
pub fn query_param(parts: &http::request::Parts, name: &str) -> Option<String> {
    parts.uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v)).flatten()
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Milliseconds as an RFC 3339 UTC timestamp (`2024-01-02T03:04:05.678Z`).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn authorization_header_takes_bearer_or_raw() {
        let mk = |v: &str| {
            let (parts, _) = http::Request::builder()
                .header("authorization", v)
                .body(())
                .unwrap()
                .into_parts();
            authorization_header(&parts)
        };
        assert_eq!(mk("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(mk("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(mk("abc").as_deref(), Some("abc"));
        assert_eq!(mk("Bearer ").as_deref(), None);
    }
}
