//! A fixed number of one-to-one messages at a fixed rate, between two
//! hooks: for profiling a server per message (`bench/profile` zeroes
//! callgrind's counters in the first hook and dumps them in the second).
//! Pairs in direct conversations as in one-to-one; a warm-up round first
//! (first writes to a new database, pools filling), then the server is let
//! go idle, then `on_start`, the measured messages, every delivery waited
//! for, `on_end`.

use std::time::Duration;

use super::{Ctx, close_all, connect_joined, drain, send_at_rate, settle};
use crate::error::{BenchError, Result};
use crate::report::num;
use crate::setup::users;

pub struct Plan {
    pub pairs: usize,
    /// Messages a second.
    pub rate: u64,
    /// Messages measured.
    pub messages: u64,
    /// Messages sent before, not measured.
    pub warmup: u64,
    /// Shell commands run just before the first measured send and just
    /// after the last delivery.
    pub on_start: Option<String>,
    pub on_end: Option<String>,
}

/// Runs a hook with `sh -c`; a hook that fails fails the run.
fn hook(what: &str, command: Option<&str>) -> Result<()> {
    let Some(command) = command else {
        return Ok(());
    };
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .status()?;
    if !status.success() {
        return Err(BenchError::Hook(format!(
            "the {what} hook `{command}` exited with {status}"
        )));
    }
    Ok(())
}

/// How long sending `messages` at `rate` takes.
fn window(messages: u64, rate: u64) -> Duration {
    Duration::from_secs_f64(messages as f64 / rate.max(1) as f64)
}

pub async fn run(ctx: &Ctx, plan: &Plan) -> Result<()> {
    let name = "profile";
    let people = users(&ctx.signer, "p", plan.pairs * 2);
    let specs = (0..plan.pairs)
        .map(|p| (&people[2 * p], vec![&people[2 * p + 1]], String::new()))
        .collect();
    let convs = ctx.rest.conversations(specs).await?;
    let rooms: Vec<u32> = (0..people.len()).map(|i| (i / 2) as u32).collect();
    let joined = connect_joined(ctx, &people, &rooms, &convs).await?;
    let senders: Vec<_> = joined.iter().collect();

    if plan.warmup > 0 {
        ctx.tracker.borrow_mut().begin_point();
        send_at_rate(ctx, &senders, plan.rate, window(plan.warmup, plan.rate)).await;
        drain(ctx, ctx.drain).await;
    }
    settle(ctx).await?;
    ctx.tracker.borrow_mut().begin_point();
    hook("start", plan.on_start.as_deref())?;
    let schedule = send_at_rate(ctx, &senders, plan.rate, window(plan.messages, plan.rate)).await;
    drain(ctx, ctx.drain).await;
    let took = schedule.start.elapsed();
    hook("end", plan.on_end.as_deref())?;
    let counts = ctx.tracker.borrow().counts;
    close_all(ctx, joined).await;
    if !counts.clean() {
        ctx.fail(format!("{name}: {counts:?}"));
    }
    ctx.line("RESULT", name)
        .kv("sockets", people.len())
        .kv("rate", plan.rate)
        .kv("sent", counts.sent)
        .kv("delivered", counts.delivered)
        .kv("lost", counts.missing())
        .kv("dup", counts.duplicates)
        .kv("exceptions", counts.exceptions)
        .kv("took_s", num(took.as_secs_f64()))
        .print();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_sends_the_messages_at_the_rate() {
        assert_eq!(window(400, 20), Duration::from_secs(20));
        assert_eq!(window(5, 0), Duration::from_secs(5));
    }

    #[test]
    fn hooks_run_in_a_shell_and_a_failing_one_fails() {
        assert!(hook("start", None).is_ok());
        assert!(hook("start", Some("true")).is_ok());
        let e = hook("end", Some("exit 3")).unwrap_err().to_string();
        assert!(e.contains("exit 3"), "{e}");
    }
}
