//! Metrics: the names of confab's Prometheus metrics ([`names`]), the
//! recorder the binary installs ([`recorder`]) and the admin listener that
//! serves them at `/metrics` ([`admin`]), off the public dialect ports.
//!
//! Library code records through the `metrics` crate's macros only; without
//! an installed recorder (unit and integration tests, `confab migrate`) they
//! do nothing. Label values are `&'static str` (dialect names, event names
//! from a dialect's table, error codes), so recording allocates no label.
//! This module imports nothing else of confab.

pub mod admin;
pub mod census;
pub mod names;
pub mod recorder;

/// `name` if it is one of `known`, else `"other"`: bounds a label whose value
/// comes from a client (an event name) to a set the code fixes.
pub fn known_or_other(known: &[&'static str], name: &str) -> &'static str {
    known
        .iter()
        .find(|k| **k == name)
        .copied()
        .unwrap_or("other")
}

/// Seconds since the Unix epoch, with microseconds: the clock that lets a
/// receiving node measure how long an event took from another node.
pub fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_is_other_and_a_known_one_is_itself() {
        let known = ["send:message", "mark:read"];
        assert_eq!(known_or_other(&known, "mark:read"), "mark:read");
        assert_eq!(known_or_other(&known, "drop tables"), "other");
        assert_eq!(known_or_other(&[], "x"), "other");
    }
}
