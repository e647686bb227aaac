//! The nodes of the cluster as the operator console shows them: each
//! node's last heartbeat (`confab:nodes`, kept by [`super::claims`]) and
//! what each node reports of itself every heartbeat (`confab:node-info`, a
//! hash of node id to `{"connections":n}`). A node's entry leaves the hash
//! when it is reaped or leaves.

use std::sync::Arc;

use fred::prelude::LuaInterface;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{Cluster, ClusterError, PREFIX};

/// Every node in `confab:nodes` with its last beat (Redis's clock, in
/// milliseconds) and reported info, after Redis's time now.
const NODES: &str = r"
local t = redis.call('TIME')
local out = {tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))}
local beats = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #beats, 2 do
  table.insert(out, beats[i])
  table.insert(out, beats[i + 1])
  table.insert(out, redis.call('HGET', KEYS[2], beats[i]) or '')
end
return out";

/// The hash of the nodes' reports.
pub(super) fn info_key() -> String {
    format!("{PREFIX}node-info")
}

/// What a node reports of itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Its Socket.IO connections open now.
    pub connections: u64,
}

/// A node as the cluster knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Beat {
    pub id: String,
    /// Its last heartbeat, milliseconds since the Unix epoch (Redis's clock).
    pub last_seen: i64,
    /// How long ago that was, in milliseconds.
    pub silent_ms: i64,
    /// Its last report, if it made one.
    pub report: Option<Report>,
}

impl Cluster {
    /// Writes this node's report.
    pub async fn report(&self, report: Report) -> Result<(), ClusterError> {
        let json = serde_json::to_string(&report)
            .map_err(|e| ClusterError::Answer(format!("report: {e}")))?;
        let _: i64 = self
            .client()?
            .eval(
                "return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])",
                vec![info_key()],
                vec![self.node_id().to_owned(), json],
            )
            .await?;
        Ok(())
    }

    /// Every node that beats or beat within the TTL (not reaped yet), by id.
    pub async fn nodes(&self) -> Result<Vec<Beat>, ClusterError> {
        let answer: Vec<String> = self
            .client()?
            .eval(
                NODES,
                vec![format!("{PREFIX}nodes"), info_key()],
                Vec::<String>::new(),
            )
            .await?;
        parse(&answer)
    }
}

fn parse(answer: &[String]) -> Result<Vec<Beat>, ClusterError> {
    let bad = || ClusterError::Answer(format!("nodes: {answer:?}"));
    let (now, rest) = answer.split_first().ok_or_else(bad)?;
    let now: i64 = now.parse().map_err(|_| bad())?;
    if rest.len() % 3 != 0 {
        return Err(bad());
    }
    rest.chunks(3)
        .map(|c| {
            let last_seen = c[1].parse::<f64>().map_err(|_| bad())? as i64;
            Ok(Beat {
                id: c[0].clone(),
                last_seen,
                silent_ms: now.saturating_sub(last_seen).max(0),
                report: serde_json::from_str(&c[2]).ok(),
            })
        })
        .collect()
}

/// Reports `count()` for this node every heartbeat until `stop` says so.
pub fn spawn_reports(
    cluster: Arc<Cluster>,
    count: impl Fn() -> u64 + Send + 'static,
    mut stop: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(cluster.heartbeat());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let report = Report { connections: count() };
                    if let Err(e) = cluster.report(report).await {
                        tracing::debug!(error = %e, "node report failed");
                    }
                }
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

    #[test]
    fn the_answer_lists_each_node_with_its_age_and_report() {
        let answer: Vec<String> = [
            "10000",
            "a",
            "9000",
            r#"{"connections":3}"#,
            "b",
            "4000",
            "",
        ]
        .map(String::from)
        .into();
        let nodes = parse(&answer).expect("parsed");
        assert_eq!(
            nodes,
            vec![
                Beat {
                    id: "a".into(),
                    last_seen: 9000,
                    silent_ms: 1000,
                    report: Some(Report { connections: 3 }),
                },
                Beat {
                    id: "b".into(),
                    last_seen: 4000,
                    silent_ms: 6000,
                    report: None,
                },
            ]
        );
        assert!(parse(&["1".into(), "a".into()]).is_err());
        assert!(parse(&[]).is_err());
    }
}
