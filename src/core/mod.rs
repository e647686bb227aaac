//! The domain: validated ids, the model, commands and their outcomes,
//! domain events, the rules of who may do what ([`policy`]), password
//! hashing, and the [`Service`] that checks, then persists, then publishes.
//! It also holds the live state that belongs to connections rather than to
//! the store ([`presence`], [`viewing`], [`typing`]), the conversations a
//! send checks kept in memory ([`rosters`]), and the per-user
//! [`rate`] limit, the door of password accounts ([`login`]: open or closed
//! registration, failed logins throttled), and the [`allowlist`] of
//! attachments kept elsewhere.
//!
//! The core owns its ports, the traits through which it reaches what lies
//! outside it ([`ports`]): the [`Store`](ports::Store) (implemented by
//! `crate::store`), the [`Publisher`](event::Publisher) of events (the
//! fan-out's bus), and the state shared with the other nodes of a cluster,
//! [`ClaimStore`](ports::ClaimStore) and [`RateCounter`](ports::RateCounter)
//! (implemented on Redis by `crate::fanout::cluster`). It imports none of
//! their implementations: no Socket.IO, SQL, HTTP or Redis in here.

pub mod allowlist;
pub mod changes;
pub mod command;
pub mod error;
pub mod event;
pub mod ids;
pub mod import;
pub mod login;
pub mod model;
pub mod password;
pub mod policy;
pub mod ports;
pub mod presence;
pub mod rate;
pub mod rosters;
pub mod service;
pub mod typing;
pub mod viewing;
pub mod views;

pub use changes::{Change, ChangeCursor, ChangeKind, ChangePage};
pub use error::{CoreError, ErrorCode};
pub use ids::{ClientId, ConversationRef, ExternalId, MessageRef, MessageText, RowRef, UserId};
pub use model::*;
pub use service::Service;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The current time in milliseconds since the Unix epoch.
pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
