//! Exactly-once bookkeeping of one measured point: which message each
//! socket got, which it got twice, which never came, and the latency of
//! every delivery from its send's intended time.
//!
//! Messages are numbered per room (`k`) within a point (`epoch`); every
//! socket of a room is an intended receiver of every message sent to it (the
//! sender's own socket too: Dozaar's `new:message` goes to the whole room).

use std::time::Instant;

use hdrhistogram::Histogram;

use crate::report::{latency_histogram, record_us};
use crate::wire::Marker;

/// A growable set of small integers.
#[derive(Debug, Default, Clone)]
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    /// Inserts `i`; false if it was there already.
    pub fn insert(&mut self, i: u32) -> bool {
        let (w, b) = ((i / 64) as usize, i % 64);
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let was = self.words[w] & (1 << b) != 0;
        self.words[w] |= 1 << b;
        !was
    }

    pub fn clear(&mut self) {
        self.words.clear();
    }
}

#[derive(Debug, Default, Clone)]
struct SocketSeen {
    room: u32,
    seen: BitSet,
    distinct: u64,
}

/// The counts of one point.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub sent: u64,
    pub expected: u64,
    pub delivered: u64,
    pub duplicates: u64,
    /// Messages of this point delivered to a socket outside their room, or
    /// with a room or number that was never sent.
    pub misdelivered: u64,
    /// Deliveries of an earlier point that came in this one (they were
    /// counted missing in theirs).
    pub stale: u64,
    pub exceptions: u64,
    /// Connections that failed or were closed by the server.
    pub conn_errors: u64,
}

impl Counts {
    pub fn missing(&self) -> u64 {
        self.expected.saturating_sub(self.delivered)
    }

    /// Nothing lost, doubled, misdelivered, refused or broken.
    pub fn clean(&self) -> bool {
        self.missing() == 0
            && self.duplicates == 0
            && self.misdelivered == 0
            && self.exceptions == 0
            && self.conn_errors == 0
    }
}

/// The state every socket's task updates (single-threaded: behind a RefCell).
pub struct Tracker {
    /// The generator's clock: markers carry nanoseconds since it.
    pub base: Instant,
    pub epoch: u32,
    room_members: Vec<u32>,
    room_sent: Vec<u32>,
    sockets: Vec<SocketSeen>,
    pub hist: Histogram<u64>,
    pub counts: Counts,
    pub last_delivery: Option<Instant>,
    /// The first few exception payloads, to show what the server refused.
    pub exception_samples: Vec<String>,
}

impl Tracker {
    pub fn new(base: Instant) -> Self {
        Tracker {
            base,
            epoch: 0,
            room_members: Vec::new(),
            room_sent: Vec::new(),
            sockets: Vec::new(),
            hist: latency_histogram(),
            counts: Counts::default(),
            last_delivery: None,
            exception_samples: Vec::new(),
        }
    }

    /// Registers a socket that joined `room`; returns its index.
    pub fn add_socket(&mut self, room: u32) -> usize {
        let r = room as usize;
        if r >= self.room_members.len() {
            self.room_members.resize(r + 1, 0);
            self.room_sent.resize(r + 1, 0);
        }
        self.room_members[r] += 1;
        self.sockets.push(SocketSeen {
            room,
            ..Default::default()
        });
        self.sockets.len() - 1
    }

    /// Forgets every socket and room (the next scenario starts afresh).
    pub fn reset_sockets(&mut self) {
        self.room_members.clear();
        self.room_sent.clear();
        self.sockets.clear();
        self.begin_point();
    }

    /// Starts a new point: counts, histogram and seen sets are emptied.
    pub fn begin_point(&mut self) {
        self.epoch += 1;
        self.room_sent.iter_mut().for_each(|s| *s = 0);
        for s in &mut self.sockets {
            s.seen.clear();
            s.distinct = 0;
        }
        self.hist.reset();
        self.counts = Counts::default();
        self.last_delivery = None;
        self.exception_samples.clear();
    }

    /// Nanoseconds since the clock base.
    pub fn ns_since_base(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.base).as_nanos() as u64
    }

    /// A message is about to be sent to `room`: its marker.
    pub fn next_marker(&mut self, room: u32, intended: Instant) -> Marker {
        let r = room as usize;
        let k = self.room_sent[r];
        self.room_sent[r] += 1;
        self.counts.sent += 1;
        self.counts.expected += u64::from(self.room_members[r]);
        Marker {
            epoch: self.epoch,
            room,
            k,
            t_ns: self.ns_since_base(intended),
        }
    }

    /// Socket `socket` got the message with `marker` at `now`.
    pub fn delivered(&mut self, socket: usize, marker: Marker, now: Instant) {
        if marker.epoch != self.epoch {
            self.counts.stale += 1;
            return;
        }
        let Some(s) = self.sockets.get_mut(socket) else {
            self.counts.misdelivered += 1;
            return;
        };
        let sent = self
            .room_sent
            .get(marker.room as usize)
            .copied()
            .unwrap_or(0);
        if s.room != marker.room || marker.k >= sent {
            self.counts.misdelivered += 1;
            return;
        }
        if !s.seen.insert(marker.k) {
            self.counts.duplicates += 1;
            return;
        }
        s.distinct += 1;
        self.counts.delivered += 1;
        let lat_ns = self.ns_since_base(now).saturating_sub(marker.t_ns);
        record_us(&mut self.hist, lat_ns / 1000);
        self.last_delivery = Some(now);
    }

    pub fn exception(&mut self, payload: &str) {
        self.counts.exceptions += 1;
        if self.exception_samples.len() < 3 {
            self.exception_samples
                .push(crate::wire::clip(payload).to_owned());
        }
    }

    pub fn conn_error(&mut self) {
        self.counts.conn_errors += 1;
    }

    /// Every expected delivery has come.
    pub fn complete(&self) -> bool {
        self.counts.delivered >= self.counts.expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_bitset_tells_a_second_insert() {
        let mut b = BitSet::default();
        assert!(b.insert(0));
        assert!(b.insert(1000));
        assert!(!b.insert(1000));
        b.clear();
        assert!(b.insert(1000));
    }

    #[test]
    fn every_member_of_a_room_must_get_each_message_once() {
        let t0 = Instant::now();
        let mut t = Tracker::new(t0);
        let a = t.add_socket(0);
        let b = t.add_socket(0);
        let c = t.add_socket(1);
        t.begin_point();
        let m = t.next_marker(0, t0);
        assert_eq!(t.counts.expected, 2);
        t.delivered(a, m, t0 + Duration::from_millis(2));
        assert!(!t.complete());
        t.delivered(a, m, t0 + Duration::from_millis(3));
        assert_eq!(t.counts.duplicates, 1);
        t.delivered(c, m, t0);
        assert_eq!(t.counts.misdelivered, 1);
        t.delivered(b, m, t0 + Duration::from_millis(4));
        assert!(t.complete());
        assert_eq!(t.counts.missing(), 0);
        assert_eq!(t.hist.len(), 2);
        assert!(!t.counts.clean());
    }

    #[test]
    fn a_delivery_from_an_earlier_point_is_stale_and_a_missing_one_is_counted() {
        let t0 = Instant::now();
        let mut t = Tracker::new(t0);
        let a = t.add_socket(0);
        t.begin_point();
        let old = t.next_marker(0, t0);
        t.begin_point();
        t.delivered(a, old, t0);
        assert_eq!(t.counts.stale, 1);
        t.next_marker(0, t0);
        assert_eq!(t.counts.missing(), 1);
        // A number never sent in this point is misdelivered, not counted.
        let bogus = Marker {
            k: 99,
            ..t.next_marker(0, t0)
        };
        t.delivered(a, bogus, t0);
        assert_eq!(t.counts.misdelivered, 1);
    }

    #[test]
    fn latency_is_taken_from_the_intended_time() {
        let t0 = Instant::now();
        let mut t = Tracker::new(t0);
        let a = t.add_socket(0);
        t.begin_point();
        let m = t.next_marker(0, t0 + Duration::from_millis(10));
        t.delivered(a, m, t0 + Duration::from_millis(35));
        let us = t.hist.max();
        assert!((24_900..=25_100).contains(&us), "{us}");
    }
}
