//! The runtime every dialect shares: handshake authentication, one ordered
//! queue per socket, running decoded commands through the core, and the
//! fan-out sink that renders domain events onto the dialect's rooms.

use futures::FutureExt;
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::operators::BroadcastOperators;
use socketioxide_core::adapter::DefinedAdapter;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::mpsc;

use super::{Delivery, Dialect, Out, Receipt, conversation_room, room_conversation, user_room};
use crate::core::command::{Actor, Command, Outcome};
use crate::core::event::DomainEvent;
use crate::core::{CoreError, Profile, UserId};
use crate::fanout::{Bus, EventSink, Origin};
use crate::state::AppState;

/// Events of one socket waiting to be handled, in order. A client that has
/// this many in flight is told to slow down.
const SOCKET_QUEUE: usize = 256;

/// What a socket's worker handles, in order: its events, then its close.
/// (Boxed: the queue of every idle socket holds a block of these.)
enum Job<A: Adapter> {
    Event(Box<Request<A>>),
    Closed,
}

struct Request<A: Adapter> {
    socket: SocketRef<A>,
    event: String,
    payload: Result<Payload, String>,
    ack: AckSender<A>,
}

/// A client event's payload: JSON, or one binary attachment (a `Buffer`)
/// as the whole payload.
enum Payload {
    Json(Value),
    Binary(bytes::Bytes),
}

/// An event emitted with no arguments (`emit('join')`) carries `null`; any
/// other unreadable payload is refused. (socketioxide reports the former
/// only by this message.)
fn no_arguments(e: socketioxide::ParserError) -> Result<Payload, String> {
    let message = e.to_string();
    if message.contains("first element not found") {
        Ok(Payload::Json(Value::Null))
    } else {
        Err(message)
    }
}

impl Payload {
    fn json(&self) -> Option<&Value> {
        match self {
            Payload::Json(v) => Some(v),
            Payload::Binary(_) => None,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PayloadVisitor)
    }
}

/// Takes bytes as [`Payload::Binary`] and anything else as JSON (binary
/// nested inside JSON is refused).
struct PayloadVisitor;

impl<'de> serde::de::Visitor<'de> for PayloadVisitor {
    type Value = Payload;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value or a binary payload")
    }
    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Payload, E> {
        Ok(Payload::Binary(bytes::Bytes::copy_from_slice(v)))
    }
    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Payload, E> {
        Ok(Payload::Binary(v.into()))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Payload, E> {
        Ok(Payload::Json(Value::Null))
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Payload, E> {
        Ok(Payload::Json(Value::Null))
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Payload, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Payload, A::Error> {
        use serde::Deserialize;
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Payload::Json)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Payload, A::Error> {
        use serde::Deserialize;
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Payload::Json)
    }
}

/// Serves `dialect` on its namespace of `io`, and subscribes its renderer to
/// the bus. With a cluster adapter, the namespace is ready once the returned
/// initialisation is done.
pub fn attach<D: Dialect, A: Adapter + DefinedAdapter>(
    io: &SocketIo<A>,
    dialect: Arc<D>,
    state: AppState,
    bus: &Bus,
) -> A::InitRes {
    let auth = {
        let (dialect, state) = (dialect.clone(), state.clone());
        move |s: SocketRef<A>, TryData(auth): TryData<Value>| {
            let (dialect, state) = (dialect.clone(), state.clone());
            async move {
                authenticate(&s, auth.ok(), dialect.as_ref(), &state)
                    .await
                    .map_err(|m| dialect.localize_refusal(s.req_parts(), m))?;
                // Before the client hears it is connected, so that none of
                // its first events is missed.
                let inbox = listen(&s, dialect);
                s.extensions
                    .insert(Inbox(Arc::new(parking_lot::Mutex::new(Some(inbox)))));
                Ok::<(), String>(())
            }
        }
    };
    let connect = {
        let (dialect, state) = (dialect.clone(), state.clone());
        move |s: SocketRef<A>| {
            on_connect(s, dialect.clone(), state.clone());
            async {}
        }
    };
    let init = io.ns(dialect.namespace(), connect.with(auth));

    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(deliver(io.clone(), dialect.clone(), rx, state));
    bus.subscribe(Arc::new(Sink { dialect, tx }));
    init
}

/// The queue of a socket's events, from the handshake to its worker.
struct Inbox<A: Adapter>(Arc<parking_lot::Mutex<Option<mpsc::Receiver<Job<A>>>>>);

impl<A: Adapter> Clone for Inbox<A> {
    fn clone(&self) -> Self {
        Inbox(self.0.clone())
    }
}

/// The user a dialect's client only claimed to be, before any token proved it.
#[derive(Clone)]
struct Claimed(Option<UserId>);

/// Checks the handshake token and provisions the user; the message of a
/// refusal is what the client's `connect_error` shows. A dialect whose
/// clients prove their identity per event connects without a token.
async fn authenticate<D: Dialect, A: Adapter>(
    s: &SocketRef<A>,
    auth: Option<Value>,
    dialect: &D,
    state: &AppState,
) -> Result<(), String> {
    let claimed = dialect
        .claimed_user(s.req_parts())
        .map(|c| UserId::parse(&c).map_err(|e| format!("userId: {e}")))
        .transpose()?;
    match dialect.handshake_token(s.req_parts(), auth.as_ref()) {
        Some(token) => {
            let actor = verify(&token, claimed.as_ref(), state).await?;
            // The user's room first: what changes after this reaches it.
            s.join(user_room(actor.id()));
            if let Some(command) = dialect.admission(s.req_parts())? {
                let outcome = state
                    .service
                    .execute(&actor, command)
                    .await
                    .map_err(|e| dialect.refusal(&e))?;
                // Admissions put the socket in rooms; nothing may be emitted
                // before the client is told it is connected.
                for out in dialect.encode(&actor, "connect", &outcome) {
                    match out {
                        Out::Join(room) => s.join(room),
                        other => tracing::warn!(?other, "an admission may only join rooms"),
                    }
                }
            }
            s.extensions.insert(actor);
        }
        None if dialect.identity_per_event() => {
            if claimed.is_none() {
                return Err("the userId query parameter is required".to_owned());
            }
        }
        None => return Err(crate::auth::AuthError::MissingToken.to_string()),
    }
    s.extensions.insert(Claimed(claimed));
    Ok(())
}

/// The user a token names, provisioned; it must be the user the client
/// claimed to be, if it claimed one.
async fn verify(token: &str, claimed: Option<&UserId>, state: &AppState) -> Result<Actor, String> {
    let identity = state.keys.verify(token).map_err(|e| e.to_string())?;
    let id = UserId::parse(&identity.user_id).map_err(|e| e.to_string())?;
    if claimed.is_some_and(|c| c != &id) {
        return Err("userId does not match the access token".to_owned());
    }
    let profile = Profile {
        display_name: identity.name,
        avatar_url: identity.avatar_url,
        email: identity.email,
    };
    let user = state.service.provision(&id, profile).await.map_err(|e| {
        tracing::warn!(error = %e, "could not provision user");
        "server unavailable, try again".to_owned()
    })?;
    Ok(Actor {
        user: (&user).into(),
    })
}

/// Queues the socket's events and its close, in order, for its worker.
fn listen<D: Dialect, A: Adapter>(s: &SocketRef<A>, dialect: Arc<D>) -> mpsc::Receiver<Job<A>> {
    let (tx, rx) = mpsc::channel::<Job<A>>(SOCKET_QUEUE);
    {
        let tx = tx.clone();
        s.on_fallback(
            move |socket: SocketRef<A>,
                  Event(event): Event,
                  TryData(payload): TryData<Payload>,
                  ack: AckSender<A>| {
                let request = Request {
                    socket,
                    event,
                    payload: payload.or_else(no_arguments),
                    ack,
                };
                if let Err(
                    mpsc::error::TrySendError::Full(Job::Event(r))
                    | mpsc::error::TrySendError::Closed(Job::Event(r)),
                ) = tx.try_send(Job::Event(Box::new(request)))
                {
                    let error = CoreError::RateLimited {
                        retry_after_ms: 1000,
                    };
                    let outs = dialect.encode_error_for(r.socket.req_parts(), &r.event, &error);
                    apply(&r.socket, Some(r.ack), outs, None, false);
                }
                async {}
            },
        );
    }
    // The close goes through the same queue, so it is handled after the
    // socket's last event and after its arrival was counted.
    s.on_disconnect(move || async move {
        let _ = tx.send(Job::Closed).await;
    });
    rx
}

fn on_connect<D: Dialect, A: Adapter>(s: SocketRef<A>, dialect: Arc<D>, state: AppState) {
    let actor = s.extensions.get::<Actor>();
    let claimed = s.extensions.get::<Claimed>().and_then(|c| c.0);
    let Some(rx) = s
        .extensions
        .get::<Inbox<A>>()
        .and_then(|i| i.0.lock().take())
    else {
        tracing::error!("a socket connected without its event queue");
        s.disconnect().ok();
        return;
    };
    if let Some(actor) = &actor {
        for out in dialect.on_connect(actor) {
            if let Out::Emit(event, data) = out
                && let Err(e) = s.emit(event, &data)
            {
                tracing::debug!(error = %e, event, "emit to socket failed");
            }
        }
    }
    let worker = Worker {
        dialect,
        state,
        actor,
        claimed,
        socket_key: socket_key(&s),
    };
    tokio::spawn(worker.run(rx));
}

/// One socket's life, in order: its arrival, its events, its close.
struct Worker<D> {
    dialect: Arc<D>,
    state: AppState,
    /// Who the socket is, once a token proved it.
    actor: Option<Actor>,
    claimed: Option<UserId>,
    socket_key: String,
}

impl<D: Dialect> Worker<D> {
    async fn run<A: Adapter>(mut self, mut rx: mpsc::Receiver<Job<A>>) {
        if let Some(actor) = &self.actor {
            Box::pin(self.state.service.connected(actor)).await;
        }
        while let Some(Job::Event(request)) = rx.recv().await {
            // Boxed, so that an idle socket's task holds only what waiting
            // for its next event needs, not the largest command's state.
            let handled = AssertUnwindSafe(Box::pin(self.handle(&request)))
                .catch_unwind()
                .await;
            let outs = handled.unwrap_or_else(|_| {
                tracing::error!(event = %request.event, "handler panicked");
                self.dialect.encode_error_for(
                    request.socket.req_parts(),
                    &request.event,
                    &CoreError::Internal("handler panicked".into()),
                )
            });
            let viewer = self.actor.as_ref().map(|a| Viewer {
                state: &self.state,
                user: a.id(),
                socket_key: &self.socket_key,
            });
            let cluster_up = self.state.cluster_up();
            apply(&request.socket, Some(request.ack), outs, viewer, cluster_up);
        }
        if let Some(actor) = &self.actor {
            self.state
                .service
                .viewing()
                .socket_closed(actor.id(), &self.socket_key);
            Box::pin(self.state.service.disconnected(actor)).await;
        }
    }

    /// The socket's identity, proved now by a token inside the event if the
    /// handshake had none.
    async fn identify<A: Adapter>(&mut self, request: &Request<A>) -> Result<Actor, CoreError> {
        if let Some(actor) = &self.actor {
            return Ok(actor.clone());
        }
        let token = request
            .payload
            .as_ref()
            .ok()
            .and_then(Payload::json)
            .and_then(|p| self.dialect.event_token(p))
            .ok_or(CoreError::Unauthenticated)?;
        let actor = verify(&token, self.claimed.as_ref(), &self.state)
            .await
            .map_err(|_| CoreError::Unauthenticated)?;
        request.socket.join(user_room(actor.id()));
        // The fan-out reads it to record deliveries to this socket.
        request.socket.extensions.insert(actor.clone());
        self.state.service.connected(&actor).await;
        self.actor = Some(actor.clone());
        Ok(actor)
    }

    async fn handle<A: Adapter>(&mut self, request: &Request<A>) -> Vec<Out> {
        let dialect = self.dialect.clone();
        let result = match self.identify(request).await {
            Ok(actor) => execute(request, dialect.as_ref(), &self.state, &actor).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(outs) => outs,
            Err(e) => {
                if matches!(e, CoreError::Internal(_) | CoreError::Unavailable(_)) {
                    tracing::error!(error = ?e, event = %request.event, "request failed");
                }
                dialect.encode_error_for(request.socket.req_parts(), &request.event, &e)
            }
        }
    }
}

async fn execute<D: Dialect, A: Adapter>(
    request: &Request<A>,
    dialect: &D,
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<Out>, CoreError> {
    let payload = request
        .payload
        .as_ref()
        .map_err(|e| CoreError::invalid(format!("unreadable payload: {e}")))?;
    if dialect.upload_event() == Some(request.event.as_str()) {
        let Payload::Binary(bytes) = payload else {
            return Err(CoreError::invalid(format!(
                "{} takes a binary payload (a Buffer)",
                request.event
            )));
        };
        let upload = state
            .media
            .keep_bytes(&state.service, actor.id(), bytes.clone())
            .await?;
        return Ok(dialect.encode(actor, &request.event, &Outcome::Uploaded(upload)));
    }
    let Payload::Json(payload) = payload else {
        return Err(CoreError::invalid(format!(
            "{} does not take a binary payload",
            request.event
        )));
    };
    let command = dialect.decode(&request.event, payload)?;
    let outcome = state.service.execute(actor, command).await?;
    Ok(dialect.encode(actor, &request.event, &outcome))
}

/// The socket's user, for the outs that change what it views.
struct Viewer<'a> {
    state: &'a AppState,
    user: &'a UserId,
    socket_key: &'a str,
}

/// Carries out a handler's outs on its socket. A broadcast reaches the room
/// on every node through the cluster adapter, or this node's part of it
/// while the cluster is not `cluster_up` (Redis away, or no cluster).
fn apply<A: Adapter>(
    socket: &SocketRef<A>,
    mut ack: Option<AckSender<A>>,
    outs: Vec<Out>,
    viewer: Option<Viewer<'_>>,
    cluster_up: bool,
) {
    for out in outs {
        match out {
            Out::Emit(event, data) => {
                if let Err(e) = socket.emit(event, &data) {
                    tracing::debug!(error = %e, event, "emit to socket failed");
                }
            }
            Out::Ack(data) => {
                if let Some(Err(e)) = ack.take().map(|ack| ack.send(&data)) {
                    tracing::debug!(error = %e, "ack failed");
                }
            }
            Out::View(conversation_id) => {
                socket.join(conversation_room(conversation_id));
                if let Some(v) = &viewer {
                    let viewing = v.state.service.viewing();
                    viewing.view(v.user, conversation_id, v.socket_key);
                }
            }
            Out::Unview(conversation_id) => {
                socket.leave(conversation_room(conversation_id));
                if let Some(v) = &viewer {
                    let viewing = v.state.service.viewing();
                    viewing.unview(v.user, conversation_id, v.socket_key);
                }
            }
            Out::UnviewAll => {
                for room in socket.rooms() {
                    let Some(id) = room_conversation(&room) else {
                        continue;
                    };
                    socket.leave(room.to_string());
                    if let Some(v) = &viewer {
                        v.state.service.viewing().unview(v.user, id, v.socket_key);
                    }
                }
            }
            Out::Join(room) => socket.join(room),
            Out::Leave(room) => socket.leave(room),
            Out::Broadcast(room, event, data) => {
                let to = if cluster_up {
                    socket.within(room)
                } else {
                    socket.within(room).local()
                };
                tokio::spawn(async move {
                    if let Err(e) = to.emit(event, &data).await {
                        tracing::debug!(error = %e, event, "broadcast failed for some sockets");
                    }
                });
            }
        }
    }
}

/// Renders domain events for one dialect and hands them to its delivery task.
struct Sink<D> {
    dialect: Arc<D>,
    tx: mpsc::UnboundedSender<Delivery>,
}

impl<D: Dialect> EventSink for Sink<D> {
    fn deliver(&self, event: &DomainEvent, _origin: Origin) {
        for d in self.dialect.render(event) {
            let _ = self.tx.send(d);
        }
    }
}

/// Emits deliveries in the order they were published, to this node's
/// sockets (every node renders every event for its own).
async fn deliver<D: Dialect, A: Adapter>(
    io: SocketIo<A>,
    dialect: Arc<D>,
    mut rx: mpsc::UnboundedReceiver<Delivery>,
    state: AppState,
) {
    let namespace = dialect.namespace();
    // Deliveries are recorded in order beside the fan-out, so the next emits
    // do not wait on the store and each message gets its own receipt.
    let (receipts, mut pending) = mpsc::unbounded_channel::<(Vec<Actor>, Receipt)>();
    {
        let (state, reads) = (state.clone(), dialect.reads_on_delivery());
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
                    if reads
                        && let Err(e) = state
                            .service
                            .mark_read(actor, crate::core::RowRef::Id(message.id))
                            .await
                    {
                        tracing::warn!(error = %e, "could not record a read");
                    }
                }
            }
        });
    }
    // Views that differ per user are built in order beside the fan-out too.
    let (views, mut queued) = mpsc::unbounded_channel::<(Vec<UserId>, Command, &'static str)>();
    {
        let (io, dialect, state) = (io.clone(), dialect.clone(), state.clone());
        tokio::spawn(async move {
            while let Some((users, command, event)) = queued.recv().await {
                if let Some(ns) = io.of(namespace) {
                    let ns = ns.local();
                    per_user(&ns, dialect.as_ref(), &state, &users, &command, event).await;
                }
            }
        });
    }
    while let Some(d) = rx.recv().await {
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
                if to.is_empty() {
                    continue;
                }
                let reached = receipt.as_ref().map(|_| {
                    ns.clone()
                        .to(to.clone())
                        .except(except.clone())
                        .sockets()
                        .iter()
                        .filter_map(|s| s.extensions.get::<Actor>())
                        .collect::<Vec<_>>()
                });
                if let Err(e) = ns.to(to).except(except).emit(event, &data).await {
                    tracing::debug!(error = %e, event, "broadcast failed for some sockets");
                }
                if let (Some(receipt), Some(mut actors)) = (receipt, reached) {
                    actors.sort_by(|a, b| a.id().cmp(b.id()));
                    actors.dedup_by(|a, b| a.id() == b.id());
                    actors.retain(|a| *a.id() != receipt.message.sender);
                    if !actors.is_empty() {
                        let _ = receipts.send((actors, receipt));
                    }
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

/// Runs `command` as each of `users` that has a socket in `ns` and emits
/// the encoded outcome to that user's sockets there.
async fn per_user<D: Dialect, A: Adapter>(
    ns: &BroadcastOperators<A>,
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
            if let Out::Emit(event, data) = out
                && let Err(e) = ns.clone().to(room.clone()).emit(event, &data).await
            {
                tracing::debug!(error = %e, event, "emit to a user's sockets failed");
            }
        }
    }
}

/// Names a socket across dialects (each dialect has its own Socket.IO server).
fn socket_key<A: Adapter>(socket: &SocketRef<A>) -> String {
    format!("{}#{}", socket.ns(), socket.id)
}
