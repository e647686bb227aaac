//! Every metric confab records, by name (Prometheus conventions: the
//! `confab_` prefix, the unit in the name, `_total` on counters). The
//! README's "Metrics" section and `deploy/grafana-dashboard.json` read
//! these names.

/// Gauge, by `dialect` and `transport` (`polling`, `websocket`): Socket.IO
/// connections open now (one per namespace a client joined), counted when
/// `/metrics` is scraped.
pub const CONNECTIONS: &str = "confab_connections";
/// Counter, by `dialect`: connections accepted (after the handshake).
pub const CONNECTS: &str = "confab_connects_total";
/// Counter, by `dialect` and `event` (the dialect's own event names; any
/// other is `other`): client events received.
pub const EVENTS_IN: &str = "confab_events_in_total";
/// Counter, by `dialect` and `event`: events emitted to sockets, an emit to
/// one socket or a broadcast to a room counted once.
pub const EVENTS_OUT: &str = "confab_events_out_total";
/// Counter: new messages stored (a retried send with the same client id is
/// not counted again).
pub const MESSAGES_STORED: &str = "confab_messages_stored_total";
/// Counter, by `dialect`: new messages emitted to a recipient's socket, one
/// per socket reached (the sender's own sockets not counted).
pub const DELIVERIES: &str = "confab_deliveries_total";
/// Counter, by `dialect` (`rest` for the HTTP API) and `code` (the core's
/// error codes: `INVALID_PAYLOAD`, `FORBIDDEN`, …): refused requests.
pub const ERRORS: &str = "confab_errors_total";
/// Histogram, by `dialect`: seconds from the moment a send arrived on this
/// node to the moment its new message was emitted to the dialect's sockets
/// here, for a dialect with a recipient's socket here (a message to other
/// nodes adds [`BUS_LAG`] there).
pub const SEND_TO_DELIVERY: &str = "confab_send_to_delivery_seconds";
/// Histogram, by `op` (`insert_message`: a send's store write, waiting for
/// its group included; `group_commit`: one SQLite group's transaction):
/// seconds.
pub const STORE: &str = "confab_store_seconds";
/// Histogram: messages stored per SQLite group-commit transaction.
pub const GROUP_COMMIT_BATCH: &str = "confab_group_commit_batch_messages";
/// Gauge: push notifications waiting to be sent.
pub const PUSH_QUEUE: &str = "confab_push_queue_depth";
/// Counter, by `channel` (the sender: `fcm`, `webhook`): push
/// notifications sent, one per recipient and sender.
pub const PUSH_SENT: &str = "confab_push_sent_total";
/// Counter, by `channel` (the sender, or `devices` when the recipient's
/// devices could not be read): push notifications that failed after their
/// retries.
pub const PUSH_FAILURES: &str = "confab_push_failures_total";
/// Counter: push notifications dropped because the queue was full.
pub const PUSH_DROPPED: &str = "confab_push_dropped_total";
/// Histogram: seconds from an event's publication on another node to its
/// arrival here through Redis (the nodes' clocks must agree).
pub const BUS_LAG: &str = "confab_bus_lag_seconds";
/// Counter: events sent to the other nodes.
pub const BUS_OUT: &str = "confab_bus_messages_out_total";
/// Counter: events received from the other nodes.
pub const BUS_IN: &str = "confab_bus_messages_in_total";
/// Gauge: 1 while this node's Redis connection is up, 0 while it is away
/// (absent on a node without Redis).
pub const REDIS_UP: &str = "confab_redis_up";

/// Every name above.
pub const ALL: &[&str] = &[
    CONNECTIONS,
    CONNECTS,
    EVENTS_IN,
    EVENTS_OUT,
    MESSAGES_STORED,
    DELIVERIES,
    ERRORS,
    SEND_TO_DELIVERY,
    STORE,
    GROUP_COMMIT_BATCH,
    PUSH_QUEUE,
    PUSH_SENT,
    PUSH_FAILURES,
    PUSH_DROPPED,
    BUS_LAG,
    BUS_OUT,
    BUS_IN,
    REDIS_UP,
];

#[cfg(test)]
mod tests {
    use super::ALL;

    /// The metric names a text mentions (`confab_…`), a histogram's series
    /// (`_bucket`, `_sum`, `_count`) by the histogram's name.
    fn mentioned(text: &str) -> Vec<String> {
        let mut found: Vec<String> = text
            .match_indices("confab_")
            .map(|(at, _)| {
                let rest = &text[at..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                let name = &rest[..end];
                ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|n| ALL.contains(n)))
                    .unwrap_or(name)
                    .to_string()
            })
            .collect();
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn the_dashboard_and_the_docs_name_only_metrics_that_exist() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |file: &str| std::fs::read_to_string(root.join(file)).expect(file);
        let dashboard = read("deploy/grafana-dashboard.json");
        let deploy = read("docs/deploy.md");
        let metrics = deploy
            .split("\n## ")
            .find(|section| section.starts_with("Metrics"))
            .expect("docs/deploy.md has a Metrics section");
        for (file, text) in [("the dashboard", dashboard.as_str()), ("docs", metrics)] {
            for name in mentioned(text) {
                assert!(ALL.contains(&name.as_str()), "{file} names {name}");
            }
        }
    }

    #[test]
    fn the_dashboard_shows_every_metric() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let text =
            std::fs::read_to_string(root.join("deploy/grafana-dashboard.json")).expect("dashboard");
        let shown = mentioned(&text);
        for name in ALL {
            assert!(
                shown.iter().any(|s| s == name),
                "the dashboard misses {name}"
            );
        }
    }
}
