//! Who gets a push, and the queue and workers that send it.
//!
//! [`PushSink`] sees every domain event on the bus, synchronously. On a new
//! message published on this node (another node pushes its own) it picks the
//! recipients — every member but the sender who is not viewing the
//! conversation here (offline, or online elsewhere) — and puts one job per
//! recipient on a bounded queue with `try_send`: it never waits, and a full
//! queue drops the job (counted in [`PushStats::dropped`] and logged). A few
//! worker tasks take jobs off the queue, skip recipients who view the
//! conversation on another node of a cluster, load the recipient's devices
//! and hand the notification to every configured [`PushSender`].

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, mpsc};

use super::{Notification, Push, PushFormats, PushSender, data, notification};
use crate::config::PushConfig;
use crate::core::event::DomainEvent;
use crate::core::ports::DynStore;
use crate::core::service::Service;
use crate::core::viewing::Viewing;
use crate::core::{Message, UserId, UserSummary};
use crate::fanout::{EventSink, Origin};
use crate::telemetry::names;

/// Counters of the push pipeline since start.
#[derive(Debug, Default)]
pub struct PushStats {
    /// Jobs put on the queue.
    pub queued: AtomicU64,
    /// Jobs dropped because the queue was full (or closed).
    pub dropped: AtomicU64,
    /// Notifications a sender delivered (one per recipient and sender).
    pub sent: AtomicU64,
    /// Notifications a sender gave up on, or whose devices could not be loaded.
    pub failed: AtomicU64,
    /// Jobs queued and not yet finished (sent, failed or found unneeded).
    pub pending: AtomicU64,
}

impl PushStats {
    fn bump(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed)
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Waits until every queued job is finished, or until `deadline`;
    /// returns how many were left.
    pub async fn flushed(&self, deadline: tokio::time::Instant) -> u64 {
        loop {
            let left = Self::get(&self.pending);
            if left == 0 || tokio::time::Instant::now() >= deadline {
                return left;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// One recipient's notification, waiting to be sent.
#[derive(Debug)]
struct Job {
    recipient: UserId,
    conversation_id: i64,
    notification: Notification,
    data: BTreeMap<String, String>,
    /// The message and its sender, shared by the jobs of its recipients,
    /// for the push formats of the recipients' devices.
    source: Arc<(Message, UserSummary)>,
}

/// The bus sink that queues push jobs.
pub struct PushSink {
    tx: mpsc::Sender<Job>,
    viewing: Arc<Viewing>,
    stats: Arc<PushStats>,
}

/// The members who may get a push for a message in `conversation_id`: all
/// but the sender who do not view the conversation on this node (a viewer is
/// online; whether one views it on another node, the worker asks).
pub fn recipients(
    members: &[UserId],
    sender: &UserId,
    conversation_id: i64,
    viewing: &Viewing,
) -> Vec<UserId> {
    let mut seen = HashSet::new();
    members
        .iter()
        .filter(|m| *m != sender)
        .filter(|m| !viewing.is_viewing_here(m, conversation_id))
        .filter(|m| seen.insert(*m))
        .cloned()
        .collect()
}

impl PushSink {
    /// Starts `config.workers` workers sending through `senders` and returns
    /// the sink that feeds them; devices registered with one of `formats`
    /// get their data in it.
    pub fn start(
        config: &PushConfig,
        service: &Arc<Service>,
        senders: Vec<Arc<dyn PushSender>>,
        formats: PushFormats,
    ) -> Arc<Self> {
        let (sink, rx) = Self::with_queue(config.queue_capacity.max(1), service.viewing().clone());
        let rx = Arc::new(Mutex::new(rx));
        let senders: Arc<[Arc<dyn PushSender>]> = senders.into();
        let formats = Arc::new(formats);
        for _ in 0..config.workers.max(1) {
            tokio::spawn(worker(
                rx.clone(),
                sink.viewing.clone(),
                service.store().clone(),
                senders.clone(),
                formats.clone(),
                sink.stats.clone(),
            ));
        }
        Arc::new(sink)
    }

    fn with_queue(capacity: usize, viewing: Arc<Viewing>) -> (Self, mpsc::Receiver<Job>) {
        let (tx, rx) = mpsc::channel(capacity);
        let sink = PushSink {
            tx,
            viewing,
            stats: Arc::default(),
        };
        (sink, rx)
    }

    pub fn stats(&self) -> &Arc<PushStats> {
        &self.stats
    }

    fn enqueue(&self, job: Job) {
        // Counted before it is queued, so that a worker never finishes it first.
        PushStats::bump(&self.stats.pending);
        match self.tx.try_send(job) {
            Ok(()) => {
                PushStats::bump(&self.stats.queued);
                metrics::gauge!(names::PUSH_QUEUE).increment(1.0);
            }
            Err(e) => {
                metrics::counter!(names::PUSH_DROPPED).increment(1);
                self.stats.pending.fetch_sub(1, Ordering::Relaxed);
                let full = matches!(e, mpsc::error::TrySendError::Full(_));
                let dropped = PushStats::bump(&self.stats.dropped) + 1;
                let job = e.into_inner();
                // One line per hundred drops: an overloaded queue must not
                // also flood the log.
                if dropped % 100 == 1 {
                    tracing::warn!(
                        recipient = %job.recipient,
                        dropped_total = dropped,
                        queue_full = full,
                        "push notification dropped: the push queue is {}",
                        if full { "full" } else { "closed" }
                    );
                }
            }
        }
    }
}

impl EventSink for PushSink {
    fn deliver(&self, event: &DomainEvent, origin: Origin) {
        if origin == Origin::Remote {
            return;
        }
        let DomainEvent::MessageCreated {
            message,
            sender,
            members,
            muted,
            ..
        } = event
        else {
            return;
        };
        let mut to = recipients(members, &sender.id, message.conversation_id, &self.viewing);
        to.retain(|u| !muted.contains(u));
        if to.is_empty() {
            return;
        }
        let notification = notification(message, sender);
        let data = data(message);
        let source = Arc::new((message.clone(), sender.clone()));
        for recipient in to {
            self.enqueue(Job {
                recipient,
                conversation_id: message.conversation_id,
                notification: notification.clone(),
                data: data.clone(),
                source: source.clone(),
            });
        }
    }
}

async fn worker(
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    viewing: Arc<Viewing>,
    store: DynStore,
    senders: Arc<[Arc<dyn PushSender>]>,
    formats: Arc<PushFormats>,
    stats: Arc<PushStats>,
) {
    loop {
        let job = rx.lock().await.recv().await;
        let Some(job) = job else {
            return;
        };
        metrics::gauge!(names::PUSH_QUEUE).decrement(1.0);
        send(job, &viewing, &store, &senders, &formats, &stats).await;
        stats.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sends one job's notification through every sender, unless the
/// recipient now views the conversation.
async fn send(
    job: Job,
    viewing: &Viewing,
    store: &DynStore,
    senders: &[Arc<dyn PushSender>],
    formats: &PushFormats,
    stats: &PushStats,
) {
    if viewing
        .is_viewing(&job.recipient, job.conversation_id)
        .await
    {
        return;
    }
    let devices = match store.devices_of(std::slice::from_ref(&job.recipient)).await {
        Ok(d) => d,
        Err(e) => {
            PushStats::bump(&stats.failed);
            metrics::counter!(names::PUSH_FAILURES, "channel" => "devices").increment(1);
            tracing::warn!(recipient = %job.recipient, error = %e, "push: loading devices failed");
            return;
        }
    };
    let (message, sender) = &*job.source;
    let formatted = formats.render(
        devices.iter().filter_map(|d| d.push_format.as_deref()),
        &job.data,
        message,
        sender,
    );
    let push = Push {
        recipient: job.recipient,
        devices,
        notification: job.notification,
        data: job.data,
        formatted,
    };
    let results = futures::future::join_all(senders.iter().map(|s| s.send(&push))).await;
    for (sender, result) in senders.iter().zip(results) {
        match result {
            Ok(()) => {
                PushStats::bump(&stats.sent);
                metrics::counter!(names::PUSH_SENT, "channel" => sender.name()).increment(1);
            }
            Err(e) => {
                PushStats::bump(&stats.failed);
                metrics::counter!(names::PUSH_FAILURES, "channel" => sender.name()).increment(1);
                tracing::warn!(
                    sender = sender.name(),
                    recipient = %push.recipient,
                    error = %e,
                    "push notification not delivered"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::command::{Actor, SendMessage};
    use crate::core::event::ConversationIds;
    use crate::core::event::testing::Recorder;
    use crate::core::service::Limits;
    use crate::core::{ConversationKind, Device, DevicePlatform, RowRef, UserSummary};
    use crate::push::PushError;
    use async_trait::async_trait;
    use std::time::Duration;

    fn id(s: &str) -> UserId {
        UserId::parse(s).expect("id")
    }

    #[test]
    fn offline_members_and_online_members_elsewhere_are_picked_but_not_viewers_or_the_sender() {
        let viewing = Viewing::default();
        let [alice, bob, carol, dave] = ["alice", "bob", "carol", "dave"].map(id);
        // bob offline; carol online, viewing another conversation; dave
        // online and viewing conversation 1; alice (the sender) online too.
        viewing.view(&carol, 2, "s-carol");
        viewing.view(&dave, 1, "s-dave");
        viewing.view(&alice, 1, "s-alice");
        let members = [
            alice.clone(),
            bob.clone(),
            carol.clone(),
            dave.clone(),
            bob.clone(),
        ];
        let to = recipients(&members, &alice, 1, &viewing);
        assert_eq!(to, vec![bob.clone(), carol.clone()]);

        viewing.unview(&dave, 1, "s-dave");
        let to = recipients(&members, &alice, 1, &viewing);
        assert_eq!(to, vec![bob, carol, dave]);
    }

    fn message_event(members: Vec<UserId>) -> DomainEvent {
        DomainEvent::MessageCreated {
            conversation: ConversationIds {
                id: 1,
                uuid: uuid::Uuid::nil(),
                direct: false,
                external_id: None,
            },
            message: crate::push::tests::message(Some("hello"), &[]),
            sender: UserSummary {
                id: id("alice"),
                username: None,
                display_name: Some("Alice".into()),
                avatar_url: None,
            },
            members,
            department: None,
            muted: vec![],
            from_socket: None,
        }
    }

    #[test]
    fn a_full_queue_drops_jobs_instead_of_waiting() {
        let (sink, mut rx) = PushSink::with_queue(2, Arc::default());
        let members = ["alice", "b", "c", "d", "e"].map(id).to_vec();
        sink.deliver(&message_event(members), Origin::Here);
        assert_eq!(PushStats::get(&sink.stats.queued), 2);
        assert_eq!(PushStats::get(&sink.stats.dropped), 2);
        let first = rx.try_recv().expect("queued");
        assert_eq!(first.recipient, id("b"));
        assert_eq!(first.notification.title, "Alice");
        assert_eq!(first.data["messageId"], "42");

        drop(rx);
        sink.deliver(
            &message_event(["alice", "b"].map(id).to_vec()),
            Origin::Here,
        );
        assert_eq!(
            PushStats::get(&sink.stats.dropped),
            3,
            "a closed queue drops too"
        );
    }

    #[test]
    fn other_events_queue_nothing() {
        let (sink, mut rx) = PushSink::with_queue(8, Arc::default());
        sink.deliver(
            &DomainEvent::Presence {
                user: id("bob"),
                online: true,
                at: 0,
                audience: vec![id("alice")],
                everyone: true,
            },
            Origin::Here,
        );
        assert!(rx.try_recv().is_err());
    }

    /// Records what it is asked to send.
    struct Recording(tokio::sync::mpsc::UnboundedSender<Push>);

    #[async_trait]
    impl PushSender for Recording {
        fn name(&self) -> &'static str {
            "recording"
        }
        async fn send(&self, push: &Push) -> Result<(), PushError> {
            let _ = self.0.send(push.clone());
            Ok(())
        }
    }

    #[tokio::test]
    async fn workers_load_the_recipients_devices_and_send_a_new_message() {
        let store = crate::store::open("sqlite::memory:").await.expect("store");
        let service = Service::new(store, Arc::new(Recorder::default()), Limits::default());
        let (tx, mut sent) = tokio::sync::mpsc::unbounded_channel();
        /// A format that adds the room and the sender's name.
        fn app_format(m: &Message, sender: &UserSummary) -> BTreeMap<String, String> {
            BTreeMap::from([
                ("roomId".to_owned(), m.conversation_id.to_string()),
                ("kind".to_owned(), format!("app-{}", m.kind.as_str())),
                ("from".to_owned(), sender.name().to_owned()),
            ])
        }
        let sink = PushSink::start(
            &PushConfig::default(),
            &service,
            vec![Arc::new(Recording(tx))],
            PushFormats::default().with("app", app_format),
        );
        let alice = service
            .provision(&id("alice"), Default::default())
            .await
            .expect("alice");
        let actor = Actor {
            user: UserSummary::from(&alice),
        };
        let created = service
            .create_conversation(&actor, ConversationKind::Direct, vec![id("bob")], None)
            .await
            .expect("conversation");
        let device = Device {
            user_id: id("bob"),
            token: "bob-phone".into(),
            platform: DevicePlatform::Android,
            created_at: 0,
            push_format: None,
        };
        // The app's device, and one of a format no dialect defines.
        let app = Device {
            token: "bob-app".into(),
            created_at: 1,
            push_format: Some("app".into()),
            ..device.clone()
        };
        let unknown = Device {
            token: "bob-old".into(),
            created_at: 2,
            push_format: Some("gone".into()),
            ..device.clone()
        };
        for d in [&device, &app, &unknown] {
            service.store().add_device(d).await.expect("device");
        }
        let (message, _) = service
            .send(
                &actor,
                RowRef::Id(created.summary.conversation.id),
                SendMessage {
                    text: Some("hi bob".into()),
                    ..SendMessage::default()
                },
            )
            .await
            .expect("send");
        // The service published to the recorder; hand the event to the sink.
        sink.deliver(
            &DomainEvent::MessageCreated {
                conversation: ConversationIds {
                    id: message.conversation_id,
                    uuid: message.conversation_uuid,
                    direct: true,
                    external_id: None,
                },
                message: message.clone(),
                sender: actor.user.clone(),
                members: vec![id("alice"), id("bob")],
                department: None,
                muted: vec![],
                from_socket: None,
            },
            Origin::Here,
        );
        let push = tokio::time::timeout(Duration::from_secs(5), sent.recv())
            .await
            .expect("sent in time")
            .expect("a push");
        assert_eq!(push.recipient, id("bob"));
        assert_eq!(
            push.devices,
            vec![device.clone(), app.clone(), unknown.clone()]
        );
        assert_eq!(push.notification.title, "alice");
        assert_eq!(push.notification.body, "hi bob");
        assert_eq!(push.data["messageUuid"], message.uuid.to_string());
        // The neutral data, to the device without a format and to the one
        // whose format is unknown; the app's device gets its format's.
        assert_eq!(push.data_for(&device), &push.data);
        assert_eq!(push.data_for(&unknown), &push.data);
        let formatted = push.data_for(&app);
        assert_eq!(formatted["roomId"], message.conversation_id.to_string());
        assert_eq!(formatted["from"], "alice");
        assert_eq!(
            formatted["kind"], "app-text",
            "a format may replace a field"
        );
        assert_eq!(formatted["messageUuid"], message.uuid.to_string());
        assert_eq!(formatted.len(), push.data.len() + 2);
        assert_eq!(push.formatted.len(), 1, "only the formats of the devices");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(sent.try_recv().is_err(), "the sender gets nothing");
        assert_eq!(PushStats::get(&sink.stats().sent), 1);
    }
}
