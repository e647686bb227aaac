//! The operator console's figures, read from the recorder that serves
//! `/metrics` (its exposition, parsed), so that the console and a
//! Prometheus scrape never disagree: messages stored, deliveries and
//! refusals by error code since the process started, and the rate of new
//! messages over the last [`WINDOW`], from samples taken every
//! [`SAMPLE_EVERY`].

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use parking_lot::Mutex;

use super::names;

/// The span the rate of new messages is measured over.
pub const WINDOW: Duration = Duration::from_secs(10);

/// How often the counters are sampled for the rate.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// The counters the console shows, as the exposition has them now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// `confab_messages_stored_total`.
    pub messages_stored: u64,
    /// `confab_deliveries_total`, every dialect summed.
    pub deliveries: u64,
    /// `confab_errors_total` by `code` (every dialect summed).
    pub errors: BTreeMap<String, u64>,
}

impl Figures {
    /// Reads the figures out of an exposition in the Prometheus text format.
    /// A metric not recorded yet is absent from it: zero.
    pub fn parse(text: &str) -> Self {
        let mut figures = Figures::default();
        for line in text.lines() {
            let Some((name, labels, value)) = sample(line) else {
                continue;
            };
            // Counters: whole numbers, rendered as such.
            let n = value.max(0.0) as u64;
            if name == names::MESSAGES_STORED {
                figures.messages_stored += n;
            } else if name == names::DELIVERIES {
                figures.deliveries += n;
            } else if name == names::ERRORS
                && let Some(code) = label(labels, "code")
            {
                *figures.errors.entry(code.to_owned()).or_default() += n;
            }
        }
        figures
    }

    /// Every refusal, whatever its code.
    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// A sample line's metric name, label text (between the braces, empty if
/// none) and value; `None` for comments, blank lines and anything else.
fn sample(line: &str) -> Option<(&str, &str, f64)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (series, value) = match line.find('{') {
        Some(open) => {
            let close = line.rfind('}')?;
            let value = line.get(close + 1..)?.split_whitespace().next()?;
            (
                (line.get(..open)?, line.get(open + 1..close)?),
                value.parse().ok()?,
            )
        }
        None => {
            let mut parts = line.split_whitespace();
            let name = parts.next()?;
            ((name, ""), parts.next()?.parse().ok()?)
        }
    };
    Some((series.0, series.1, value))
}

/// The value of label `key` in a label text (`a="x",b="y"`). confab's label
/// values are names it fixes (dialects, events, error codes): no quote or
/// comma inside.
fn label<'a>(labels: &'a str, key: &str) -> Option<&'a str> {
    labels.split(',').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"'))
    })
}

/// The recorder's handle, and the recent samples of the stored-messages
/// counter the rate is measured on.
pub struct Meter {
    handle: PrometheusHandle,
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

/// What the console shows of the counters now.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub figures: Figures,
    /// New messages per second over the last [`WINDOW`] (over the time
    /// since the first sample when the node is younger).
    pub per_second: f64,
}

impl Meter {
    pub fn new(handle: PrometheusHandle) -> Self {
        Meter {
            handle,
            samples: Mutex::default(),
        }
    }

    /// The counters now (a sample of them too).
    pub fn read(&self) -> Reading {
        let figures = Figures::parse(&self.handle.render());
        let per_second = self.record(Instant::now(), figures.messages_stored);
        Reading {
            figures,
            per_second,
        }
    }

    /// Takes a sample (every [`SAMPLE_EVERY`], from the task [`spawn`]
    /// starts).
    pub fn sample(&self) {
        self.read();
    }

    /// Keeps `total` at `now`, forgets samples older than the window, and
    /// answers the rate since the oldest sample kept.
    fn record(&self, now: Instant, total: u64) -> f64 {
        let mut samples = self.samples.lock();
        samples.push_back((now, total));
        while samples
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > WINDOW)
        {
            samples.pop_front();
        }
        rate(&samples)
    }
}

/// The rate between the oldest and the newest sample; 0 with less than a
/// tenth of a second between them.
fn rate(samples: &VecDeque<(Instant, u64)>) -> f64 {
    match (samples.front(), samples.back()) {
        (Some((t0, n0)), Some((t1, n1))) => {
            let secs = t1.duration_since(*t0).as_secs_f64();
            if secs < 0.1 {
                0.0
            } else {
                n1.saturating_sub(*n0) as f64 / secs
            }
        }
        _ => 0.0,
    }
}

/// Samples `meter` every [`SAMPLE_EVERY`] until `stop` says so, so that the
/// rate covers the whole window whenever the console asks.
pub fn spawn(meter: std::sync::Arc<Meter>, mut stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => meter.sample(),
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSITION: &str = "\
# TYPE confab_messages_stored_total counter
confab_messages_stored_total 7

# TYPE confab_deliveries_total counter
confab_deliveries_total{dialect=\"dozaar\"} 3
confab_deliveries_total{dialect=\"vchat\"} 2
# TYPE confab_errors_total counter
confab_errors_total{dialect=\"dozaar\",code=\"FORBIDDEN\"} 1
confab_errors_total{dialect=\"rest\",code=\"FORBIDDEN\"} 4
confab_errors_total{dialect=\"rest\",code=\"NOT_FOUND\"} 2
# TYPE confab_connections gauge
confab_connections{dialect=\"dozaar\",transport=\"websocket\"} 9
confab_store_seconds_bucket{op=\"insert_message\",le=\"+Inf\"} 7
";

    #[test]
    fn the_counters_are_read_from_the_exposition_and_summed_over_dialects() {
        let f = Figures::parse(EXPOSITION);
        assert_eq!(f.messages_stored, 7);
        assert_eq!(f.deliveries, 5);
        assert_eq!(
            f.errors,
            BTreeMap::from([("FORBIDDEN".to_owned(), 5), ("NOT_FOUND".to_owned(), 2)])
        );
        assert_eq!(f.errors_total(), 7);
    }

    #[test]
    fn an_empty_exposition_reads_as_zeros() {
        assert_eq!(Figures::parse(""), Figures::default());
        assert_eq!(Figures::parse("garbage {\nx y\n"), Figures::default());
    }

    #[test]
    fn the_rate_is_over_the_samples_of_the_window() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut samples = VecDeque::from([(at(0), 10)]);
        assert_eq!(rate(&samples), 0.0);
        samples.push_back((at(4), 30));
        assert_eq!(rate(&samples), 5.0);
        samples.push_back((at(10), 40));
        assert_eq!(rate(&samples), 3.0);
    }
}
