//! The `[limits]` table: sizes and rates.

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, invalid, require_positive};

/// Sizes and rates. Every value must be greater than zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Messages a user may send per minute (all sockets, all dialects).
    pub messages_per_minute: u32,
    /// Largest Engine.IO packet payload, bytes (socketioxide `max_payload`).
    pub max_payload_bytes: u64,
    /// Outgoing packets queued per socket before emits fail
    /// (socketioxide `max_buffer_size`).
    pub max_buffer_packets: usize,
    /// Largest WebSocket message, bytes.
    pub ws_max_message_bytes: usize,
    /// Largest WebSocket frame, bytes (≤ `ws_max_message_bytes`).
    pub ws_max_frame_bytes: usize,
    /// Largest HTTP request body (JSON API), bytes.
    pub http_body_bytes: usize,
    /// Seconds a client has to complete the Socket.IO connect.
    pub connect_timeout_secs: u64,
    /// Most attachments on one message.
    pub max_attachments: usize,
    /// Most messages returned by one history page.
    pub history_page_max: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_text_chars: 10_000,
            messages_per_minute: 50,
            max_payload_bytes: 65_536,
            max_buffer_packets: 1_024,
            ws_max_message_bytes: 65_536,
            ws_max_frame_bytes: 65_536,
            http_body_bytes: 1_048_576,
            connect_timeout_secs: 10,
            max_attachments: 10,
            history_page_max: 100,
        }
    }
}

impl LimitsConfig {
    /// Checks the `limits.*` keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_positive(&[
            ("limits.max_text_chars", self.max_text_chars as u64),
            (
                "limits.messages_per_minute",
                u64::from(self.messages_per_minute),
            ),
            ("limits.max_payload_bytes", self.max_payload_bytes),
            ("limits.max_buffer_packets", self.max_buffer_packets as u64),
            (
                "limits.ws_max_message_bytes",
                self.ws_max_message_bytes as u64,
            ),
            ("limits.ws_max_frame_bytes", self.ws_max_frame_bytes as u64),
            ("limits.http_body_bytes", self.http_body_bytes as u64),
            ("limits.connect_timeout_secs", self.connect_timeout_secs),
            ("limits.max_attachments", self.max_attachments as u64),
            ("limits.history_page_max", u64::from(self.history_page_max)),
        ])?;
        if self.ws_max_frame_bytes > self.ws_max_message_bytes {
            return Err(invalid(
                "limits.ws_max_frame_bytes",
                format!(
                    "must not exceed limits.ws_max_message_bytes ({})",
                    self.ws_max_message_bytes
                ),
            ));
        }
        Ok(())
    }
}
