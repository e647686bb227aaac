//! The connections open now, by dialect and transport: counted from the
//! Socket.IO servers when the metrics are scraped, so that nothing on a
//! socket's path keeps the count (and a socket that upgrades from polling
//! to WebSocket is counted where it is).

use std::sync::Arc;

use parking_lot::Mutex;

use super::names;

/// A namespace's sockets by transport.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Transports {
    pub polling: usize,
    pub websocket: usize,
}

/// Counts the sockets of one namespace now.
pub type Count = Box<dyn Fn() -> Transports + Send + Sync>;

/// Every namespace served, under its dialect's name.
#[derive(Clone, Default)]
pub struct Census(Arc<Mutex<Vec<(&'static str, Count)>>>);

impl Census {
    /// Counts `count`'s sockets under `dialect` from now on.
    pub fn add(&self, dialect: &'static str, count: Count) {
        self.0.lock().push((dialect, count));
    }

    /// The sockets open now, by dialect (its namespaces summed), in the
    /// order the dialects were added.
    pub fn count(&self) -> Vec<(&'static str, Transports)> {
        let mut by_dialect: Vec<(&'static str, Transports)> = Vec::new();
        for (dialect, count) in self.0.lock().iter() {
            let t = count();
            match by_dialect.iter_mut().find(|(d, _)| d == dialect) {
                Some((_, sum)) => {
                    sum.polling += t.polling;
                    sum.websocket += t.websocket;
                }
                None => by_dialect.push((dialect, t)),
            }
        }
        by_dialect
    }

    /// Every socket open now.
    pub fn total(&self) -> usize {
        self.count()
            .iter()
            .map(|(_, t)| t.polling + t.websocket)
            .sum()
    }

    /// Sets the connections gauge of every dialect to its count now.
    pub fn record(&self) {
        for (dialect, t) in self.count() {
            for (transport, n) in [("polling", t.polling), ("websocket", t.websocket)] {
                metrics::gauge!(names::CONNECTIONS, "dialect" => dialect, "transport" => transport)
                    .set(n as f64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialects_namespaces_are_summed() {
        let census = Census::default();
        let t = |polling, websocket| Transports { polling, websocket };
        census.add("vchat", Box::new(move || t(1, 2)));
        census.add("dozaar", Box::new(move || t(0, 5)));
        census.add("vchat", Box::new(move || t(3, 0)));
        assert_eq!(
            census.count(),
            vec![("vchat", t(4, 2)), ("dozaar", t(0, 5))]
        );
    }
}
