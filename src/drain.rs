//! A stopping node's shared state: whether it is draining (so `/readyz`
//! answers 503 at once), how many client events have been received and not
//! yet answered, and the task of every socket's worker. The listeners count
//! into it; [`Running::drain`](crate::app::Running::drain) reads it to
//! close sockets at a moment no event is half-handled, and to wait for each
//! socket's close to be handled.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use tokio::time::Instant;
use tokio_util::task::TaskTracker;

/// How often the drain looks at the in-flight count.
const POLL: Duration = Duration::from_millis(5);

type Close = Box<dyn FnOnce() + Send>;

#[derive(Default)]
pub struct Drain {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    workers: TaskTracker,
    /// How to queue the close of each open socket, by a number of its own.
    closes: Arc<Mutex<HashMap<u64, Close>>>,
    next_close: AtomicU64,
}

impl std::fmt::Debug for Drain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drain")
            .field("draining", &self.draining)
            .field("in_flight", &self.in_flight)
            .field("workers", &self.workers)
            .field("open_sockets", &self.closes.lock().len())
            .finish()
    }
}

/// An open socket's place in [`Drain::close_sockets`]; dropped when the
/// socket's close has been handled.
pub struct OnClose {
    id: u64,
    closes: Arc<Mutex<HashMap<u64, Close>>>,
}

impl Drop for OnClose {
    fn drop(&mut self) {
        self.closes.lock().remove(&self.id);
    }
}

impl Drain {
    /// From now on the node is stopping: it is no longer ready.
    pub fn begin(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// A client event was queued; [`answered`](Self::answered) follows.
    pub fn received(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }

    /// A client event was handled and its answer (or ack) sent.
    pub fn answered(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Client events received and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Runs a socket's worker where [`workers_done`](Self::workers_done) can
    /// wait for it.
    pub fn spawn_worker<F>(&self, worker: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.workers.spawn(worker);
    }

    /// Keeps `close` to be run by [`close_sockets`](Self::close_sockets)
    /// until the returned [`OnClose`] is dropped.
    pub fn on_close(&self, close: impl FnOnce() + Send + 'static) -> OnClose {
        let id = self.next_close.fetch_add(1, Ordering::Relaxed);
        self.closes.lock().insert(id, Box::new(close));
        OnClose {
            id,
            closes: self.closes.clone(),
        }
    }

    /// Runs the close of every socket still open.
    pub fn close_sockets(&self) {
        let closes: Vec<Close> = self.closes.lock().drain().map(|(_, c)| c).collect();
        for close in closes {
            close();
        }
    }

    /// Waits until no client event is in flight, or until `deadline`.
    /// Returns whether the node got quiet in time.
    pub async fn quiet(&self, deadline: Instant) -> bool {
        loop {
            if self.in_flight() == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until every socket worker has ended (each ends once it has
    /// handled its socket's close), or until `deadline`. Returns how many
    /// were still running at the deadline.
    pub async fn workers_done(&self, deadline: Instant) -> usize {
        self.workers.close();
        if tokio::time::timeout_at(deadline, self.workers.wait())
            .await
            .is_err()
        {
            return self.workers.len();
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn quiet_waits_for_the_last_answer() {
        let drain = std::sync::Arc::new(Drain::default());
        drain.received();
        drain.received();
        assert!(
            !drain
                .quiet(Instant::now() + Duration::from_millis(50))
                .await
        );
        let later = drain.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            later.answered();
            later.answered();
        });
        let start = Instant::now();
        assert!(drain.quiet(start + Duration::from_secs(1)).await);
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(drain.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn workers_done_waits_for_every_worker_or_the_deadline() {
        let drain = Drain::default();
        drain.spawn_worker(tokio::time::sleep(Duration::from_millis(10)));
        drain.spawn_worker(tokio::time::sleep(Duration::from_secs(60)));
        let left = drain
            .workers_done(Instant::now() + Duration::from_secs(1))
            .await;
        assert_eq!(left, 1, "the quick worker ended, the slow one did not");

        let drain = Drain::default();
        drain.spawn_worker(tokio::time::sleep(Duration::from_millis(10)));
        assert_eq!(
            drain
                .workers_done(Instant::now() + Duration::from_secs(1))
                .await,
            0
        );
    }

    #[test]
    fn close_sockets_runs_the_close_of_each_socket_still_open_once() {
        let drain = Drain::default();
        let ran = Arc::new(AtomicUsize::new(0));
        let count = |ran: &Arc<AtomicUsize>| {
            let ran = ran.clone();
            move || {
                ran.fetch_add(1, Ordering::SeqCst);
            }
        };
        let open = drain.on_close(count(&ran));
        let handled = drain.on_close(count(&ran));
        drop(handled);
        drain.close_sockets();
        assert_eq!(
            ran.load(Ordering::SeqCst),
            1,
            "only the open socket's close ran"
        );
        drain.close_sockets();
        assert_eq!(ran.load(Ordering::SeqCst), 1, "and only once");
        drop(open);
    }

    #[test]
    fn draining_is_a_one_way_switch() {
        let drain = Drain::default();
        assert!(!drain.is_draining());
        drain.begin();
        assert!(drain.is_draining());
    }
}
