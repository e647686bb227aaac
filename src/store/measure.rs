//! What both stores count for the metrics: a message insert's time, and
//! the new messages stored.

use std::time::Instant;

use metrics::{counter, histogram};

use super::{Inserted, StoreResult};
use crate::telemetry::names;

/// A message insert that started at `started` ended with `result`.
pub(super) fn inserted(started: Instant, result: &StoreResult<Inserted>) {
    histogram!(names::STORE, "op" => "insert_message").record(started.elapsed().as_secs_f64());
    if let Ok(Inserted::New(_)) = result {
        counter!(names::MESSAGES_STORED).increment(1);
    }
}
