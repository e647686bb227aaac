//! The Prometheus recorder: installed once per process, with the
//! histograms' buckets, when something reads it: the admin listener's
//! `/metrics` (`admin.listen`) or the operator console (`admin.users` or
//! `admin.token` set).

use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use super::names;

/// Buckets of the latency histograms (seconds): half a millisecond to ten
/// seconds.
const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Buckets of the group-commit batch sizes (a group holds at most 256).
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// How often the recorder's histograms are tidied (without it, their
/// buffers grow between scrapes).
const UPKEEP: Duration = Duration::from_secs(5);

/// The handle of the recorder installed, if one is.
static INSTALLED: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();

/// Installs the process's recorder, unless it is installed already, and
/// returns the handle that renders its exposition. Call in a Tokio runtime.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    static INSTALLING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    let _once = INSTALLING.lock();
    if let Some(handle) = INSTALLED.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)?
        .set_buckets_for_metric(Matcher::Full(names::GROUP_COMMIT_BATCH.into()), BATCH)?
        .install_recorder()?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP);
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(INSTALLED.get_or_init(|| handle).clone())
}
