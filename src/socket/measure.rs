//! What the runtime counts for the metrics (`crate::telemetry::names`):
//! events in and out, connects, refusals, deliveries and the time from a
//! send's arrival to its delivery, per dialect ([`Meters`]), and the open
//! sockets by transport ([`census`]).
//!
//! The hot path takes no registry lookup and allocates nothing: each
//! dialect's handles are registered once, when it is attached (after the
//! binary installed the recorder; without one they are no-ops), and the
//! few whose label comes from a list the code fixes (event names, error
//! codes) are kept in small lists found by name.

use std::time::Instant;

use metrics::{Counter, Histogram, counter, histogram};
use parking_lot::RwLock;
use socketioxide::adapter::Adapter;
use socketioxide::{SocketIo, TransportType};

use crate::core::CoreError;
use crate::dialects::Dialect;
use crate::telemetry::census::{Count, Transports};
use crate::telemetry::names;

tokio::task_local! {
    /// When the client event being handled arrived. A new message it
    /// stores is published, and rendered for every dialect, in the same
    /// task: the renderers read it to time the message's delivery.
    static ARRIVED: Instant;
}

/// Runs `handling` (a client event's handling) knowing it arrived `at`.
pub(super) async fn arrived<F: Future>(at: Instant, handling: F) -> F::Output {
    ARRIVED.scope(at, handling).await
}

/// When the client event being handled in this task arrived, if one is.
pub(super) fn arrival() -> Option<Instant> {
    ARRIVED.try_with(|at| *at).ok()
}

/// One dialect's metric handles.
pub(super) struct Meters {
    /// The dialect's known events, and the counter of each, in order.
    events: &'static [&'static str],
    events_in: Vec<Counter>,
    other_in: Counter,
    events_out: Labelled,
    errors: Labelled,
    connects: Counter,
    deliveries: Counter,
    send_to_delivery: Histogram,
}

impl Meters {
    pub(super) fn new<D: Dialect>(dialect: &D) -> Self {
        let name = dialect.name();
        let event_in =
            |event: &'static str| counter!(names::EVENTS_IN, "dialect" => name, "event" => event);
        Meters {
            events: dialect.events(),
            events_in: dialect.events().iter().map(|e| event_in(e)).collect(),
            other_in: event_in("other"),
            events_out: Labelled::new(names::EVENTS_OUT, name, "event"),
            errors: Labelled::new(names::ERRORS, name, "code"),
            connects: counter!(names::CONNECTS, "dialect" => name),
            deliveries: counter!(names::DELIVERIES, "dialect" => name),
            send_to_delivery: histogram!(names::SEND_TO_DELIVERY, "dialect" => name),
        }
    }

    /// A client event arrived (counted by name if the dialect knows it,
    /// else as `other`).
    pub(super) fn event_in(&self, event: &str) {
        match self.events.iter().position(|e| *e == event) {
            Some(i) => self.events_in[i].increment(1),
            None => self.other_in.increment(1),
        }
    }

    /// An event was emitted (to one socket, or broadcast to a room once).
    pub(super) fn event_out(&self, event: &'static str) {
        self.events_out.increment(event);
    }

    /// A socket connected (its handshake passed).
    pub(super) fn connected(&self) {
        self.connects.increment(1);
    }

    /// A client event was refused with `error`.
    pub(super) fn refused(&self, error: &CoreError) {
        self.errors.increment(error.code().as_str());
    }

    /// A new message reached `sockets` sockets of its recipients, the send
    /// having arrived at `arrived` (on this node). Nothing is recorded when
    /// it reached none of this dialect's.
    pub(super) fn delivered(&self, sockets: usize, arrived: Option<Instant>) {
        if sockets == 0 {
            return;
        }
        self.deliveries.increment(sockets as u64);
        if let Some(at) = arrived {
            self.send_to_delivery.record(at.elapsed().as_secs_f64());
        }
    }
}

/// The counters of one metric and dialect by a second label whose values
/// the code fixes (event names, error codes), registered on first use.
struct Labelled {
    name: &'static str,
    dialect: &'static str,
    key: &'static str,
    counters: RwLock<Vec<(&'static str, Counter)>>,
}

impl Labelled {
    fn new(name: &'static str, dialect: &'static str, key: &'static str) -> Self {
        Labelled {
            name,
            dialect,
            key,
            counters: RwLock::default(),
        }
    }

    fn increment(&self, value: &'static str) {
        let find = |counters: &[(&'static str, Counter)]| {
            counters
                .iter()
                .find(|(v, _)| std::ptr::eq(*v, value) || *v == value)
                .map(|(_, c)| c.increment(1))
        };
        if find(&self.counters.read()).is_some() {
            return;
        }
        let mut counters = self.counters.write();
        if find(&counters).is_none() {
            let (name, dialect, key) = (self.name, self.dialect, self.key);
            let counter = counter!(name, "dialect" => dialect, key => value);
            counter.increment(1);
            counters.push((value, counter));
        }
    }
}

/// Counts the sockets of `io`'s namespace `namespace` by transport.
pub(super) fn census<A: Adapter>(io: &SocketIo<A>, namespace: &'static str) -> Count {
    let io = io.clone();
    Box::new(move || {
        let mut t = Transports::default();
        if let Some(ns) = io.of(namespace) {
            for socket in ns.local().sockets() {
                match socket.transport_type() {
                    TransportType::Polling => t.polling += 1,
                    TransportType::Websocket => t.websocket += 1,
                }
            }
        }
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialects::dozaar::Dozaar;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    #[test]
    fn events_are_counted_by_known_name_and_refusals_by_code() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            let meters = Meters::new(&Dozaar);
            meters.event_in("send:message");
            meters.event_in("send:message");
            meters.event_in("drop table");
            meters.event_out("new:message");
            meters.event_out("new:message");
            meters.refused(&CoreError::invalid("no"));
            meters.delivered(0, Some(Instant::now()));
            meters.delivered(2, Some(Instant::now()));
        });
        let mut seen: Vec<(String, Vec<String>, u64)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter_map(|(key, _, _, value)| {
                let labels = key
                    .key()
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()));
                let n = match value {
                    DebugValue::Counter(n) if n > 0 => n,
                    DebugValue::Histogram(v) if !v.is_empty() => v.len() as u64,
                    _ => return None,
                };
                Some((key.key().name().to_string(), labels.collect(), n))
            })
            .collect();
        seen.sort();
        let row = |name: &str, labels: &[&str], n| {
            let labels = labels.iter().map(|l| l.to_string()).collect();
            (name.to_string(), labels, n)
        };
        assert_eq!(
            seen,
            vec![
                row(names::DELIVERIES, &["dialect=dozaar"], 2),
                row(
                    names::ERRORS,
                    &["dialect=dozaar", "code=INVALID_PAYLOAD"],
                    1
                ),
                row(names::EVENTS_IN, &["dialect=dozaar", "event=other"], 1),
                row(
                    names::EVENTS_IN,
                    &["dialect=dozaar", "event=send:message"],
                    2
                ),
                row(
                    names::EVENTS_OUT,
                    &["dialect=dozaar", "event=new:message"],
                    2
                ),
                row(names::SEND_TO_DELIVERY, &["dialect=dozaar"], 1),
            ]
        );
    }
}
