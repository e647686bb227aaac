//! One-to-one: pairs of users in direct conversations, both sockets joined,
//! every socket sending in its own conversation. Send → store → deliver to
//! both sockets of the pair (the sender's own gets `new:message` too).
//! A warm-up point, one point at a fixed rate for every server, then rates
//! stepped up until p99 passes 50 ms or a message is lost.

use super::{Ctx, best_held, close_all, connect_joined, step_rates};
use crate::error::Result;
use crate::report::num;
use crate::setup::users;

pub struct Plan {
    pub pairs: usize,
    pub fixed_rate: u64,
    pub rates: Vec<u64>,
}

impl Plan {
    pub fn full() -> Self {
        Plan {
            pairs: 500,
            fixed_rate: 1000,
            rates: vec![
                500, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 16000, 24000, 32000, 48000,
            ],
        }
    }

    pub fn smoke() -> Self {
        Plan {
            pairs: 10,
            fixed_rate: 50,
            rates: vec![100],
        }
    }
}

pub async fn run(ctx: &Ctx, plan: &Plan) -> Result<()> {
    let name = "one-to-one";
    let people = users(&ctx.signer, "p", plan.pairs * 2);
    let specs = (0..plan.pairs)
        .map(|p| (&people[2 * p], vec![&people[2 * p + 1]], String::new()))
        .collect();
    let convs = ctx.rest.conversations(specs).await?;
    let rooms: Vec<u32> = (0..people.len()).map(|i| (i / 2) as u32).collect();
    let joined = connect_joined(ctx, &people, &rooms, &convs).await?;
    let senders: Vec<_> = joined.iter().collect();

    // A first point at the fixed rate warms the server up (its first writes
    // to a new database, pools filling); it is printed, not reported.
    let warmup =
        super::measured_point(ctx, &format!("{name}-warmup"), &senders, plan.fixed_rate).await?;
    if ctx.smoke && !warmup.counts.clean() {
        ctx.fail(format!("{name} warm-up: {:?}", warmup.counts));
    }
    let fixed =
        super::measured_point(ctx, &format!("{name}-fixed"), &senders, plan.fixed_rate).await?;
    if ctx.smoke && !fixed.counts.clean() {
        ctx.fail(format!(
            "{name} at {}/s: {:?}",
            plan.fixed_rate, fixed.counts
        ));
    }
    let points = step_rates(ctx, name, &senders, &plan.rates).await?;
    close_all(ctx, joined).await;

    let mut l = ctx
        .line("RESULT", name)
        .kv("sockets", people.len())
        .kv("fixed_rate", plan.fixed_rate)
        .kv("fixed_p50_ms", num(fixed.latency.p50_ms))
        .kv("fixed_p99_ms", num(fixed.latency.p99_ms))
        .kv("fixed_p999_ms", num(fixed.latency.p999_ms))
        .kv("fixed_lost", fixed.counts.missing())
        .kv("fixed_server_cpu_s", num(fixed.cpu.server_secs))
        .kv(
            "fixed_server_cpu_us_per_msg",
            num(fixed.cpu.server_secs * 1e6 / fixed.counts.sent.max(1) as f64),
        )
        .kv(
            "fixed_server_busy_after_s",
            num(fixed.busy_after.as_secs_f64()),
        );
    l = match best_held(&points) {
        Some(b) => l
            .kv("max_rate_held", b.rate)
            .kv("msgs_per_s", num(b.sent_per_s))
            .kv("deliveries_per_s", num(b.deliveries_per_s))
            .kv("p50_ms", num(b.latency.p50_ms))
            .kv("p99_ms", num(b.latency.p99_ms))
            .kv("p999_ms", num(b.latency.p999_ms))
            .kv("server_cpu_s", num(b.cpu.server_secs))
            .kv("server_busy_after_s", num(b.busy_after.as_secs_f64()))
            .kv("server_rss_peak_mib", crate::report::mib(b.rss_peak_kib)),
        None => l.kv("max_rate_held", "none"),
    };
    if let Some(last) = points.last().filter(|p| !p.held()) {
        l = l.kv(
            "stopped_at",
            format!(
                "{}/s({})",
                last.rate,
                if last.discarded() {
                    "generator-bound".to_owned()
                } else {
                    format!(
                        "p99={}ms,lost={}",
                        num(last.latency.p99_ms),
                        last.counts.missing()
                    )
                }
            ),
        );
    } else {
        l = l.kv("stopped_at", "top-of-plan");
    }
    l.print();
    Ok(())
}
