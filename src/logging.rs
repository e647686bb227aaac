//! Log set-up: which filter wins, and the format of the lines.
//!
//! The filter is `--log` when given, else `CONFAB_LOG`, else `RUST_LOG`, else
//! the config file's `log` (default `info`). Lines go to stderr, as JSON
//! objects (one a line) or human-readable text ([`LogFormat`]); colour codes
//! only when stderr is a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat, StoreKind};

/// The filter to log with. `config_log` is the config's `log` (defaults,
/// file, `CONFAB_LOG`, `--log` merged, the flag highest); `flag` and
/// `confab_log` say whether `--log` and `CONFAB_LOG` were given; `rust_log`
/// is `RUST_LOG`, which beats the file but not `CONFAB_LOG` nor `--log`. A
/// `RUST_LOG` that is not a valid filter is ignored.
pub fn filter(
    config_log: &str,
    flag: Option<&str>,
    confab_log: Option<&str>,
    rust_log: Option<&str>,
) -> String {
    let given = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
    if given(flag) || given(confab_log) {
        return config_log.to_owned();
    }
    match rust_log {
        Some(r) if given(Some(r)) && EnvFilter::try_new(r).is_ok() => r.to_owned(),
        _ => config_log.to_owned(),
    }
}

/// Installs the process's logger: `filter` (already validated with the
/// config), `format` resolved to `json` or `pretty`.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.resolve_here() {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_ansi(false)
            .init(),
        _ => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// The start's `info` line (version, store, data directory, cluster mode),
/// and the warning of a node on PostgreSQL without Redis.
pub fn announce_start(config: &Config) {
    let kind = config.store_kind();
    let cluster = if config.redis_url.is_some() {
        "redis"
    } else {
        "single node"
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        store = kind.as_str(),
        data_dir = %config.data_dir.display(),
        cluster,
        "confab starting"
    );
    if kind == StoreKind::Postgres && config.redis_url.is_none() {
        tracing::warn!(
            "this node runs alone: it was given a PostgreSQL database but no Redis \
             (redis_url, CONFAB_REDIS_URL), so other nodes on that database will not hear \
             its messages, presence or typing, nor it theirs"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_beats_confab_log_which_beats_rust_log_which_beats_the_file() {
        // `config_log` already holds the flag, or else CONFAB_LOG, or else the file's.
        assert_eq!(filter("warn", Some("warn"), None, Some("debug")), "warn");
        assert_eq!(filter("error", None, Some("error"), Some("debug")), "error");
        assert_eq!(filter("info", None, None, Some("debug")), "debug");
        assert_eq!(filter("info", None, None, None), "info");
        assert_eq!(filter("info", None, None, Some("")), "info");
        assert_eq!(filter("info", None, Some(""), Some("trace")), "trace");
        assert_eq!(
            filter("info", None, None, Some("not a = filter [")),
            "info",
            "an invalid RUST_LOG is ignored"
        );
    }
}
