//! What the runtime counts for the metrics (`crate::telemetry::names`):
//! events in and out, connects, refusals, deliveries and the time from a
//! send's arrival to its delivery. Every label is a `&'static str`.

use std::time::Instant;

use metrics::{counter, histogram};
use socketioxide::adapter::Adapter;
use socketioxide::{SocketIo, TransportType};

use crate::core::CoreError;
use crate::dialects::Dialect;
use crate::telemetry::census::{Count, Transports};
use crate::telemetry::{known_or_other, names};

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

/// A client event arrived (named as the dialect knows it, else `other`).
pub(super) fn event_in<D: Dialect>(dialect: &D, event: &str) {
    let event = known_or_other(dialect.events(), event);
    counter!(names::EVENTS_IN, "dialect" => dialect.name(), "event" => event).increment(1);
}

/// An event was emitted (to one socket, or broadcast to a room once).
pub(super) fn event_out(dialect: &'static str, event: &'static str) {
    counter!(names::EVENTS_OUT, "dialect" => dialect, "event" => event).increment(1);
}

/// A socket connected (its handshake passed).
pub(super) fn connected(dialect: &'static str) {
    counter!(names::CONNECTS, "dialect" => dialect).increment(1);
}

/// A client event was refused with `error`.
pub(super) fn refused(dialect: &'static str, error: &CoreError) {
    let code = error.code().as_str();
    counter!(names::ERRORS, "dialect" => dialect, "code" => code).increment(1);
}

/// A new message reached `sockets` sockets of the dialect, the send having
/// arrived at `arrived` (on this node).
pub(super) fn delivered(dialect: &'static str, sockets: usize, arrived: Option<Instant>) {
    counter!(names::DELIVERIES, "dialect" => dialect).increment(sockets as u64);
    if let Some(at) = arrived {
        histogram!(names::SEND_TO_DELIVERY, "dialect" => dialect)
            .record(at.elapsed().as_secs_f64());
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
