//! What a dialect is: a table that decodes a client's `(event, payload)` into
//! a core command and encodes outcomes, errors and domain events back into
//! `(event, payload)` of its API, plus a [`Handshake`] that says how its
//! clients connect. Dialects never touch the store and never decide who may
//! do what; the runtime in `crate::socket` runs them. This module holds the
//! [`Dialect`] trait, what its methods return ([`Out`], [`Delivery`]), and
//! the helpers every table uses ([`parse`], [`unknown_event`], and the rooms,
//! tokens and timestamps of [`shared`]).

use http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::core::command::{Actor, Command, Outcome};
use crate::core::event::{ConversationIds, DeliveredMessage, DomainEvent};
use crate::core::{CoreError, Message, UserId, UserSummary};

pub mod dozaar;
pub mod jobspare;
pub mod shared;
pub mod syarah;
#[cfg(test)]
pub(crate) mod testing;
pub mod vchat;
pub mod voxora;

pub use shared::{
    AUTH_HEADER_OR_QUERY, EVERYONE_ROOM, HEADER_AUTH_OR_QUERY, HEADER_AUTH_QUERY_OR_SESSION,
    auth_header_or_query_token, auth_token, authorization_header, conversation_room,
    header_auth_or_query_token, header_auth_query_or_session, identified_rooms, iso8601,
    query_param, query_token, room_conversation, socket_room, token_value, user_room, user_rooms,
};

/// A dialect: the table between its clients' events and the core, on one
/// Socket.IO namespace.
pub trait Dialect: Send + Sync + 'static {
    /// Short name, as in the config (`dozaar`).
    fn name(&self) -> &'static str;
    /// The Socket.IO namespace the dialect serves.
    fn namespace(&self) -> &'static str;
    /// The client events it knows (those it decodes, and its upload
    /// event): the bounded set of event names the metrics count by name.
    fn events(&self) -> &'static [&'static str];
    /// How its clients connect, and what else the runtime does for them.
    fn handshake(&self) -> Handshake;
    /// A client event as a core command.
    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError>;
    /// The answer to a client event that succeeded.
    fn encode(&self, actor: &Actor, event: &str, outcome: &Outcome) -> Vec<Out>;
    /// The answer to a client event that failed.
    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out>;
    /// A domain event as emits to this dialect's rooms.
    fn render(&self, event: &DomainEvent) -> Vec<Delivery>;
}

/// The fields a dialect's app reads in a new message's push (strings).
pub type PushFields = fn(&Message, &UserSummary) -> std::collections::BTreeMap<String, String>;

/// The push formats the dialects define: the name a dialect registers
/// its clients' devices with, and the fields its app reads in a new
/// message's push (added to the neutral data by `crate::push`).
pub fn push_formats() -> Vec<(&'static str, PushFields)> {
    vec![(vchat::push::PUSH_FORMAT, vchat::push::push_data)]
}

/// How a dialect's clients connect: where their token is. Most dialects
/// need nothing more ([`Handshake::new`]); each other field is something
/// one dialect does, off by default.
#[derive(Clone, Copy)]
pub struct Handshake {
    /// The token a client presented in its handshake (request and auth
    /// object), if any.
    pub token: fn(&Parts, Option<&Value>) -> Option<String>,
    /// Where [`Handshake::token`] looks, for a client that sent no token
    /// ("missing token: send it as …").
    pub token_places: &'static str,
    /// The user a client claims to be (Syarah's `query.userId`).
    pub claim: Option<Claim>,
    /// The event a socket is sent once its handshake identified its user
    /// (JobSpare's `authenticated`).
    pub greeting: Option<Greeting>,
    /// A command the core must accept before the client connects (Voxora).
    pub admission: Option<Admission>,
    /// Error texts in the client's language (V Chat's `accept-language`).
    pub language: Option<Language>,
    /// The client event that carries a binary upload (Voxora's
    /// `file_upload`): the runtime puts its bytes through the upload
    /// pipeline and encodes [`Outcome::Uploaded`].
    pub upload_event: Option<&'static str>,
    /// A socket that was sent a new message has read it: the socket shows
    /// the conversation open (V Chat's `/message`).
    pub reads_on_delivery: bool,
    /// The payload field in which the dialect's clients name a
    /// conversation, in the events they send and in those they get
    /// (JobSpare's `conversationId`). The runtime remembers, per socket,
    /// the form in which the socket last named each conversation (a pair in
    /// its own order, a number, a UUID), and puts that form in this field
    /// of what the socket is sent about that conversation: the answers to
    /// its events and the events [`Dialect::render`]s from a domain event
    /// about it. A socket that never named the conversation gets what the
    /// dialect rendered.
    pub conversation_field: Option<&'static str>,
}

impl Handshake {
    /// A handshake that takes a token from where `token` finds it:
    /// `token_places`, in words.
    pub const fn new(
        token: fn(&Parts, Option<&Value>) -> Option<String>,
        token_places: &'static str,
    ) -> Self {
        Handshake {
            token,
            token_places,
            claim: None,
            greeting: None,
            admission: None,
            language: None,
            upload_event: None,
            reads_on_delivery: false,
            conversation_field: None,
        }
    }
}

/// The event (name and payload) a socket of `actor` is sent on connect.
pub type Greeting = fn(&Actor) -> (&'static str, Value);

/// A user a client claims to be at its handshake. A token must agree; the
/// client may connect without one and prove who it is with a token inside
/// each event that needs it.
#[derive(Clone, Copy)]
pub struct Claim {
    /// The user id the handshake request names.
    pub user: fn(&Parts) -> Option<String>,
    /// A token carried inside an event's payload.
    pub event_token: fn(&Value) -> Option<String>,
}

/// A command the core must accept before a client with a verified token
/// connects; its outcome is encoded as the event `"connect"` and may only
/// put the new socket in rooms.
#[derive(Clone, Copy)]
pub struct Admission {
    /// The command for the handshake request and auth object; an `Err`
    /// refuses the connection with that message.
    pub command: fn(&Parts, Option<&Value>) -> Result<Command, String>,
    /// The `connect_error` message when the core refused the command.
    pub refusal: fn(&CoreError) -> String,
}

/// What a client is told in its own language.
#[derive(Clone, Copy)]
pub struct Language {
    /// The answer to a failed client event (in place of
    /// [`Dialect::encode_error`]).
    pub errors: fn(&Parts, &str, &CoreError) -> Vec<Out>,
    /// The `connect_error` message of a refused handshake.
    pub refusal: fn(&Parts, String) -> String,
}

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
    /// An emit to the sockets in any of the rooms `to`.
    pub fn to_rooms(to: Vec<String>, event: &'static str, data: Value) -> Self {
        Delivery::Emit {
            to,
            except: vec![],
            event,
            data,
            receipt: None,
        }
    }

    /// An emit to the sockets viewing a conversation.
    pub fn to_conversation(conversation_id: i64, event: &'static str, data: Value) -> Self {
        Delivery::to_rooms(vec![conversation_room(conversation_id)], event, data)
    }

    /// An emit to the sockets of `users`, but for those of `except`.
    pub fn to_users(
        users: &[UserId],
        except: Option<&UserId>,
        event: &'static str,
        data: Value,
    ) -> Self {
        Delivery::to_rooms(user_rooms(users, except), event, data)
    }

    /// An emit to the sockets viewing a conversation, but for those of
    /// `user` (who did what the event tells).
    pub fn to_others_viewing(
        conversation_id: i64,
        user: &UserId,
        event: &'static str,
        data: Value,
    ) -> Self {
        Delivery::Emit {
            to: vec![conversation_room(conversation_id)],
            except: vec![user_room(user)],
            event,
            data,
            receipt: None,
        }
    }

    /// A user's presence (`DomainEvent::Presence`): to every identified
    /// socket but the user's own when `everyone` may see it, else to the
    /// sockets of `audience`.
    pub fn presence(
        user: &UserId,
        everyone: bool,
        audience: &[UserId],
        event: &'static str,
        data: Value,
    ) -> Self {
        if everyone {
            Delivery::Emit {
                to: vec![EVERYONE_ROOM.to_owned()],
                except: vec![user_room(user)],
                event,
                data,
                receipt: None,
            }
        } else {
            Delivery::to_users(audience, None, event, data)
        }
    }

    /// A new message's emit to the rooms `to`: the sockets it reaches
    /// record its delivery.
    pub fn new_message(
        to: Vec<String>,
        event: &'static str,
        data: Value,
        receipt: Receipt,
    ) -> Self {
        Delivery::Emit {
            to,
            except: vec![],
            event,
            data,
            receipt: Some(receipt),
        }
    }

    /// The sockets of a member who left or was removed stop viewing the
    /// conversation.
    pub fn member_removed(conversation_id: i64, user: &UserId) -> Self {
        Delivery::Leave {
            of: user_room(user),
            room: conversation_room(conversation_id),
        }
    }
}

/// A payload as the dialect's payload type `T`; one that does not fit is
/// an invalid payload.
pub fn parse<T: DeserializeOwned>(payload: &Value) -> Result<T, CoreError> {
    T::deserialize(payload).map_err(|e| CoreError::invalid(format!("invalid payload: {e}")))
}

/// The error of an event the dialect does not know (its name cut to 64
/// characters).
pub fn unknown_event(event: &str) -> CoreError {
    CoreError::invalid(format!(
        "unknown event {:?}",
        event.chars().take(64).collect::<String>()
    ))
}
