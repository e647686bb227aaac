//! Connect storm: many authenticated handshakes, 64 in flight, as fast as
//! the server completes them: WebSocket only, and HTTP long-polling then the
//! upgrade to WebSocket. A first WebSocket round, not reported, makes the
//! users known to the server (first sight creates them), so the measured
//! rounds handshake known users, as reconnecting clients do.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

use super::{Ctx, MAX_OWN_SHARE};
use crate::conn;
use crate::error::Result;
use crate::proc_stats::CpuMeter;
use crate::report::{Summary, latency_histogram, mib, num, record_us};
use crate::setup::{User, users};

pub struct Plan {
    pub handshakes: usize,
    pub in_flight: usize,
}

impl Plan {
    pub fn full() -> Self {
        Plan {
            handshakes: 3000,
            in_flight: 64,
        }
    }

    pub fn smoke() -> Self {
        Plan {
            handshakes: 40,
            in_flight: 8,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    WebSocket,
    Polling,
}

async fn round(ctx: &Ctx, people: &[User], plan: &Plan, mode: Mode, report: bool) -> Result<()> {
    if report && !ctx.smoke {
        super::wait_quiet(ctx).await?;
    }
    let name = match mode {
        Mode::WebSocket => "storm-websocket",
        Mode::Polling => "storm-polling",
    };
    let meter = CpuMeter::start(ctx.pid)?;
    let t0 = Instant::now();
    let results: Vec<(Result<conn::Ws>, Duration)> = stream::iter(people.iter().enumerate())
        .map(|(i, u)| async move {
            let s = Instant::now();
            let r = match mode {
                Mode::WebSocket => conn::connect_ws(&ctx.target, i, &u.token).await,
                Mode::Polling => conn::connect_polling(&ctx.http, &ctx.target, i, &u.token).await,
            };
            (r, s.elapsed())
        })
        .buffer_unordered(plan.in_flight)
        .collect()
        .await;
    let elapsed = t0.elapsed();
    let cpu = meter.stop()?;
    let hwm = ctx.memory().map(|m| m.hwm_kib).unwrap_or(0);
    let mut hist = latency_histogram();
    let mut ok = 0usize;
    let mut errors = Vec::new();
    let mut sockets = Vec::with_capacity(results.len());
    for (r, took) in results {
        match r {
            Ok(ws) => {
                ok += 1;
                record_us(&mut hist, took.as_micros() as u64);
                sockets.push(ws);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    // Closing: dropped sockets end their TCP connections.
    drop(sockets);
    if !errors.is_empty() {
        ctx.fail(format!(
            "{name}: {} handshakes failed, first: {}",
            errors.len(),
            errors[0]
        ));
    }
    tokio::time::sleep(Duration::from_millis(if ctx.smoke { 200 } else { 2000 })).await;
    if !report {
        return Ok(());
    }
    let lat = Summary::of(&hist);
    let share = cpu.own_share();
    let mut l = ctx
        .line("RESULT", name)
        .kv("handshakes", ok)
        .kv("failed", errors.len())
        .kv("in_flight", plan.in_flight)
        .kv(
            "handshakes_per_s",
            num(ok as f64 / elapsed.as_secs_f64().max(1e-3)),
        )
        .raw(lat.fields())
        .kv("server_cpu_s", num(cpu.server_secs))
        .kv(
            "server_cpu_ms_per_handshake",
            num(cpu.server_secs * 1000.0 / (ok.max(1) as f64)),
        )
        .kv("server_hwm_mib", mib(hwm))
        .kv("gen_cpu", format!("{:.0}%", share * 100.0))
        .kv("others_cpu", format!("{:.0}%", cpu.others_share() * 100.0));
    if cpu.others_share() > super::MAX_OTHERS_SHARE {
        l = l.raw("DISTURBED(other processes were busy)");
    }
    if share > MAX_OWN_SHARE {
        l = l.raw(format!(
            "DISCARDED(generator used {:.0}% of its core, over {:.0}%)",
            share * 100.0,
            MAX_OWN_SHARE * 100.0
        ));
    }
    l.print();
    Ok(())
}

pub async fn run(ctx: &Ctx, plan: &Plan) -> Result<()> {
    let people = users(&ctx.signer, "s", plan.handshakes);
    round(ctx, &people, plan, Mode::WebSocket, false).await?;
    round(ctx, &people, plan, Mode::WebSocket, true).await?;
    round(ctx, &people, plan, Mode::Polling, true).await?;
    Ok(())
}
