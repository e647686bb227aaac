//! `confab`: parse the command line, load the config, run.

use anyhow::{Context, bail};
use clap::Parser;
use confab::cli::{self, Cli, Command, TokenArgs, UserAddArgs, UserCommand};
use confab::config::LogFormat;
use confab::config::{self, Config};
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

async fn serve(config: Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    // With JSON logs, the log's `info` lines say what these would.
    let pretty = config.log_format.resolve_here() == LogFormat::Pretty;
    // Installed before the start, so that what it records is counted.
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
