//! `confab-bench run …` drives scenarios against a server that speaks the
//! Dozaar dialect; `confab-bench ceiling …` serves the ceiling.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use confab_bench::scenario::{self, Ctx};

#[derive(Parser)]
#[command(
    name = "confab-bench",
    about = "Open-loop load generator for Dozaar-dialect Socket.IO servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    OneToOne,
    Fanout,
    Idle,
    Storm,
    All,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios against a server on 127.0.0.1.
    Run {
        /// The name the output lines carry (confab, node, socketioxide, ceiling).
        #[arg(long)]
        server: String,
        /// The server's port (its Dozaar listener).
        #[arg(long)]
        port: u16,
        /// The server's process id, for its CPU time and memory.
        #[arg(long)]
        pid: u32,
        /// The HS256 secret the server verifies tokens with.
        #[arg(long, env = "BENCH_JWT_SECRET")]
        secret: String,
        #[arg(long, value_enum, default_value = "all")]
        scenario: Which,
        /// Tiny sizes, correctness only: any loss, duplicate or error exits non-zero.
        #[arg(long)]
        smoke: bool,
        /// Seconds of sending in each measured point.
        #[arg(long)]
        point_secs: Option<f64>,
        /// The idle scenario's tiers of connections, in place of its own
        /// (e.g. `1000,5000,10000`).
        #[arg(long, value_delimiter = ',')]
        tiers: Option<Vec<usize>>,
        /// The storm scenario's number of handshakes a round, in place of
        /// its own.
        #[arg(long)]
        handshakes: Option<usize>,
    },
    /// Send a fixed number of one-to-one messages at a fixed rate between two
    /// hooks (for profiling the server per message: `bench/profile`).
    Profile {
        /// The name the output line carries.
        #[arg(long)]
        server: String,
        #[arg(long)]
        port: u16,
        #[arg(long)]
        pid: u32,
        #[arg(long, env = "BENCH_JWT_SECRET")]
        secret: String,
        /// Direct conversations, two sockets each, every socket sending.
        #[arg(long, default_value_t = 20)]
        pairs: usize,
        /// Messages a second.
        #[arg(long, default_value_t = 20)]
        rate: u64,
        /// Messages measured.
        #[arg(long, default_value_t = 400)]
        messages: u64,
        /// Messages sent first, not measured.
        #[arg(long, default_value_t = 100)]
        warmup: u64,
        /// Seconds to wait for the last deliveries.
        #[arg(long, default_value_t = 120)]
        drain_secs: u64,
        /// A shell command run just before the first measured send.
        #[arg(long)]
        on_start: Option<String>,
        /// A shell command run just after the last measured delivery.
        #[arg(long)]
        on_end: Option<String>,
    },
    /// Print the markdown table of a results file (the RESULT lines of a run).
    Table { file: std::path::PathBuf },
    /// Serve the ceiling: WebSocket echo and fan-out, no Socket.IO library, no storage.
    Ceiling {
        #[arg(long)]
        port: u16,
        #[arg(long, env = "BENCH_JWT_SECRET")]
        secret: String,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // One thread: the generator (like each server) has one core.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let local = tokio::task::LocalSet::new();
    match cli.command {
        Command::Table { file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("{}", file.display()))?;
            print!(
                "{}",
                confab_bench::table::markdown(&confab_bench::table::parse(&text))
            );
            Ok(())
        }
        Command::Ceiling { port, secret } => {
            local.block_on(&rt, confab_bench::ceiling::serve(port, &secret))?;
            Ok(())
        }
        Command::Profile {
            server,
            port,
            pid,
            secret,
            pairs,
            rate,
            messages,
            warmup,
            drain_secs,
            on_start,
            on_end,
        } => {
            let mut ctx = Ctx::new(server, pid, port, &secret, true)?;
            ctx.drain = std::time::Duration::from_secs(drain_secs);
            let plan = scenario::profile::Plan {
                pairs,
                rate,
                messages,
                warmup,
                on_start,
                on_end,
            };
            local.block_on(&rt, scenario::profile::run(&ctx, &plan))?;
            let failures = ctx.failures.borrow();
            if !failures.is_empty() {
                bail!("{} problem(s): {}", failures.len(), failures.join("; "));
            }
            Ok(())
        }
        Command::Run {
            server,
            port,
            pid,
            secret,
            scenario: which,
            smoke,
            point_secs,
            tiers,
            handshakes,
        } => {
            let mut ctx = Ctx::new(server, pid, port, &secret, smoke)?;
            if let Some(s) = point_secs {
                ctx.point = std::time::Duration::from_secs_f64(s);
            }
            let sizes = Sizes { tiers, handshakes };
            local.block_on(&rt, run(&ctx, which, sizes))?;
            let failures = ctx.failures.borrow();
            if !failures.is_empty() {
                bail!("{} problem(s): {}", failures.len(), failures.join("; "));
            }
            Ok(())
        }
    }
}

/// Sizes given on the command line in place of a scenario's own.
struct Sizes {
    tiers: Option<Vec<usize>>,
    handshakes: Option<usize>,
}

async fn run(ctx: &Ctx, which: Which, sizes: Sizes) -> Result<()> {
    let all = which == Which::All;
    if all || which == Which::OneToOne {
        let plan = if ctx.smoke {
            scenario::one_to_one::Plan::smoke()
        } else {
            scenario::one_to_one::Plan::full()
        };
        scenario::one_to_one::run(ctx, &plan)
            .await
            .context("one-to-one")?;
    }
    if all || which == Which::Fanout {
        let plans = if ctx.smoke {
            scenario::fanout::Plan::smoke()
        } else {
            scenario::fanout::Plan::full()
        };
        for plan in &plans {
            scenario::fanout::run(ctx, plan).await.context("fan-out")?;
        }
    }
    if all || which == Which::Idle {
        let mut plan = if ctx.smoke {
            scenario::idle::Plan::smoke()
        } else {
            scenario::idle::Plan::full()
        };
        if let Some(tiers) = sizes.tiers {
            plan.tiers = tiers;
        }
        scenario::idle::run(ctx, &plan).await.context("idle")?;
    }
    if all || which == Which::Storm {
        let mut plan = if ctx.smoke {
            scenario::storm::Plan::smoke()
        } else {
            scenario::storm::Plan::full()
        };
        if let Some(n) = sizes.handshakes {
            plan.handshakes = n;
        }
        scenario::storm::run(ctx, &plan).await.context("storm")?;
    }
    Ok(())
}
