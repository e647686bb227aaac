//! The `[socket]` table: Engine.IO / Socket.IO transport settings, and which
//! browser origins may connect.

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, invalid, require_positive};

/// Engine.IO / Socket.IO transport settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocketConfig {
    /// Seconds between server pings (a Socket.IO v2 client pings the server
    /// at this interval instead).
    pub ping_interval_secs: u64,
    /// Seconds without a pong before a client is dropped (> ping interval);
    /// a v2 client is dropped after interval + timeout without a ping.
    pub ping_timeout_secs: u64,
    /// Origins allowed to connect (`scheme://host[:port]`), or `"*"` for any.
    /// A request without an `Origin` header (non-browser client) is always
    /// allowed.
    pub allowed_origins: Vec<String>,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            ping_interval_secs: 25,
            ping_timeout_secs: 60,
            allowed_origins: vec!["*".into()],
        }
    }
}

impl SocketConfig {
    /// Whether a browser from `origin` may connect. `"*"` in
    /// `allowed_origins` allows any origin. Otherwise the origin must equal
    /// an entry (`scheme://host[:port]`, case-insensitive, default ports
    /// 80/443 optional). A missing `Origin` header is always allowed: only
    /// browsers send it, and non-browser clients (mobile apps, Flutter,
    /// servers) cannot be restricted by it anyway.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let allowed = &self.allowed_origins;
        if allowed.iter().any(|a| a.trim() == "*") {
            return true;
        }
        let origin = normalize_origin(origin);
        allowed.iter().any(|a| normalize_origin(a) == origin)
    }

    /// Checks the `socket.*` keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_positive(&[("socket.ping_interval_secs", self.ping_interval_secs)])?;
        if self.ping_timeout_secs <= self.ping_interval_secs {
            return Err(invalid(
                "socket.ping_timeout_secs",
                format!(
                    "must be greater than socket.ping_interval_secs ({})",
                    self.ping_interval_secs
                ),
            ));
        }
        if self.allowed_origins.is_empty() {
            return Err(invalid(
                "socket.allowed_origins",
                "must not be empty (use [\"*\"] to allow any origin)",
            ));
        }
        for o in &self.allowed_origins {
            if o.trim() != "*" && !is_origin(o) {
                return Err(invalid(
                    "socket.allowed_origins",
                    format!(
                        "{o:?} is not an origin: write scheme://host[:port] without a path or trailing slash, or \"*\""
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `scheme://host[:port]` with nothing after.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.trim().split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 literal `[::1]` without a port has ':' inside the brackets.
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && !host
            .chars()
            .any(|c| matches!(c, '/' | '?' | '#' | '@' | ' ' | '\\'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    scheme_ok && host_ok && port_ok
}

/// Lowercase, trimmed, default port removed.
fn normalize_origin(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    for (scheme, port) in [("http://", ":80"), ("https://", ":443")] {
        if s.starts_with(scheme)
            && let Some(stripped) = s.strip_suffix(port)
        {
            return stripped.to_string();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn origins_are_checked() {
        let mut c = Config::default();
        assert!(c.origin_allowed(Some("https://anything.example")));
        assert!(c.origin_allowed(None));

        c.socket.allowed_origins = vec![
            "https://chat.example.com".into(),
            "http://localhost:5173".into(),
        ];
        assert!(c.origin_allowed(Some("https://chat.example.com")));
        assert!(c.origin_allowed(Some("HTTPS://Chat.Example.com")));
        assert!(c.origin_allowed(Some("https://chat.example.com:443")));
        assert!(c.origin_allowed(Some("http://localhost:5173")));
        assert!(!c.origin_allowed(Some("http://localhost:5174")));
        assert!(!c.origin_allowed(Some("http://chat.example.com")));
        assert!(!c.origin_allowed(Some("https://chat.example.com.evil.test")));
        assert!(!c.origin_allowed(Some("null")));
        assert!(c.origin_allowed(None), "non-browser clients send no Origin");
        assert!(c.validate().is_ok());

        assert!(is_origin("http://[::1]:8080"));
        assert!(is_origin("http://[::1]"));
        assert!(!is_origin("chat.example.com"));
        assert!(!is_origin("https://x/path"));
        assert!(!is_origin("https://x:99999"));
    }
}
