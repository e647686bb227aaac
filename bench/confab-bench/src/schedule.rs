//! The open-loop schedule: send `i` is due at `start + i / rate`, whatever
//! happened to the sends before it. Latency is measured from that intended
//! time, so a server that stalls cannot hide the queue it builds up (no
//! coordinated omission).

use std::time::{Duration, Instant};

/// `count` sends at a fixed `rate` per second from `start`.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    interval_ns: u64,
    pub count: u64,
}

impl Schedule {
    /// `rate` sends a second for `duration` (at least one send).
    pub fn new(start: Instant, rate: u64, duration: Duration) -> Self {
        let rate = rate.max(1);
        let count = ((rate as u128 * duration.as_nanos()) / 1_000_000_000).max(1) as u64;
        Schedule {
            start,
            interval_ns: 1_000_000_000 / rate,
            count,
        }
    }

    /// When send `i` is due.
    pub fn intended(&self, i: u64) -> Instant {
        self.start + Duration::from_nanos(i.saturating_mul(self.interval_ns))
    }

    /// The sends due by `now`, from `next` on: a late generator catches up
    /// with every send it owes, each keeping its own intended time.
    pub fn due(&self, next: u64, now: Instant) -> std::ops::Range<u64> {
        if now < self.start {
            return next..next;
        }
        let elapsed = (now - self.start).as_nanos() as u64;
        let upto = (elapsed / self.interval_ns.max(1) + 1).min(self.count);
        next..upto.max(next)
    }

    /// When the last send is due.
    pub fn end(&self) -> Instant {
        self.intended(self.count.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_are_evenly_spaced_from_the_start() {
        let t0 = Instant::now();
        let s = Schedule::new(t0, 1000, Duration::from_secs(2));
        assert_eq!(s.count, 2000);
        assert_eq!(s.intended(0), t0);
        assert_eq!(s.intended(500), t0 + Duration::from_millis(500));
        assert_eq!(s.end(), t0 + Duration::from_millis(1999));
    }

    #[test]
    fn a_late_generator_owes_every_send_and_keeps_their_intended_times() {
        let t0 = Instant::now();
        let s = Schedule::new(t0, 100, Duration::from_secs(1));
        assert_eq!(s.due(0, t0), 0..1);
        // 250 ms late: sends 1..=25 are all due at once, each still due at its own time.
        assert_eq!(s.due(1, t0 + Duration::from_millis(250)), 1..26);
        assert_eq!(s.intended(25), t0 + Duration::from_millis(250));
        // Never past the end, never backwards.
        assert_eq!(s.due(26, t0 + Duration::from_secs(10)), 26..100);
        assert_eq!(s.due(100, t0 + Duration::from_secs(10)), 100..100);
        assert_eq!(s.due(0, t0 - Duration::from_millis(1)), 0..0);
    }

    #[test]
    fn a_tiny_plan_still_sends_once() {
        let s = Schedule::new(Instant::now(), 1, Duration::from_millis(10));
        assert_eq!(s.count, 1);
    }
}
