//! Command line.
//!
//! ```text
//! confab [--config FILE] [--data-dir DIR] [COMMAND]
//!   serve   (default)  [--bind IP] [--dozaar-port N] [--log FILTER]
//!   migrate
//!   token   --user ID [--name NAME] [--ttl 24h]
//!   user add --username NAME [--password P] [--name DISPLAY] [--id ID]
//! ```
//!
//! `--config` (env `CONFAB_CONFIG`) and `--data-dir` (env `CONFAB_DATA_DIR`)
//! are global: they may come before or after the subcommand. Flags that set
//! config keys are turned into `(key path, value)` pairs by
//! [`Cli::flag_overrides`] for [`crate::config::Config::load`].

use std::io::BufRead;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::DurationStr;

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
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ServeArgs {
    /// Address to bind every listener to (config `bind`).
    #[arg(long, value_name = "IP")]
    pub bind: Option<IpAddr>,
    /// Port of the Dozaar dialect, 0 for any free port (config `dialects.dozaar.port`).
    #[arg(long, value_name = "PORT")]
    pub dozaar_port: Option<u16>,
    /// Log filter, e.g. "info,confab=debug" (config `log`).
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,
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
        ]);
        assert_eq!(
            cli.flag_overrides(),
            pairs(&[
                ("data_dir", "/tmp/d"),
                ("bind", "127.0.0.1"),
                ("dialects.dozaar.port", "0"),
                ("log", "debug"),
            ])
        );
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
            &["user", "add"],
            &["user", "add", "--username", "a", "--id", "no/slash"],
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

    #[test]
    fn non_serve_commands_give_only_data_dir() {
        let cli = parse(&["token", "--user", "u", "--data-dir", "/d"]);
        assert_eq!(cli.flag_overrides(), pairs(&[("data_dir", "/d")]));
    }
}
