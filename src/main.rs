//! `confab`: parse the command line, load the config, run.

use anyhow::{Context, bail};
use clap::Parser;
use confab::cli::{self, Cli, Command, TokenArgs, UserAddArgs, UserCommand};
use confab::config::{self, Config};
use confab::config::{LogFormat, StoreKind};
use confab::core::UserId;
use confab::{app, auth, core, logging, store, telemetry};
use std::sync::Arc;

/// glibc's `malloc` and `malloc_consolidate` took about a fifth of the fan-out
/// profile; mimalloc's per-thread free lists suit the many
/// small, short-lived buffers of packet rendering and delivery.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::CheckConfig { connect } = cli.command() {
        return check_config(&cli, connect).await;
    }
    let config = Config::load(
        cli.config.as_deref(),
        config::env_vars(),
        &cli.flag_overrides(),
    )
    .context("loading the configuration")?;
    let env = |name| std::env::var(name).ok();
    let filter = logging::filter(
        &config.log,
        cli.log_flag().as_deref(),
        env("CONFAB_LOG").as_deref(),
        env("RUST_LOG").as_deref(),
    );
    logging::init(&filter, config.log_format);
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    match cli.command() {
        Command::Serve(_) => {
            let json = config.log_format.resolve_here() == LogFormat::Json;
            logged(serve(config).await, json)
        }
        Command::Migrate => {
            app::prepare_data_dir(&config)?;
            store::open(&config.database_url())
                .await
                .context("migrating the database")?;
            println!("confab: database {} is up to date", config.database_url());
            Ok(())
        }
        Command::Token(TokenArgs { user, name, ttl }) => {
            // Never a new secret: the server would refuse what it signs.
            let keys = auth::jwt::JwtKeys::load_existing(&config.auth, &config.data_dir)?;
            println!("{}", keys.issue(&user, name.as_deref(), ttl.as_duration())?);
            Ok(())
        }
        Command::User {
            command: UserCommand::Add(args),
        } => {
            let password = args.password_or_read_line(&mut std::io::stdin().lock())?;
            let UserAddArgs {
                username, name, id, ..
            } = args;
            let id = id
                .map(|i| UserId::parse(&i))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            app::prepare_data_dir(&config)?;
            let store = store::open(&config.database_url()).await?;
            let service =
                core::Service::new(store, confab::fanout::Bus::new(), app::limits(&config));
            let user = service
                .register(id, &username, &password, name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("confab: user {} added with id {}", username, user.id);
            Ok(())
        }
        Command::User { command } => user_admin(&config, command).await,
        Command::Backup { file } => backup(&config, &file).await,
        Command::Import { file, json } => import(&config, &file, json).await,
        Command::CheckConfig { .. } => Ok(()),
        Command::Health(args) => {
            let url = args.probe_url(&config).map_err(anyhow::Error::msg)?;
            let answer = cli::probe(&url, args.timeout.as_duration())
                .await
                .map_err(anyhow::Error::msg)?;
            println!("{answer}");
            Ok(())
        }
    }
}

/// The store of the server's configuration, for an operator's command:
/// never the data directory's lock (a server may be running on it), and
/// never a new empty SQLite database.
async fn admin_store(config: &Config) -> anyhow::Result<store::DynStore> {
    existing_database(config)?;
    store::open(&config.database_url())
        .await
        .context("opening the database")
}

/// An error if the default SQLite file of the data directory does not exist.
fn existing_database(config: &Config) -> anyhow::Result<()> {
    if config.store_kind() == StoreKind::SqliteFile && config.database_url.is_none() {
        let path = config.data_dir.join("confab.db");
        if !path.exists() {
            bail!(
                "no database at {}: give the server's data directory (--data-dir DIR, data_dir \
                 in the config file, or CONFAB_DATA_DIR)",
                path.display()
            );
        }
    }
    Ok(())
}

async fn user_admin(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    use confab::admin::users;
    let store = admin_store(config).await?;
    match command {
        UserCommand::Add(_) => unreachable!("handled before"),
        UserCommand::List { json, limit, after } => {
            let lines = users::list(&store, after.as_deref(), limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&lines)?);
            } else {
                print!("{}", users::table(&lines));
            }
        }
        UserCommand::Disable { id } => {
            users::set_disabled(&store, &id, true).await?;
            println!("confab: user {id} is disabled");
        }
        UserCommand::Enable { id } => {
            users::set_disabled(&store, &id, false).await?;
            println!("confab: user {id} is enabled");
        }
        UserCommand::RevokeTokens { id, .. } => {
            let n = users::revoke_tokens(&store, id.as_deref()).await?;
            match id {
                Some(id) => {
                    println!("confab: the tokens of user {id} issued until now are refused")
                }
                None => println!("confab: the tokens of {n} users issued until now are refused"),
            }
        }
        UserCommand::Delete { id, yes } => {
            if !yes && !confirm(&format!("delete user {id} and their personal data?"))? {
                bail!("not deleted: answer y, or give --yes");
            }
            users::delete(&store, &id).await?;
            println!("confab: user {id} is deleted (their messages stay, from \"deleted user\")");
        }
        UserCommand::Export { id, out } => {
            let export = users::export(&store, &id).await?;
            let text = serde_json::to_string_pretty(&export)?;
            match out {
                Some(path) => {
                    write_private(&path, text.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("confab: user {id} exported to {}", path.display());
                }
                None => println!("{text}"),
            }
        }
    }
    Ok(())
}

/// Asks on the terminal; false when stdin is not one.
fn confirm(question: &str) -> anyhow::Result<bool> {
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        bail!("{question} Give --yes to do it without asking");
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// Writes a new file readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// `confab import FILE|-`: the history in the file into the server's
/// store (created if missing), with a progress bar on a terminal (plain
/// lines otherwise) and the summary at the end; exit 1 if a record was
/// refused.
async fn import(config: &Config, file: &str, json: bool) -> anyhow::Result<()> {
    use confab::import;
    use std::io::{IsTerminal, Write};
    app::prepare_data_dir(config)?;
    let store = store::open(&config.database_url())
        .await
        .context("opening the database")?;
    let (input, total): (Box<dyn tokio::io::AsyncBufRead + Unpin + Send>, Option<u64>) =
        if file == "-" {
            (
                Box::new(tokio::io::BufReader::new(tokio::io::stdin())),
                None,
            )
        } else {
            let f = tokio::fs::File::open(file)
                .await
                .with_context(|| format!("opening {file}"))?;
            let size = f.metadata().await.ok().map(|m| m.len());
            (
                Box::new(tokio::io::BufReader::with_capacity(1 << 20, f)),
                size,
            )
        };
    let terminal = !json && std::io::stderr().is_terminal();
    let mut last_line = std::time::Instant::now();
    let summary = import::run(&store, input, |s| {
        if json {
            return;
        }
        if terminal {
            let bar = match total {
                Some(total) if total > 0 => {
                    let done = (s.bytes as f64 / total as f64).min(1.0);
                    let filled = (done * 30.0) as usize;
                    format!(
                        "[{}{}] {:>3.0}% ",
                        "#".repeat(filled),
                        "-".repeat(30 - filled),
                        done * 100.0
                    )
                }
                _ => String::new(),
            };
            eprint!("\r{bar}{}\x1b[K", import::progress_line(s));
            let _ = std::io::stderr().flush();
        } else if last_line.elapsed() >= std::time::Duration::from_secs(5) {
            last_line = std::time::Instant::now();
            eprintln!("confab: import: {}", import::progress_line(s));
        }
    })
    .await?;
    if terminal {
        eprintln!();
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "confab: imported {file}: {} records read, {} created, {} skipped (already there), \
             {} refused; {} conversations put back in time order; {:.1} s",
            summary.records,
            summary.created,
            summary.skipped,
            summary.refused,
            summary.reordered,
            summary.elapsed_ms as f64 / 1000.0
        );
        for r in &summary.refusals {
            println!("  line {}: {}", r.line, r.reason);
        }
        if summary.refused as usize > summary.refusals.len() {
            println!(
                "  … and {} more",
                summary.refused as usize - summary.refusals.len()
            );
        }
    }
    if summary.refused > 0 {
        std::process::exit(1);
    }
    Ok(())
}

async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    match config.store_kind() {
        StoreKind::Postgres => bail!(
            "confab backup copies a SQLite database; this one is PostgreSQL: use pg_dump \
             (e.g. pg_dump --format=custom --file=confab.dump \"$DATABASE_URL\"), see docs/deploy.md"
        ),
        StoreKind::SqliteMemory => bail!("an in-memory database has nothing to back up"),
        StoreKind::SqliteFile => {}
    }
    existing_database(config)?;
    let sqlite = store::sqlite::SqliteStore::open(&config.database_url())
        .await
        .context("opening the database")?;
    sqlite
        .backup_to(file)
        .with_context(|| format!("backing up to {}", file.display()))?;
    sqlite.close().await;
    println!("confab: database backed up to {}", file.display());
    Ok(())
}

/// `confab check-config`: the effective configuration, every warning, and
/// the problems found; exit 1 if there is one.
async fn check_config(cli: &Cli, connect: bool) -> anyhow::Result<()> {
    use confab::admin::check;
    let config = match Config::load(
        cli.config.as_deref(),
        config::env_vars(),
        &cli.flag_overrides(),
    ) {
        Ok(config) => config,
        Err(e) => {
            println!("problems:\n  - {e}");
            println!("confab: the configuration is NOT usable");
            std::process::exit(1);
        }
    };
    print!("{}", check::effective(&config));
    let mut report = check::check(&config);
    if connect {
        check::connect(&config, &mut report).await;
    }
    for (title, list) in [
        ("notes", &report.notes),
        ("warnings", &report.warnings),
        ("problems", &report.problems),
    ] {
        if !list.is_empty() {
            println!("\n{title}:");
            for item in list {
                println!("  - {item}");
            }
        }
    }
    if report.ok() {
        println!("\nconfab: the configuration is usable");
        Ok(())
    } else {
        println!("\nconfab: the configuration is NOT usable");
        std::process::exit(1);
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    // With JSON logs, the log's `info` lines say what these would.
    let pretty = config.log_format.resolve_here() == LogFormat::Pretty;
    // Installed before the start, so that what it records is counted: for
    // `/metrics`, and for the operator console (which reads the same
    // figures) even without the admin listener.
    if config.admin.console() {
        telemetry::recorder::install()?;
    }
    let admin = match config.admin.listen_addr() {
        Some(addr) => Some((addr, telemetry::recorder::install()?)),
        None => None,
    };
    let running = app::start(config).await?;
    let stop = shutdown_signal();
    if running.listeners.is_empty() {
        bail!("no dialect is enabled: set dialects.<name>.enabled = true");
    }
    for (dialect, addr) in running.listeners.iter().filter(|_| pretty) {
        let host = if addr.ip().is_unspecified() {
            format!("localhost:{}", addr.port())
        } else {
            addr.to_string()
        };
        println!("confab: {dialect} listening on http://{host}");
    }
    if let Some((addr, handle)) = admin {
        let census = running.state.census.clone();
        let (local, _) = telemetry::admin::serve(addr, handle, Arc::new(move || census.record()))
            .await
            .with_context(|| {
                format!(
                    "admin listener on {addr}: set admin.listen (CONFAB_ADMIN_LISTEN) to move it"
                )
            })?;
        tracing::info!(addr = %local, "metrics listening on /metrics");
        if pretty {
            println!("confab: metrics on http://{local}/metrics");
        }
    }
    if pretty {
        println!(
            "confab: data in {}; get a token with `confab --data-dir {} token --user alice`, \
             or POST /api/auth/register",
            data_dir.display(),
            data_dir.display()
        );
    }
    stop.await;
    let limit = running.state.config.drain_timeout.as_duration();
    tracing::info!(limit_ms = limit.as_millis() as u64, "shutting down");
    if pretty {
        println!(
            "confab: shutting down (draining for at most {} ms)",
            limit.as_millis()
        );
    }
    let drained = running.drain(limit).await;
    tracing::info!(
        took_ms = drained.took.as_millis() as u64,
        quiet = drained.quiet,
        workers_left = drained.workers_left,
        push_left = drained.push_left,
        listeners_closed = drained.listeners_closed,
        "stopped"
    );
    Ok(())
}

/// A server that could not start (or failed): with JSON logs the error is
/// one more JSON line, and the process exits 1.
fn logged(outcome: anyhow::Result<()>, json: bool) -> anyhow::Result<()> {
    if let (Err(e), true) = (&outcome, json) {
        tracing::error!(error = %format!("{e:#}"), "confab stopped on an error");
        std::process::exit(1);
    }
    outcome
}

/// Ctrl-C, or SIGTERM (what a service manager or orchestrator sends),
/// listened for from the call on: a signal that comes before the returned
/// future is awaited (while the listeners are announced) is not missed.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                return futures::future::Either::Left(async move {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                });
            }
            (Err(e), _) | (_, Err(e)) => tracing::warn!(error = %e, "SIGTERM is not handled"),
        }
    }
    futures::future::Either::Right(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
