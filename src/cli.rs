//! Command line.
//!
//! ```text
//! confab [--config FILE] [--data-dir DIR] [COMMAND]
//!   serve   (default)  [--bind IP] [--dozaar-port N] [--log FILTER] [--log-format F]
//!   migrate
//!   token   --user ID [--name NAME] [--ttl 24h]
//!   user add --username NAME [--password P] [--name DISPLAY] [--id ID]
//!   user list [--json] [--limit N] [--after ID]
//!   user disable ID | user enable ID
//!   user delete ID [--yes]
//!   user export ID [--out FILE]
//!   user revoke-tokens (ID | --all)
//!   import FILE|- [--json]
//!   backup FILE
//!   check-config [--connect]
//!   health  [--ready] [--url URL] [--timeout 5s]
//! ```
//!
//! `--config` (env `CONFAB_CONFIG`) and `--data-dir` (env `CONFAB_DATA_DIR`)
//! are global: they may come before or after the subcommand. Flags that set
//! config keys are turned into `(key path, value)` pairs by
//! [`Cli::flag_overrides`] for [`crate::config::Config::load`].

use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, DurationStr};

/// confab: a real-time chat server that speaks several Socket.IO chat APIs at once.
#[derive(Debug, Clone, Parser)]
#[command(name = "confab", version, about, long_about = None)]
pub struct Cli {
    /// Config file (TOML). Default: ./confab.toml if it exists.
    #[arg(long, global = true, env = "CONFAB_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Data directory (SQLite database, uploads, generated JWT secret).
    #[arg(long, global = true, env = "CONFAB_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the server (the default when no command is given).
    Serve(ServeArgs),
    /// Apply database migrations, then exit.
    Migrate,
    /// Print a signed token for a user (for testing clients).
    Token(TokenArgs),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Ask the server on this machine whether it is up (GET /healthz, or
    /// /readyz with --ready); exit 0 if it answers 2xx, else 1. For health
    /// checks of containers and service managers.
    Health(HealthArgs),
    /// Import history (users, conversations, members, messages, read
    /// watermarks) from an NDJSON file, or `-` for stdin (docs/import.md).
    /// Idempotent: run it again after a crash to resume. Works beside a
    /// running server.
    Import {
        /// The NDJSON file, or `-` for stdin.
        #[arg(value_name = "FILE|-")]
        file: String,
        /// The summary as JSON on stdout, and no progress bar.
        #[arg(long)]
        json: bool,
    },
    /// Copy the SQLite database into a new file with SQLite's online backup,
    /// safe while the server serves. (PostgreSQL: use pg_dump.)
    Backup {
        /// The new file (refused if it exists).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Load the configuration as the server would, print it (secrets
    /// redacted) and every warning, check what can be checked; exit 1 on a
    /// problem.
    CheckConfig {
        /// Also check that the database (PostgreSQL) and Redis answer.
        #[arg(long)]
        connect: bool,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ServeArgs {
    /// Address to bind every listener to (config `bind`).
    #[arg(long, value_name = "IP")]
    pub bind: Option<IpAddr>,
    /// Port of the Dozaar dialect, 0 for any free port (config `dialects.dozaar.port`).
    #[arg(long, value_name = "PORT")]
    pub dozaar_port: Option<u16>,
    /// Log filter, e.g. "info,confab=debug" (config `log`); beats `RUST_LOG`.
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,
    /// Log lines as JSON objects, human-readable text, or JSON unless stdout
    /// and stderr are terminals (config `log_format`).
    #[arg(long, value_name = "FORMAT", value_parser = ["auto", "json", "pretty"])]
    pub log_format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct TokenArgs {
    /// User id (the token's `sub`).
    #[arg(long, value_name = "ID", value_parser = parse_user_id)]
    pub user: String,
    /// Display name put in the token's `name` claim.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Lifetime: "30s", "15m", "1h", "7d" or seconds.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub ttl: DurationStr,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum UserCommand {
    /// Create a user with a password (for confab's own login).
    Add(UserAddArgs),
    /// List users by id: id, name, username, email, created, last seen,
    /// disabled.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// At most this many users.
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
        /// Only users with an id after this one (the last id of a page).
        #[arg(long, value_name = "ID", value_parser = parse_user_id)]
        after: Option<String>,
    },
    /// Disable a user: no login, no token of theirs accepted, their open
    /// sockets closed.
    Disable {
        #[arg(value_name = "ID", value_parser = parse_user_id)]
        id: String,
    },
    /// Enable a disabled user again.
    Enable {
        #[arg(value_name = "ID", value_parser = parse_user_id)]
        id: String,
    },
    /// Delete a user's account and personal data; their messages stay, from
    /// "deleted user".
    Delete {
        #[arg(value_name = "ID", value_parser = parse_user_id)]
        id: String,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Print a user's data as JSON (profile, conversations, messages,
    /// devices, friendships).
    Export {
        #[arg(value_name = "ID", value_parser = parse_user_id)]
        id: String,
        /// Write it to this file (created 0600) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Refuse every token issued until now to a user (or to every user with
    /// --all); they log in again.
    RevokeTokens {
        #[arg(
            value_name = "ID",
            value_parser = parse_user_id,
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        id: Option<String>,
        /// Every user.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct UserAddArgs {
    /// Login name.
    #[arg(long, value_name = "NAME")]
    pub username: String,
    /// Password. Visible to other local users in the process list: prefer
    /// CONFAB_USER_PASSWORD or a line on stdin.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "CONFAB_USER_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Display name.
    #[arg(long, value_name = "DISPLAY")]
    pub name: Option<String>,
    /// User id; generated when left out.
    #[arg(long, value_name = "ID", value_parser = parse_user_id)]
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct HealthArgs {
    /// Ask /readyz (the store answers) instead of /healthz (the process answers).
    #[arg(long)]
    pub ready: bool,
    /// Base URL of the listener to ask, e.g. http://127.0.0.1:3001. Default:
    /// the first enabled dialect's port on this machine, from the config.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// How long to wait for the answer.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub timeout: DurationStr,
}

impl HealthArgs {
    /// The URL to GET: `--url` (or the first enabled dialect's listener on
    /// this machine, as `config` places it) with `/healthz` or `/readyz`.
    pub fn probe_url(&self, config: &Config) -> Result<String, String> {
        let path = if self.ready { "/readyz" } else { "/healthz" };
        if let Some(url) = &self.url {
            return Ok(format!("{}{path}", url.trim_end_matches('/')));
        }
        let (name, dialect) = config
            .dialects
            .enabled()
            .next()
            .ok_or("no dialect is enabled: nothing to ask; give --url")?;
        if dialect.port == 0 {
            return Err(format!(
                "dialects.{name}.port is 0 (any free port): give --url"
            ));
        }
        let ip = match config.bind {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Ok(format!(
            "http://{}{path}",
            SocketAddr::new(ip, dialect.port)
        ))
    }
}

/// GETs `url` directly (no proxy) within `timeout`: the status and body when
/// the answer is 2xx, else why not.
pub async fn probe(url: &str, timeout: Duration) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: {:#}", anyhow::Error::new(e)))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let line = format!("{url}: {status} {}", body.trim());
    if status.is_success() {
        Ok(line)
    } else {
        Err(line)
    }
}

fn parse_user_id(s: &str) -> Result<String, String> {
    if crate::auth::jwt::is_valid_user_id(s) {
        Ok(s.to_string())
    } else {
        Err("a user id is 1 to 128 characters of A-Z a-z 0-9 . _ : @ -".into())
    }
}

impl Cli {
    /// The command to run; `serve` with no flags when none was given.
    pub fn command(&self) -> Command {
        self.command
            .clone()
            .unwrap_or_else(|| Command::Serve(ServeArgs::default()))
    }

    /// `--log`, when given.
    pub fn log_flag(&self) -> Option<String> {
        match self.command() {
            Command::Serve(serve) => serve.log,
            _ => None,
        }
    }

    /// Config overrides from the flags, as `(key path, value)` pairs for
    /// [`crate::config::Config::load`]: `data_dir`, and for `serve` also
    /// `bind`, `dialects.dozaar.port` and `log`.
    pub fn flag_overrides(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(dir) = &self.data_dir {
            out.push(("data_dir".into(), dir.to_string_lossy().into_owned()));
        }
        if let Command::Serve(serve) = self.command() {
            if let Some(bind) = serve.bind {
                out.push(("bind".into(), bind.to_string()));
            }
            if let Some(port) = serve.dozaar_port {
                out.push(("dialects.dozaar.port".into(), port.to_string()));
            }
            if let Some(log) = serve.log {
                out.push(("log".into(), log));
            }
            if let Some(format) = serve.log_format {
                out.push(("log_format".into(), format));
            }
        }
        out
    }
}

impl UserAddArgs {
    /// The password from `--password` / `CONFAB_USER_PASSWORD`, else the first
    /// line of `input` (usually stdin) without its line ending.
    pub fn password_or_read_line(&self, input: &mut impl BufRead) -> std::io::Result<String> {
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "no password: give --password, set CONFAB_USER_PASSWORD or write it on stdin",
            ));
        }
        let trimmed = line.strip_suffix('\n').unwrap_or(&line);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        Ok(trimmed.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("confab").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        <Cli as CommandFactory>::command().debug_assert();
    }

    #[test]
    fn no_command_means_serve() {
        let cli = parse(&[]);
        assert_eq!(cli.command(), Command::Serve(ServeArgs::default()));
        assert!(cli.flag_overrides().is_empty());
    }

    #[test]
    fn serve_flags_become_config_overrides() {
        let cli = parse(&[
            "--data-dir",
            "/tmp/d",
            "serve",
            "--bind",
            "127.0.0.1",
            "--dozaar-port",
            "0",
            "--log",
            "debug",
            "--log-format",
            "json",
        ]);
        assert_eq!(
            cli.flag_overrides(),
            pairs(&[
                ("data_dir", "/tmp/d"),
                ("bind", "127.0.0.1"),
                ("dialects.dozaar.port", "0"),
                ("log", "debug"),
                ("log_format", "json"),
            ])
        );
        assert_eq!(cli.log_flag().as_deref(), Some("debug"));
    }

    #[test]
    fn global_options_may_follow_the_subcommand() {
        let cli = parse(&["migrate", "--data-dir", "/x", "--config", "c.toml"]);
        assert_eq!(cli.command(), Command::Migrate);
        assert_eq!(cli.config, Some(PathBuf::from("c.toml")));
        assert_eq!(cli.flag_overrides(), pairs(&[("data_dir", "/x")]));
    }

    #[test]
    fn token_defaults_to_a_day() {
        let cli = parse(&["token", "--user", "u1", "--name", "Ada"]);
        let Command::Token(t) = cli.command() else {
            panic!("not token");
        };
        assert_eq!(t.user, "u1");
        assert_eq!(t.name.as_deref(), Some("Ada"));
        assert_eq!(t.ttl.as_secs(), 86_400);
        let cli = parse(&["token", "--user", "u1", "--ttl", "1h"]);
        let Command::Token(t) = cli.command() else {
            panic!("not token");
        };
        assert_eq!(t.ttl.as_secs(), 3600);
    }

    #[test]
    fn bad_values_are_refused_by_the_parser() {
        for args in [
            &["token", "--user", "bad id"][..],
            &["token"],
            &["token", "--user", "u", "--ttl", "soon"],
            &["serve", "--dozaar-port", "70000"],
            &["serve", "--bind", "localhost"],
            &["serve", "--log-format", "xml"],
            &["user", "add"],
            &["user", "add", "--username", "a", "--id", "no/slash"],
            &["user", "disable"],
            &["user", "disable", "bad id"],
            &["user", "revoke-tokens"],
            &["user", "revoke-tokens", "u1", "--all"],
            &["user", "list", "--limit", "many"],
            &["backup"],
        ] {
            let r = Cli::try_parse_from(std::iter::once("confab").chain(args.iter().copied()));
            assert!(r.is_err(), "{args:?}");
        }
    }

    #[test]
    fn user_add_reads_the_password_from_stdin_when_not_given() {
        let cli = parse(&[
            "user",
            "add",
            "--username",
            "ada",
            "--name",
            "Ada L",
            "--id",
            "u-1",
        ]);
        let Command::User {
            command: UserCommand::Add(add),
        } = cli.command()
        else {
            panic!("not user add");
        };
        assert_eq!(add.username, "ada");
        assert_eq!(add.name.as_deref(), Some("Ada L"));
        assert_eq!(add.id.as_deref(), Some("u-1"));
        if add.password.is_none() {
            let mut input = std::io::Cursor::new(b"pa ss word\r\nnext\n".to_vec());
            assert_eq!(
                add.password_or_read_line(&mut input).expect("read"),
                "pa ss word"
            );
            let mut empty = std::io::Cursor::new(Vec::new());
            assert!(add.password_or_read_line(&mut empty).is_err());
        }

        let cli = parse(&["user", "add", "--username", "ada", "--password", "given-pw"]);
        let Command::User {
            command: UserCommand::Add(add),
        } = cli.command()
        else {
            panic!("not user add");
        };
        let mut input = std::io::Cursor::new(b"ignored\n".to_vec());
        assert_eq!(
            add.password_or_read_line(&mut input).expect("read"),
            "given-pw"
        );
    }

    fn health(args: &[&str]) -> HealthArgs {
        match parse(args).command() {
            Command::Health(h) => h,
            other => panic!("not health: {other:?}"),
        }
    }

    #[test]
    fn health_asks_the_first_enabled_listener_on_this_machine() {
        let mut config = Config::default();
        let h = health(&["health"]);
        assert_eq!(h.timeout.as_secs(), 5);
        assert_eq!(
            h.probe_url(&config).as_deref(),
            Ok("http://127.0.0.1:3001/healthz")
        );
        config.dialects.dozaar.enabled = false;
        config.bind = "::".parse().expect("ip");
        assert_eq!(
            health(&["health", "--ready"]).probe_url(&config).as_deref(),
            Ok("http://[::1]:3005/readyz")
        );
        config.bind = "10.0.0.7".parse().expect("ip");
        config.dialects.syarah.port = 0;
        assert!(h.probe_url(&config).is_err());
        let h = health(&["health", "--url", "http://node-b:4000/", "--timeout", "1s"]);
        assert_eq!(
            h.probe_url(&config).as_deref(),
            Ok("http://node-b:4000/healthz")
        );
        assert_eq!(h.timeout.as_secs(), 1);
    }

    #[test]
    fn admin_commands_parse() {
        assert_eq!(
            parse(&["user", "list", "--json", "--limit", "5", "--after", "u1"]).command(),
            Command::User {
                command: UserCommand::List {
                    json: true,
                    limit: 5,
                    after: Some("u1".into())
                }
            }
        );
        assert_eq!(
            parse(&["user", "revoke-tokens", "--all"]).command(),
            Command::User {
                command: UserCommand::RevokeTokens {
                    id: None,
                    all: true
                }
            }
        );
        assert_eq!(
            parse(&["backup", "/tmp/b.db", "--data-dir", "/d"]).flag_overrides(),
            pairs(&[("data_dir", "/d")])
        );
        assert_eq!(
            parse(&["check-config", "--connect"]).command(),
            Command::CheckConfig { connect: true }
        );
    }

    #[test]
    fn non_serve_commands_give_only_data_dir() {
        let cli = parse(&["token", "--user", "u", "--data-dir", "/d"]);
        assert_eq!(cli.flag_overrides(), pairs(&[("data_dir", "/d")]));
    }
}
