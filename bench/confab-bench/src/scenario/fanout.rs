//! Fan-out: one group of `members` users, every socket joined, ten of them
//! sending. Each message is one store write and `members` deliveries.
//! Rates (messages a second) are stepped up until p99 passes 50 ms or a
//! delivery is lost.

use super::{Ctx, best_held, close_all, connect_joined, step_rates};
use crate::error::Result;
use crate::report::{mib, num};
use crate::setup::users;

pub struct Plan {
    pub members: usize,
    pub senders: usize,
    pub rates: Vec<u64>,
}

impl Plan {
    pub fn full() -> Vec<Self> {
        vec![
            Plan {
                members: 100,
                senders: 10,
                rates: vec![50, 100, 200, 400, 800, 1200, 1600, 2400, 3200, 4800],
            },
            Plan {
                members: 1000,
                senders: 10,
                rates: vec![10, 20, 40, 80, 120, 160, 240],
            },
        ]
    }

    pub fn smoke() -> Vec<Self> {
        vec![Plan {
            members: 30,
            senders: 10,
            rates: vec![20],
        }]
    }
}

pub async fn run(ctx: &Ctx, plan: &Plan) -> Result<()> {
    let name = format!("fanout-{}", plan.members);
    let people = users(&ctx.signer, &format!("f{}_", plan.members), plan.members);
    let others: Vec<_> = people[1..].iter().collect();
    let conv = ctx
        .rest
        .conversation(
            &people[0],
            &others,
            &format!("bench room of {}", plan.members),
        )
        .await?;
    let convs = vec![conv];
    let rooms = vec![0u32; people.len()];
    let joined = connect_joined(ctx, &people, &rooms, &convs).await?;
    let senders: Vec<_> = joined.iter().take(plan.senders).collect();
    let points = step_rates(ctx, &name, &senders, &plan.rates).await?;
    close_all(ctx, joined).await;

    let mut l = ctx
        .line("RESULT", &name)
        .kv("members", plan.members)
        .kv("senders", plan.senders);
    if let Some(first) = points.first() {
        l = l
            .kv("first_rate", first.rate)
            .kv("first_p99_ms", num(first.latency.p99_ms))
            .kv("first_server_cpu_s", num(first.cpu.server_secs))
            .kv(
                "first_server_busy_after_s",
                num(first.busy_after.as_secs_f64()),
            );
    }
    l = match best_held(&points) {
        Some(b) => l
            .kv("max_rate_held", b.rate)
            .kv("deliveries_per_s", num(b.deliveries_per_s))
            .kv("p50_ms", num(b.latency.p50_ms))
            .kv("p99_ms", num(b.latency.p99_ms))
            .kv("p999_ms", num(b.latency.p999_ms))
            .kv("server_cpu_s", num(b.cpu.server_secs))
            .kv("server_busy_after_s", num(b.busy_after.as_secs_f64()))
            .kv("server_rss_peak_mib", mib(b.rss_peak_kib)),
        None => l.kv("max_rate_held", "none"),
    };
    if let Some(last) = points.last().filter(|p| !p.held()) {
        l = l.kv(
            "stopped_at",
            if last.discarded() {
                format!("{}/s(generator-bound)", last.rate)
            } else {
                format!(
                    "{}/s(p99={}ms,lost={})",
                    last.rate,
                    num(last.latency.p99_ms),
                    last.counts.missing()
                )
            },
        );
    } else {
        l = l.kv("stopped_at", "top-of-plan");
    }
    l.print();
    Ok(())
}
