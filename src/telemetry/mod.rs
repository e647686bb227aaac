//! Metrics: the names of confab's Prometheus metrics ([`names`]), the
//! recorder the binary installs ([`recorder`]) and the admin listener that
//! serves them at `/metrics` ([`admin`]), off the public dialect ports, and
//! the count of open connections it takes at each scrape ([`census`]); and
//! the operator console's reading of the same recorder ([`figures`]).
//!
//! Library code records through the `metrics` crate only; without an
//! installed recorder (unit and integration tests, `confab migrate`) its
//! handles do nothing. Label values are `&'static str` (dialect names, event
//! names from a dialect's table, error codes), and the per-event handles are
//! registered once per dialect (`socket::measure`), so recording on the hot
//! path neither allocates nor looks a metric up. This module imports nothing
//! else of confab.

pub mod admin;
pub mod census;
pub mod figures;
pub mod names;
pub mod recorder;

/// Microseconds since the Unix epoch: the clock that lets a receiving node
/// measure how long an event took from another node.
pub fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
