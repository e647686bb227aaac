//! The operator's commands on a store (`confab user ...`, `confab backup`,
//! `confab check-config`): what they do, apart from the command line. They
//! open the store as a server does but never take the data directory's lock,
//! so they run beside a server on the same database.

pub mod check;
pub mod console;
pub mod users;

use crate::core::error::StoreError;

/// What can go wrong in an operator's command.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no user {0}")]
    NoSuchUser(String),
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
