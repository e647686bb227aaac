//! The scenarios and what they share: the context (server, clock, signer,
//! REST client), connecting many joined sockets, and one open-loop point.

pub mod fanout;
pub mod idle;
pub mod one_to_one;
pub mod profile;
pub mod storm;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

use crate::conn::{self, Out, Outbox, Target};
use crate::error::{BenchError, Result};
use crate::proc_stats::{self, CpuMeter, CpuUse};
use crate::report::{Line, Summary, mib, num};
use crate::schedule::Schedule;
use crate::setup::{Rest, User};
use crate::token::Signer;
use crate::tracker::{Counts, Tracker};
use crate::wire::SendFrames;

/// A point where the generator used more of its core than this is discarded.
pub const MAX_OWN_SHARE: f64 = 0.70;
/// A point during which other processes used more than this share of a
/// core is disturbed, and measured again once the machine is quiet.
pub const MAX_OTHERS_SHARE: f64 = 0.10;
/// Latency target of the stepped scenarios.
pub const P99_TARGET_MS: f64 = 50.0;

/// Everything a scenario needs.
pub struct Ctx {
    pub server: String,
    pub pid: u32,
    pub target: Target,
    pub signer: Signer,
    pub rest: Rest,
    pub http: reqwest::Client,
    pub tracker: Rc<RefCell<Tracker>>,
    /// Length of the send window of one point.
    pub point: Duration,
    /// How long to wait for late deliveries after the last send.
    pub drain: Duration,
    /// Handshakes in flight when connecting many sockets.
    pub connect_concurrency: usize,
    /// Tiny sizes; any loss, duplicate or error fails the run.
    pub smoke: bool,
    /// Problems that fail a smoke run.
    pub failures: RefCell<Vec<String>>,
    /// Points still disturbed by other processes after every retry.
    pub disturbed: std::cell::Cell<u32>,
}

impl Ctx {
    pub fn new(server: String, pid: u32, port: u16, secret: &str, smoke: bool) -> Result<Self> {
        let target = Target::loopback(port);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .timeout(Duration::from_secs(60))
            .build()?;
        let rest = Rest::new(http.clone(), target.http_base());
        Ok(Ctx {
            server,
            pid,
            target,
            signer: Signer::new(secret),
            rest,
            http,
            tracker: Rc::new(RefCell::new(Tracker::new(Instant::now()))),
            point: Duration::from_secs(if smoke { 1 } else { 3 }),
            drain: Duration::from_secs(if smoke { 2 } else { 3 }),
            connect_concurrency: if smoke { 16 } else { 128 },
            smoke,
            failures: RefCell::new(Vec::new()),
            disturbed: std::cell::Cell::new(0),
        })
    }

    pub fn line(&self, tag: &str, scenario: &str) -> Line {
        let l = Line::new(tag, scenario, &self.server);
        if tag == "RESULT" && self.disturbed.get() > 0 {
            return l.kv("disturbed_points", self.disturbed.get());
        }
        l
    }

    pub fn fail(&self, what: String) {
        eprintln!("confab-bench: {what}");
        self.failures.borrow_mut().push(what);
    }

    pub fn memory(&self) -> Result<proc_stats::Memory> {
        proc_stats::memory(self.pid)
    }
}

/// A joined socket: where to send its frames, and its conversation's frames.
pub struct Joined {
    pub outbox: Outbox,
    pub room: u32,
    pub frames: Rc<SendFrames>,
}

/// Connects `users[i]` over WebSocket, joins it to `rooms[i]` (an index into
/// `conversations`) and starts its session. Sockets are registered with the
/// tracker in order.
pub async fn connect_joined(
    ctx: &Ctx,
    users: &[User],
    rooms: &[u32],
    conversations: &[String],
) -> Result<Vec<Joined>> {
    let frames: Vec<Rc<SendFrames>> = conversations
        .iter()
        .map(|c| Rc::new(SendFrames::new(c)))
        .collect();
    let results: Vec<Result<(usize, conn::Ws)>> = stream::iter(users.iter().enumerate())
        .map(|(i, u)| {
            let conv = &conversations[rooms[i] as usize];
            async move {
                let mut ws = conn::connect_ws(&ctx.target, i, &u.token).await?;
                conn::join(&mut ws, conv).await?;
                Ok((i, ws))
            }
        })
        .buffered(ctx.connect_concurrency)
        .collect()
        .await;
    let mut joined = Vec::with_capacity(users.len());
    for r in results {
        let (i, ws) = r?;
        let room = rooms[i];
        let idx = ctx.tracker.borrow_mut().add_socket(room);
        let outbox = conn::spawn_session(ws, idx, ctx.tracker.clone());
        joined.push(Joined {
            outbox,
            room,
            frames: frames[room as usize].clone(),
        });
    }
    Ok(joined)
}

/// Closes the sockets and forgets them; gives the server a moment to see it.
pub async fn close_all(ctx: &Ctx, joined: Vec<Joined>) {
    for j in &joined {
        let _ = j.outbox.send(Out::Close);
    }
    drop(joined);
    tokio::time::sleep(Duration::from_millis(if ctx.smoke { 200 } else { 1500 })).await;
    ctx.tracker.borrow_mut().reset_sockets();
}

/// What one open-loop point measured.
#[derive(Debug, Clone)]
pub struct Point {
    pub rate: u64,
    pub counts: Counts,
    pub latency: Summary,
    pub cpu: CpuUse,
    pub rss_peak_kib: u64,
    pub hwm_kib: u64,
    /// Deliveries per second over the window from the first intended send
    /// to the last delivery.
    pub deliveries_per_s: f64,
    /// Messages per second sent.
    pub sent_per_s: f64,
    pub exception_samples: Vec<String>,
    /// How long the server kept working after the last delivery.
    pub busy_after: Duration,
    /// False if it was still busy when the wait ended.
    pub settled: bool,
}

impl Point {
    pub fn disturbed(&self) -> bool {
        self.cpu.others_share() > MAX_OTHERS_SHARE
    }

    pub fn discarded(&self) -> bool {
        self.cpu.own_share() > MAX_OWN_SHARE
    }

    /// Held: no loss and p99 within target (and not discarded).
    pub fn held(&self) -> bool {
        !self.discarded() && self.counts.clean() && self.latency.p99_ms <= P99_TARGET_MS
    }

    pub fn print(&self, ctx: &Ctx, scenario: &str) {
        let c = &self.counts;
        let mut l = ctx
            .line("point", scenario)
            .kv("rate", self.rate)
            .kv("sent", c.sent)
            .kv("expected", c.expected)
            .kv("delivered", c.delivered)
            .kv("deliveries_per_s", num(self.deliveries_per_s))
            .raw(self.latency.fields())
            .kv("lost", c.missing())
            .kv("dup", c.duplicates)
            .kv("misdelivered", c.misdelivered)
            .kv("exceptions", c.exceptions)
            .kv("conn_errors", c.conn_errors)
            .kv("server_cpu_s", num(self.cpu.server_secs))
            .kv(
                "server_busy_after_s",
                format!(
                    "{}{}",
                    num(self.busy_after.as_secs_f64()),
                    if self.settled { "" } else { "+" }
                ),
            )
            .kv("server_rss_peak_mib", mib(self.rss_peak_kib))
            .kv("server_hwm_mib", mib(self.hwm_kib))
            .kv("gen_cpu", format!("{:.0}%", self.cpu.own_share() * 100.0))
            .kv(
                "others_cpu",
                format!("{:.0}%", self.cpu.others_share() * 100.0),
            );
        if self.disturbed() {
            l = l.raw("DISTURBED(other processes were busy)");
        }
        if self.discarded() {
            l = l.raw(format!(
                "DISCARDED(generator used {:.0}% of its core, over {:.0}%)",
                self.cpu.own_share() * 100.0,
                MAX_OWN_SHARE * 100.0
            ));
        } else if self.held() {
            l = l.raw("held");
        } else {
            l = l.raw("not-held");
        }
        l.print();
        for s in &self.exception_samples {
            eprintln!("  exception: {s}");
        }
    }
}

/// Samples the server's resident memory every 100 ms until told to stop.
fn spawn_rss_sampler(pid: u32) -> (Rc<std::cell::Cell<bool>>, tokio::task::JoinHandle<u64>) {
    let stop = Rc::new(std::cell::Cell::new(false));
    let flag = stop.clone();
    let h = tokio::task::spawn_local(async move {
        let mut peak = 0;
        while !flag.get() {
            if let Ok(m) = proc_stats::memory(pid) {
                peak = peak.max(m.rss_kib);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    });
    (stop, h)
}

/// Sends at `rate` messages a second for the point's window, round-robin
/// over `senders`, each send at its intended time; then waits for every
/// delivery (or the drain time) and measures.
pub async fn run_point(ctx: &Ctx, senders: &[&Joined], rate: u64) -> Result<Point> {
    if senders.is_empty() {
        return Err(BenchError::Protocol("no senders".into()));
    }
    // Start on an idle server (connects and earlier points may have left work).
    settle(ctx).await?;
    ctx.tracker.borrow_mut().begin_point();
    let (stop, sampler) = spawn_rss_sampler(ctx.pid);
    let meter = CpuMeter::start(ctx.pid)?;
    let schedule = send_at_rate(ctx, senders, rate, ctx.point).await;
    let start = schedule.start;
    drain(ctx, ctx.drain).await;
    let at_drain = meter.stop()?;
    // Work the server deferred (it keeps burning CPU after the last delivery)
    // is charged to this point, and the next point starts on an idle server.
    let (busy_after, settled) = settle(ctx).await?;
    let cpu = CpuUse {
        server_secs: meter.stop()?.server_secs,
        ..at_drain
    };
    stop.set(true);
    let rss_peak_kib = sampler.await.unwrap_or(0);
    let hwm_kib = ctx.memory().map(|m| m.hwm_kib).unwrap_or(0);
    let tr = ctx.tracker.borrow();
    let window = tr
        .last_delivery
        .map(|t| t.saturating_duration_since(start).as_secs_f64())
        .unwrap_or(0.0)
        .max(
            schedule
                .end()
                .saturating_duration_since(start)
                .as_secs_f64(),
        )
        .max(1e-3);
    Ok(Point {
        rate,
        counts: tr.counts,
        latency: Summary::of(&tr.hist),
        cpu,
        rss_peak_kib,
        hwm_kib,
        deliveries_per_s: tr.counts.delivered as f64 / window,
        sent_per_s: tr.counts.sent as f64 / window,
        exception_samples: tr.exception_samples.clone(),
        busy_after,
        settled,
    })
}

/// Sends at `rate` messages a second for `window`, round-robin over
/// `senders`, each send at its intended time; returns the schedule kept.
pub async fn send_at_rate(ctx: &Ctx, senders: &[&Joined], rate: u64, window: Duration) -> Schedule {
    let start = Instant::now() + Duration::from_millis(5);
    let schedule = Schedule::new(start, rate, window);
    let mut next = 0u64;
    while next < schedule.count {
        let now = Instant::now();
        let due = schedule.due(next, now);
        {
            let mut tr = ctx.tracker.borrow_mut();
            for i in due.clone() {
                let s = senders[(i % senders.len() as u64) as usize];
                let marker = tr.next_marker(s.room, schedule.intended(i));
                let _ = s.outbox.send(Out::Frame(s.frames.frame(&marker)));
            }
        }
        next = due.end;
        if next < schedule.count {
            tokio::time::sleep_until(schedule.intended(next).into()).await;
        }
    }
    schedule
}

/// Waits until every message sent in this point reached every socket of
/// its room, or `limit` passed.
pub async fn drain(ctx: &Ctx, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !ctx.tracker.borrow().complete() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the server's CPU use falls under 5 % (bounded); returns how
/// long it stayed busy and whether it went idle in time.
pub async fn settle(ctx: &Ctx) -> Result<(Duration, bool)> {
    let limit = Duration::from_secs(if ctx.smoke { 5 } else { 30 });
    let window = Duration::from_millis(200);
    let start = Instant::now();
    loop {
        let a = proc_stats::cpu_seconds(Some(ctx.pid))?;
        tokio::time::sleep(window).await;
        let b = proc_stats::cpu_seconds(Some(ctx.pid))?;
        let busy = start.elapsed().saturating_sub(window);
        if (b - a) / window.as_secs_f64() < 0.05 {
            return Ok((busy, true));
        }
        if start.elapsed() > limit {
            return Ok((busy, false));
        }
    }
}

/// Runs the rates in order until one is not held (or discarded); smoke runs
/// fail on any unclean point. Returns every point measured.
pub async fn step_rates(
    ctx: &Ctx,
    scenario: &str,
    senders: &[&Joined],
    rates: &[u64],
) -> Result<Vec<Point>> {
    let mut points = Vec::new();
    for &rate in rates {
        let p = measured_point(ctx, scenario, senders, rate).await?;
        if ctx.smoke && !p.counts.clean() {
            ctx.fail(format!("{scenario} at {rate}/s: {:?}", p.counts));
        }
        let stop = !p.held();
        points.push(p);
        if stop && !ctx.smoke {
            break;
        }
    }
    Ok(points)
}

/// One point, measured again (four times at most, each time once the
/// machine is quiet) while other processes on the machine disturb it; every
/// attempt is printed.
pub async fn measured_point(
    ctx: &Ctx,
    scenario: &str,
    senders: &[&Joined],
    rate: u64,
) -> Result<Point> {
    let mut attempt = 0;
    loop {
        let p = run_point(ctx, senders, rate).await?;
        p.print(ctx, scenario);
        attempt += 1;
        if !p.disturbed() || ctx.smoke {
            return Ok(p);
        }
        if attempt >= 5 {
            ctx.disturbed.set(ctx.disturbed.get() + 1);
            return Ok(p);
        }
        wait_quiet(ctx).await?;
    }
}

/// Waits (a minute at most) until the other processes on the machine use
/// less than 10 % of a core over a second; false if they never did.
pub async fn wait_quiet(ctx: &Ctx) -> Result<bool> {
    let start = Instant::now();
    loop {
        let meter = CpuMeter::start(ctx.pid)?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        if meter.stop()?.others_share() < 0.10 {
            return Ok(true);
        }
        if start.elapsed() > Duration::from_secs(60) {
            eprintln!("confab-bench: the machine stayed busy for a minute; measuring anyway");
            return Ok(false);
        }
    }
}

/// The best point held (highest deliveries a second), if any.
pub fn best_held(points: &[Point]) -> Option<&Point> {
    points
        .iter()
        .filter(|p| p.held())
        .max_by(|a, b| a.deliveries_per_s.total_cmp(&b.deliveries_per_s))
}
