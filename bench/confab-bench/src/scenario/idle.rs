//! Idle: tiers of connected, authenticated, joined sockets that send
//! nothing (they still answer pings). The server's resident memory at each
//! tier, and a line fitted through them: its slope is the memory one more
//! connection costs. Users are in groups of ten, each socket joined to its
//! group.

use std::time::{Duration, Instant};

use super::{Ctx, Joined, close_all, connect_joined};
use crate::error::Result;
use crate::fit::linear_fit;
use crate::report::{mib, num};
use crate::setup::users;

/// Users per conversation.
pub const GROUP: usize = 10;

pub struct Plan {
    pub tiers: Vec<usize>,
}

impl Plan {
    pub fn full() -> Self {
        Plan {
            tiers: vec![1000, 5000, 10000, 18000],
        }
    }

    pub fn smoke() -> Self {
        Plan {
            tiers: vec![20, 60],
        }
    }
}

pub async fn run(ctx: &Ctx, plan: &Plan) -> Result<()> {
    let name = "idle";
    let top = plan.tiers.iter().copied().max().unwrap_or(0);
    let people = users(&ctx.signer, "i", top);
    let specs = people
        .chunks(GROUP)
        .enumerate()
        .map(|(g, c)| (&c[0], c[1..].iter().collect(), format!("idle group {g}")))
        .collect();
    let convs = ctx.rest.conversations(specs).await?;
    let rooms: Vec<u32> = (0..top).map(|i| (i / GROUP) as u32).collect();
    let settle = Duration::from_millis(if ctx.smoke { 300 } else { 2000 });

    tokio::time::sleep(settle).await;
    let base = ctx.memory()?;
    ctx.line("point", name)
        .kv("connections", 0)
        .kv("server_rss_mib", mib(base.rss_kib))
        .print();
    let mut joined: Vec<Joined> = Vec::with_capacity(top);
    let mut points = Vec::new();
    for &tier in &plan.tiers {
        let from = joined.len();
        if tier <= from {
            continue;
        }
        let t0 = Instant::now();
        let more = connect_joined(ctx, &people[from..tier], &rooms[from..tier], &convs).await?;
        let took = t0.elapsed();
        joined.extend(more);
        tokio::time::sleep(settle).await;
        let m = ctx.memory()?;
        let errors = ctx.tracker.borrow().counts.conn_errors;
        if errors > 0 {
            ctx.fail(format!(
                "idle: {errors} sockets failed at {tier} connections"
            ));
        }
        ctx.line("point", name)
            .kv("connections", tier)
            .kv("server_rss_mib", mib(m.rss_kib))
            .kv("server_hwm_mib", mib(m.hwm_kib))
            .kv("connect_s", num(took.as_secs_f64()))
            .kv("conn_errors", errors)
            .print();
        points.push((tier as f64, m.rss_kib as f64));
    }
    close_all(ctx, joined).await;
    let mut l = ctx
        .line("RESULT", name)
        .kv(
            "tiers",
            plan.tiers
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(","),
        )
        .kv("baseline_rss_mib", mib(base.rss_kib));
    if let Some(&(n, rss)) = points.last() {
        l = l.kv(format!("rss_at_{n}_mib").as_str(), mib(rss as u64));
    }
    l = match linear_fit(&points) {
        Some(fit) => l
            .kv("kib_per_conn", num(fit.slope))
            .kv("r2", format!("{:.3}", fit.r2)),
        None => l.kv("kib_per_conn", "-"),
    };
    l.print();
    Ok(())
}
