//! The domain: validated ids, the model, commands, domain events, the rules of
//! who may do what, and the service that persists and then publishes.
//! No Socket.IO and no SQL in here.

pub mod command;
pub mod error;
pub mod event;
pub mod ids;
pub mod limits;
pub mod model;
pub mod password;
pub mod policy;
pub mod ports;
pub mod service;
pub mod views;

pub use error::{CoreError, ErrorCode};
pub use ids::{ClientId, ConversationRef, MessageRef, MessageText, RowRef, UserId};
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
