//! Domain events onto a dialect's sockets: a bus subscriber renders each
//! event with the dialect's table, and one task per dialect emits the
//! deliveries, in the order they were published, to this node's sockets
//! (every node renders every event for its own). For a dialect whose
//! clients name conversations their own way, an event about a conversation
//! is emitted socket by socket, each naming it as that socket does
//! (`names.rs`). Beside the emits, in order too, the deliveries of new
//! messages are recorded (for the users whose sockets were sent them) and
//! the views that differ per user are built.

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::operators::BroadcastOperators;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

use super::audience::Audience;
use super::measure::{self, Meters};
use super::names::{Names, renamed};
use crate::core::command::{Actor, Command};
use crate::core::event::DomainEvent;
use crate::core::{RowRef, UserId};
use crate::dialects::{Delivery, Dialect, Out, Receipt, user_room};
use crate::fanout::{Bus, EventSink, Origin};
use crate::state::AppState;

/// Renders the bus's domain events onto `dialect`'s sockets of `io`.
pub(super) fn subscribe<D: Dialect, A: Adapter>(
    io: &SocketIo<A>,
    dialect: Arc<D>,
    state: AppState,
    bus: &Bus,
    meters: Arc<Meters>,
    audience: Arc<Audience>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(deliver(io.clone(), dialect.clone(), rx, state, meters));
    bus.subscribe(Arc::new(Sink {
        dialect,
        tx,
        audience,
    }));
}

/// A delivery, the conversation its domain event is about, and for a new
/// message sent through this node, when the send arrived.
type Rendered = (Delivery, Option<i64>, Option<Instant>);

/// Renders domain events for one dialect and hands them to its delivery task.
struct Sink<D> {
    dialect: Arc<D>,
    tx: mpsc::UnboundedSender<Rendered>,
    /// The namespace's sockets on this node: with none, nothing to render.
    audience: Arc<Audience>,
}

impl<D: Dialect> EventSink for Sink<D> {
    fn deliver(&self, event: &DomainEvent, _origin: Origin) {
        if self.audience.is_empty() {
            return;
        }
        let conversation = event.conversation_id();
        let arrived = match event {
            DomainEvent::MessageCreated { .. } => measure::arrival(),
            _ => None,
        };
        for d in self.dialect.render(event) {
            let _ = self.tx.send((d, conversation, arrived));
        }
    }
}

/// Emits deliveries in the order they were published, to this node's
/// sockets.
async fn deliver<D: Dialect, A: Adapter>(
    io: SocketIo<A>,
    dialect: Arc<D>,
    mut rx: mpsc::UnboundedReceiver<Rendered>,
    state: AppState,
    meters: Arc<Meters>,
) {
    let namespace = dialect.namespace();
    let handshake = dialect.handshake();
    let receipts = record_deliveries(state.clone(), handshake.reads_on_delivery);
    let views = build_views(io.clone(), dialect, state, meters.clone());
    while let Some((d, conversation, arrived)) = rx.recv().await {
        let Some(ns) = io.of(namespace) else { continue };
        let ns = ns.local();
        match d {
            Delivery::Emit {
                to,
                except,
                event,
                data,
                receipt,
            } => {
                let naming = handshake.conversation_field.zip(conversation);
                let targets = (to, except);
                meters.event_out(event);
                let new_message = receipt.is_some();
                let reached = emit(ns, targets, event, &data, receipt, naming, &receipts).await;
                if new_message {
                    meters.delivered(reached, arrived);
                }
            }
            Delivery::PerUser {
                users,
                command,
                event,
            } => {
                let _ = views.send((users, command, event));
            }
            Delivery::Join { of, room } => {
                if let Err(e) = ns.to(of).join(room).await {
                    tracing::warn!(error = ?e, "could not put sockets in a room");
                }
            }
            Delivery::Leave { of, room } => {
                if let Err(e) = ns.to(of).leave(room).await {
                    tracing::warn!(error = ?e, "could not take sockets out of a room");
                }
            }
        }
    }
}

/// Emits to the sockets in any of `to` and none of `except`. With
/// `naming` (a dialect's conversation field and the conversation the event
/// is about), socket by socket, each naming the conversation as it does;
/// else as one broadcast. With a receipt, the users those sockets belong
/// to (but the sender) are queued on `receipts`, and the number of those
/// sockets is returned (0 without a receipt).
async fn emit<A: Adapter>(
    ns: BroadcastOperators<A>,
    (to, except): (Vec<String>, Vec<String>),
    event: &'static str,
    data: &Value,
    receipt: Option<Receipt>,
    naming: Option<(&'static str, i64)>,
    receipts: &mpsc::UnboundedSender<(Vec<Actor>, Receipt)>,
) -> usize {
    if to.is_empty() {
        return 0;
    }
    let targets = ns.to(to).except(except);
    let reached = match naming {
        Some((field, conversation)) => {
            let mut reached = targets.sockets();
            reached.retain(|s| {
                let own = Names::of(s, conversation).and_then(|form| renamed(data, field, &form));
                let sent = s.emit(event, own.as_ref().unwrap_or(data));
                if let Err(e) = &sent {
                    tracing::debug!(error = %e, event, "emit to socket failed");
                }
                sent.is_ok()
            });
            reached
        }
        None => {
            let reached = match receipt {
                Some(_) => targets.clone().sockets(),
                None => vec![],
            };
            if let Err(e) = targets.emit(event, data).await {
                tracing::debug!(error = %e, event, "broadcast failed for some sockets");
            }
            reached
        }
    };
    let Some(receipt) = receipt else {
        return 0;
    };
    let mut actors: Vec<Actor> = reached
        .iter()
        .filter_map(|s| s.extensions.get::<Actor>())
        .filter(|a| *a.id() != receipt.message.sender)
        .collect();
    let sockets = actors.len();
    actors.sort_by(|a, b| a.id().cmp(b.id()));
    actors.dedup_by(|a, b| a.id() == b.id());
    if !actors.is_empty() {
        let _ = receipts.send((actors, receipt));
    }
    sockets
}

/// Records, in order beside the fan-out, that new messages reached their
/// recipients' sockets (and, for a dialect whose sockets show the
/// conversation open, that they read them), so the next emits do not wait
/// on the store and each message gets its own receipt.
fn record_deliveries(
    state: AppState,
    reads_on_delivery: bool,
) -> mpsc::UnboundedSender<(Vec<Actor>, Receipt)> {
    let (receipts, mut pending) = mpsc::unbounded_channel::<(Vec<Actor>, Receipt)>();
    tokio::spawn(async move {
        while let Some((actors, Receipt { message, members })) = pending.recv().await {
            let recipients: Vec<UserId> = actors.iter().map(|a| a.id().clone()).collect();
            if let Err(e) = state
                .service
                .mark_delivered(&recipients, &message, members)
                .await
            {
                tracing::warn!(error = %e, "could not record a delivery");
            }
            for actor in &actors {
                if reads_on_delivery
                    && let Err(e) = state.service.mark_read(actor, RowRef::Id(message.id)).await
                {
                    tracing::warn!(error = %e, "could not record a read");
                }
            }
        }
    });
    receipts
}

/// Builds the views that differ per user, in order beside the fan-out.
fn build_views<D: Dialect, A: Adapter>(
    io: SocketIo<A>,
    dialect: Arc<D>,
    state: AppState,
    meters: Arc<Meters>,
) -> mpsc::UnboundedSender<(Vec<UserId>, Command, &'static str)> {
    let (views, mut queued) = mpsc::unbounded_channel::<(Vec<UserId>, Command, &'static str)>();
    tokio::spawn(async move {
        while let Some((users, command, event)) = queued.recv().await {
            if let Some(ns) = io.of(dialect.namespace()) {
                let ns = ns.local();
                let to = (&ns, meters.as_ref());
                per_user(to, dialect.as_ref(), &state, &users, &command, event).await;
            }
        }
    });
    views
}

/// Runs `command` as each of `users` that has a socket in `ns` and emits
/// the encoded outcome to that user's sockets there.
async fn per_user<D: Dialect, A: Adapter>(
    (ns, meters): (&BroadcastOperators<A>, &Meters),
    dialect: &D,
    state: &AppState,
    users: &[UserId],
    command: &Command,
    event: &'static str,
) {
    for user in users {
        let room = user_room(user);
        let Some(actor) = ns
            .clone()
            .to(room.clone())
            .sockets()
            .iter()
            .find_map(|s| s.extensions.get::<Actor>())
        else {
            continue;
        };
        let outcome = match state.service.execute(&actor, command.clone()).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::debug!(error = %e, user = %user, event, "no view for this user");
                continue;
            }
        };
        for out in dialect.encode(&actor, event, &outcome) {
            let Out::Emit(event, data) = out else {
                continue;
            };
            meters.event_out(event);
            if let Err(e) = ns.clone().to(room.clone()).emit(event, &data).await {
                tracing::debug!(error = %e, event, "emit to a user's sockets failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialects::dozaar::Dozaar;
    use crate::dialects::testing::message_created;

    #[test]
    fn a_namespace_with_no_socket_here_renders_nothing() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let audience = Arc::new(Audience::default());
        let sink = Sink {
            dialect: Arc::new(Dozaar),
            tx,
            audience: audience.clone(),
        };
        sink.deliver(&message_created(None), Origin::Here);
        assert!(rx.try_recv().is_err(), "nobody here: nothing rendered");

        let present = audience.enter();
        sink.deliver(&message_created(None), Origin::Here);
        assert!(
            rx.try_recv().is_ok(),
            "a socket here: the event is rendered"
        );
        drop(present);
    }
}
