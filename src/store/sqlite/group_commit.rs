//! Group commit of new messages: one task takes every insert waiting at
//! that moment (at most [`GROUP_COMMIT_MAX`]) and stores them in one
//! transaction; each sender hears of its message only after that
//! transaction committed, so nothing is delivered that is not stored.

use std::sync::Arc;
use std::time::Instant;

use metrics::histogram;
use tokio::sync::{mpsc, oneshot};

use super::messages;
use super::pool::{Pool, closed};
use crate::core::NewMessage;
use crate::store::rows;
use crate::store::{Inserted, StoreResult, measure};
use crate::telemetry::names;

/// At most this many messages are stored in one transaction.
const GROUP_COMMIT_MAX: usize = 256;

/// A message waiting for its group's transaction.
pub(super) type PendingInsert = (NewMessage, oneshot::Sender<StoreResult<Inserted>>);

/// Starts the task that stores the messages sent to the returned queue.
pub(super) fn start(db: Arc<Pool>) -> mpsc::UnboundedSender<PendingInsert> {
    let (inserts, queue) = mpsc::unbounded_channel();
    tokio::spawn(run(db, queue));
    inserts
}

/// Queues `m` for the next group and waits until its group committed.
pub(super) async fn insert(
    inserts: &mpsc::UnboundedSender<PendingInsert>,
    m: NewMessage,
) -> StoreResult<Inserted> {
    let started = Instant::now();
    let (reply, answer) = oneshot::channel();
    inserts.send((m, reply)).map_err(|_| closed())?;
    let inserted = answer.await.map_err(|_| closed())?;
    measure::inserted(started, &inserted);
    inserted
}

/// Stores the messages waiting, a group at a time, each group in one
/// transaction, and answers each sender after its group committed.
async fn run(db: Arc<Pool>, mut queue: mpsc::UnboundedReceiver<PendingInsert>) {
    let mut group = Vec::with_capacity(GROUP_COMMIT_MAX);
    while queue.recv_many(&mut group, GROUP_COMMIT_MAX).await > 0 {
        let started = Instant::now();
        let results = store_group(&db, &group);
        histogram!(names::STORE, "op" => "group_commit").record(started.elapsed().as_secs_f64());
        histogram!(names::GROUP_COMMIT_BATCH).record(group.len() as f64);
        for ((_, reply), result) in group.drain(..).zip(results) {
            let _ = reply.send(result);
        }
    }
}

/// Stores a group in one transaction: each message's answer, or the error
/// of the transaction for all. A message whose conversation is gone wrote
/// nothing and fails alone; any other failure rolls the group back, and its
/// messages are stored one transaction each so that one bad message cannot
/// fail the others.
fn store_group(db: &Pool, group: &[PendingInsert]) -> Vec<StoreResult<Inserted>> {
    match try_group(db, group) {
        Ok(results) => results,
        Err(e) if group.len() == 1 => vec![Err(e)],
        Err(_) => group
            .chunks(1)
            .flat_map(|one| try_group(db, one).unwrap_or_else(|e| vec![Err(e)]))
            .collect(),
    }
}

fn try_group(db: &Pool, group: &[PendingInsert]) -> StoreResult<Vec<StoreResult<Inserted>>> {
    db.write(|tx| {
        group
            .iter()
            .map(|(m, _)| {
                let conversation_id = m.conversation_id;
                Ok(messages::insert(tx, m.clone())?
                    .ok_or_else(|| rows::conversation_not_found(conversation_id)))
            })
            .collect()
    })
}
