//! Domain events between nodes: every event published on this node is sent,
//! in publish order, to the `confab:events` channel; every event another
//! node sent is handed to this node's sinks. A node does not hear its own
//! events back (they carry its id). Pub/sub delivers at most once: an event
//! published while Redis is away is not replayed, but what it tells is in
//! the store, where history and catch-up read it.

use std::sync::Arc;

use fred::prelude::{ClientLike, EventInterface, PubsubInterface};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::{Cluster, ClusterError, PREFIX};
use crate::core::event::DomainEvent;
use crate::fanout::Bus;
use crate::telemetry::{names, unix_micros};

fn channel() -> String {
    format!("{PREFIX}events")
}

/// What travels on the channel.
#[derive(Serialize, Deserialize)]
struct Envelope<N, E> {
    node: N,
    event: E,
    /// When the node published it (microseconds since the Unix epoch; 0
    /// from a node that does not say).
    #[serde(default)]
    sent_us: u64,
}

/// What the publishing task is given, in order.
enum Outgoing {
    Event(Box<DomainEvent>),
    /// Answered once everything before it was sent.
    Flush(oneshot::Sender<()>),
}

/// The link of this node's bus to the other nodes.
pub struct Link {
    tx: mpsc::UnboundedSender<Outgoing>,
}

impl Link {
    /// Waits until every event published so far was sent (or dropped,
    /// while Redis is away).
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Outgoing::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Links `bus` to the other nodes: returns once subscribed.
pub async fn link(cluster: &Arc<Cluster>, bus: &Arc<Bus>) -> Result<Link, ClusterError> {
    let subscriber = cluster.subscriber()?;
    let mut messages = subscriber.message_rx();
    subscriber.init().await?;
    subscriber.subscribe(channel()).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    {
        let tx = tx.clone();
        bus.link(Box::new(move |event| {
            let _ = tx.send(Outgoing::Event(Box::new(event)));
        }));
    }
    tokio::spawn(publish(cluster.clone(), rx));
    let (node, bus) = (cluster.node_id().to_owned(), Arc::downgrade(bus));
    let mut errors = subscriber.error_rx();
    let mut reconnects = subscriber.reconnect_rx();
    tokio::spawn(async move {
        // Kept alive (with its resubscription task) as long as we read.
        let _subscriber = subscriber;
        loop {
            tokio::select! {
                message = messages.recv() => match message {
                    Ok(message) => {
                        let Some(bus) = bus.upgrade() else { return };
                        receive(&node, &bus, message.value.as_bytes());
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "fell behind the cluster's events");
                        let Some(bus) = bus.upgrade() else { return };
                        bus.missed();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                // Lost, or back: what was published meanwhile is not replayed.
                Ok(_) = errors.recv() => {
                    let Some(bus) = bus.upgrade() else { return };
                    bus.missed();
                }
                Ok(_) = reconnects.recv() => {
                    let Some(bus) = bus.upgrade() else { return };
                    bus.missed();
                }
            }
        }
    });
    Ok(Link { tx })
}

/// Hands an event another node sent to this node's sinks.
fn receive(node: &str, bus: &Bus, payload: Option<&[u8]>) {
    let Some(payload) = payload else { return };
    match serde_json::from_slice::<Envelope<String, DomainEvent>>(payload) {
        Ok(envelope) if envelope.node == node => {}
        Ok(envelope) => {
            metrics::counter!(names::BUS_IN).increment(1);
            if envelope.sent_us > 0 {
                let lag = unix_micros().saturating_sub(envelope.sent_us);
                metrics::histogram!(names::BUS_LAG).record(lag as f64 / 1e6);
            }
            bus.deliver_remote(&envelope.event);
        }
        Err(e) => tracing::warn!(error = %e, "unreadable event from another node"),
    }
}

/// Sends this node's events, in order; while Redis is away they are dropped
/// (once per outage in the log).
async fn publish(cluster: Arc<Cluster>, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    let channel = channel();
    let mut failing = false;
    while let Some(outgoing) = rx.recv().await {
        let event = match outgoing {
            Outgoing::Event(event) => *event,
            Outgoing::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let envelope = Envelope {
            node: cluster.node_id(),
            event: &event,
            sent_us: unix_micros(),
        };
        let payload = match serde_json::to_vec(&envelope) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "could not encode an event for the cluster");
                continue;
            }
        };
        let sent = match cluster.client() {
            Ok(client) => client
                .publish::<(), _, _>(channel.as_str(), payload)
                .await
                .map_err(ClusterError::from),
            Err(e) => Err(e),
        };
        if sent.is_ok() {
            metrics::counter!(names::BUS_OUT).increment(1);
        }
        match sent {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("events reach the other nodes again");
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "events of this node do not reach the other nodes");
            }
            Err(_) => {}
        }
    }
}

/// Lets tests feed the receiving side without Redis.
#[cfg(test)]
pub(crate) fn receive_for_test(node: &str, bus: &std::sync::Weak<Bus>, payload: &[u8]) {
    if let Some(bus) = bus.upgrade() {
        receive(node, &bus, Some(payload));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::ConversationIds;
    use crate::core::{Attachment, AttachmentMeta, Message, MessageKind, UserId, UserSummary};
    use crate::fanout::{EventSink, Origin};
    use parking_lot::Mutex;

    #[derive(Default)]
    struct Seen(Mutex<Vec<(DomainEvent, Origin)>>);

    impl EventSink for Seen {
        fn deliver(&self, event: &DomainEvent, origin: Origin) {
            self.0.lock().push((event.clone(), origin));
        }
    }

    fn message_created() -> DomainEvent {
        let conversation = ConversationIds {
            id: 7,
            uuid: uuid::Uuid::new_v4(),
            direct: true,
            external_id: None,
        };
        let alice = UserId::parse("alice").unwrap();
        DomainEvent::MessageCreated {
            conversation,
            message: Message {
                id: 3,
                uuid: uuid::Uuid::new_v4(),
                conversation_id: 7,
                conversation_uuid: conversation.uuid,
                seq: 2,
                sender_id: alice.clone(),
                kind: MessageKind::Image,
                declared_kind: None,
                text: Some("hé ✓".into()),
                attachments: vec![Attachment {
                    url: "/uploads/a.webp".into(),
                    meta: AttachmentMeta {
                        name: Some("a.png".into()),
                        size: Some(245_678),
                        ..AttachmentMeta::default()
                    },
                }],
                client_id: Some("c-1".into()),
                created_at: 1_700_000_000_000,
                edited_at: Some(1_700_000_000_001),
                deleted_at: None,
                external_id: None,
                conversation_external_id: None,
            },
            sender: UserSummary {
                id: alice.clone(),
                username: Some("alice".into()),
                display_name: Some("Alice".into()),
                avatar_url: None,
            },
            members: vec![alice, UserId::parse("bob").unwrap()],
            department: Some(4),
            muted: vec![],
            from_socket: Some("/#abc".into()),
        }
    }

    #[test]
    fn an_event_from_another_node_reaches_the_sinks_as_remote_and_ours_is_ignored() {
        let bus = Bus::new();
        let seen = Arc::new(Seen::default());
        bus.subscribe(seen.clone());
        let event = message_created();
        let payload = |node: &str| {
            serde_json::to_vec(&Envelope {
                node,
                event: &event,
                sent_us: 1,
            })
            .unwrap()
        };
        let weak = Arc::downgrade(&bus);
        receive_for_test("me", &weak, &payload("me"));
        receive_for_test("me", &weak, &payload("other"));
        receive_for_test("me", &weak, b"{not json");
        let seen = seen.0.lock();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0], (event, Origin::Remote));
    }
}
