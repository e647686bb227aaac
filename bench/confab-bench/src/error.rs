//! The errors of the library; the binary wraps them in `anyhow`.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum BenchError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("the server refused the namespace connect: {0}")]
    Refused(String),
    #[error("timed out: {0}")]
    Timeout(&'static str),
    #[error("hook: {0}")]
    Hook(String),
    #[error("/proc: {0}")]
    Proc(String),
    #[error("REST {status} on {what}: {body}")]
    Rest {
        what: String,
        status: u16,
        body: String,
    },
}

pub type Result<T> = std::result::Result<T, BenchError>;

pub fn protocol(msg: impl Into<String>) -> BenchError {
    BenchError::Protocol(msg.into())
}
