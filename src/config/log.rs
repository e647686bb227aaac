//! The `log_format` key: how log lines are written.

use std::io::IsTerminal;

use serde::{Deserialize, Serialize};

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `pretty` when both stdout and stderr are terminals, else `json`.
    #[default]
    Auto,
    /// One JSON object a line, without colour codes.
    Json,
    /// Human-readable lines; coloured only on a terminal.
    Pretty,
}

impl LogFormat {
    /// `json` or `pretty`: `auto` resolved by whether stdout and stderr are
    /// terminals.
    pub fn resolve(self, stdout_terminal: bool, stderr_terminal: bool) -> LogFormat {
        match self {
            LogFormat::Auto if stdout_terminal && stderr_terminal => LogFormat::Pretty,
            LogFormat::Auto => LogFormat::Json,
            other => other,
        }
    }

    /// [`LogFormat::resolve`] for this process's stdout and stderr.
    pub fn resolve_here(self) -> LogFormat {
        self.resolve(
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_pretty_only_when_both_streams_are_terminals() {
        assert_eq!(LogFormat::Auto.resolve(true, true), LogFormat::Pretty);
        assert_eq!(LogFormat::Auto.resolve(false, true), LogFormat::Json);
        assert_eq!(LogFormat::Auto.resolve(true, false), LogFormat::Json);
        assert_eq!(LogFormat::Pretty.resolve(false, false), LogFormat::Pretty);
        assert_eq!(LogFormat::Json.resolve(true, true), LogFormat::Json);
    }
}
