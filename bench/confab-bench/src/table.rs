//! The table of a run: the `RESULT` lines of every server side by side, with
//! confab's figure against the Node peer's and socketioxide alone's (the
//! library floor), and confab's and the peer's against the ceiling's.

use std::collections::HashMap;

/// `(scenario, server)` → key → value, from `RESULT` lines.
pub type Results = HashMap<(String, String), HashMap<String, String>>;

pub fn parse(text: &str) -> Results {
    let mut out = Results::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("RESULT ") else {
            continue;
        };
        let mut kv: HashMap<String, String> = rest
            .split_whitespace()
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if rest.contains("DISCARDED") {
            kv.insert("discarded".into(), "yes".into());
        }
        if let (Some(s), Some(srv)) = (kv.get("scenario"), kv.get("server")) {
            out.insert((s.clone(), srv.clone()), kv);
        }
    }
    out
}

/// One row: what it shows, where it comes from, its unit.
struct Row {
    label: &'static str,
    scenario: &'static str,
    key: &'static str,
}

const ROWS: &[Row] = &[
    Row {
        label: "one-to-one: highest rate held (msgs/s)",
        scenario: "one-to-one",
        key: "msgs_per_s",
    },
    Row {
        label: "one-to-one: deliveries/s at that rate",
        scenario: "one-to-one",
        key: "deliveries_per_s",
    },
    Row {
        label: "one-to-one: p99 at that rate (ms)",
        scenario: "one-to-one",
        key: "p99_ms",
    },
    Row {
        label: "one-to-one at the fixed rate: p50 (ms)",
        scenario: "one-to-one",
        key: "fixed_p50_ms",
    },
    Row {
        label: "one-to-one at the fixed rate: p99 (ms)",
        scenario: "one-to-one",
        key: "fixed_p99_ms",
    },
    Row {
        label: "one-to-one at the fixed rate: p99.9 (ms)",
        scenario: "one-to-one",
        key: "fixed_p999_ms",
    },
    Row {
        label: "one-to-one at the fixed rate: server CPU (s)",
        scenario: "one-to-one",
        key: "fixed_server_cpu_s",
    },
    Row {
        label: "one-to-one at the fixed rate: server CPU per message (µs)",
        scenario: "one-to-one",
        key: "fixed_server_cpu_us_per_msg",
    },
    Row {
        label: "one-to-one at the fixed rate: server busy after the last delivery (s)",
        scenario: "one-to-one",
        key: "fixed_server_busy_after_s",
    },
    Row {
        label: "fan-out 100: deliveries/s held",
        scenario: "fanout-100",
        key: "deliveries_per_s",
    },
    Row {
        label: "fan-out 100: p99 (ms)",
        scenario: "fanout-100",
        key: "p99_ms",
    },
    Row {
        label: "fan-out 1000: deliveries/s held",
        scenario: "fanout-1000",
        key: "deliveries_per_s",
    },
    Row {
        label: "fan-out 1000: p99 (ms)",
        scenario: "fanout-1000",
        key: "p99_ms",
    },
    Row {
        label: "fan-out 100 at 50 msgs/s: server CPU (s)",
        scenario: "fanout-100",
        key: "first_server_cpu_s",
    },
    Row {
        label: "fan-out 100 at 50 msgs/s: server busy after the last delivery (s)",
        scenario: "fanout-100",
        key: "first_server_busy_after_s",
    },
    Row {
        label: "fan-out 1000 at 10 msgs/s: p99 (ms)",
        scenario: "fanout-1000",
        key: "first_p99_ms",
    },
    Row {
        label: "fan-out 1000 at 10 msgs/s: server CPU (s)",
        scenario: "fanout-1000",
        key: "first_server_cpu_s",
    },
    Row {
        label: "fan-out 1000 at 10 msgs/s: server busy after the last delivery (s)",
        scenario: "fanout-1000",
        key: "first_server_busy_after_s",
    },
    Row {
        label: "idle: memory per connection (KiB)",
        scenario: "idle",
        key: "kib_per_conn",
    },
    Row {
        label: "idle: RSS at 18k connections (MiB)",
        scenario: "idle",
        key: "rss_at_18000_mib",
    },
    Row {
        label: "storm, WebSocket: handshakes/s",
        scenario: "storm-websocket",
        key: "handshakes_per_s",
    },
    Row {
        label: "storm, WebSocket: p99 (ms)",
        scenario: "storm-websocket",
        key: "p99_ms",
    },
    Row {
        label: "storm, WebSocket: server CPU per handshake (ms)",
        scenario: "storm-websocket",
        key: "server_cpu_ms_per_handshake",
    },
    Row {
        label: "storm, polling + upgrade: handshakes/s",
        scenario: "storm-polling",
        key: "handshakes_per_s",
    },
    Row {
        label: "storm, polling + upgrade: p99 (ms)",
        scenario: "storm-polling",
        key: "p99_ms",
    },
];

fn value(r: &Results, scenario: &str, server: &str, key: &str) -> Option<f64> {
    r.get(&(scenario.to_owned(), server.to_owned()))?
        .get(key)?
        .parse()
        .ok()
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => format!("{}×", crate::report::num(a / b)),
        _ => "-".into(),
    }
}

fn cell(v: Option<f64>, discarded: bool) -> String {
    match v {
        Some(v) if discarded => format!("≥ {} (generator-bound)", crate::report::num(v)),
        Some(v) => crate::report::num(v),
        None => "-".into(),
    }
}

fn discarded(r: &Results, scenario: &str, server: &str) -> bool {
    r.get(&(scenario.to_owned(), server.to_owned()))
        .is_some_and(|kv| kv.contains_key("discarded"))
}

/// The servers of a run, in the table's order.
pub const SERVERS: [&str; 4] = ["confab", "node", "socketioxide", "ceiling"];

/// A markdown table: confab, the peer (`node`), socketioxide alone, the
/// ceiling; then confab ÷ peer, confab ÷ socketioxide alone, and confab and
/// the peer as multiples of the ceiling's figure.
pub fn markdown(r: &Results) -> String {
    let mut s = String::from(
        "| figure | confab | node peer | socketioxide alone | ceiling | confab / peer | confab / socketioxide | confab / ceiling | peer / ceiling |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in ROWS {
        let [c, n, f, k] = SERVERS.map(|server| value(r, row.scenario, server, row.key));
        if [c, n, f, k].iter().all(Option::is_none) {
            continue;
        }
        let [cc, nc, fc, kc] = SERVERS.map(|server| {
            cell(
                value(r, row.scenario, server, row.key),
                discarded(r, row.scenario, server),
            )
        });
        s.push_str(&format!(
            "| {} | {cc} | {nc} | {fc} | {kc} | {} | {} | {} | {} |\n",
            row.label,
            ratio(c, n),
            ratio(c, f),
            ratio(c, k),
            ratio(n, k)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_become_rows_with_ratios() {
        let text = "# header\npoint scenario=idle server=confab connections=0\n\
            RESULT scenario=idle server=confab kib_per_conn=10\n\
            RESULT scenario=idle server=node kib_per_conn=40\n\
            RESULT scenario=idle server=socketioxide kib_per_conn=8\n\
            RESULT scenario=idle server=ceiling kib_per_conn=5\n";
        let r = parse(text);
        assert_eq!(r.len(), 4);
        let t = markdown(&r);
        assert!(t.contains("| idle: memory per connection (KiB) | 10.0 | 40.0 | 8.00 | 5.00 | 0.250× | 1.25× | 2.00× | 8.00× |"), "{t}");
        assert!(!t.contains("fan-out"));
        let r = parse(
            "RESULT scenario=storm-websocket server=ceiling handshakes_per_s=9000 DISCARDED(x)\n",
        );
        assert!(markdown(&r).contains("≥ 9000 (generator-bound)"));
    }

    #[test]
    fn a_server_missing_from_the_run_leaves_its_column_and_ratios_empty() {
        let r = parse(
            "RESULT scenario=one-to-one server=confab fixed_server_cpu_us_per_msg=400\n\
             RESULT scenario=one-to-one server=socketioxide fixed_server_cpu_us_per_msg=100\n",
        );
        let t = markdown(&r);
        assert!(
            t.contains("| one-to-one at the fixed rate: server CPU per message (µs) | 400 | - | 100 | - | - | 4.00× | - | - |"),
            "{t}"
        );
    }
}
