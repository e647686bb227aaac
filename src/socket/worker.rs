//! One ordered queue per socket: socketioxide spawns a task per incoming
//! event, so a socket's events (and then its close) are queued and handled
//! one after the other by the socket's worker, which decodes each through
//! the dialect, runs it through the core (as coming through this socket:
//! the events it causes name the socket by its key, and each socket is in
//! a room of its own, [`socket_room`]) and answers with the dialect's outs.

use futures::FutureExt;
use http::request::Parts;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, TryData};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

use super::audience::Present;
use super::handshake::{Claimed, IssuedAt, verify};
use super::measure::{self, Meters};
use super::names::{Names, rename_outs};
use super::outs::{Viewer, apply};
use super::payload::{Payload, no_arguments};
use crate::core::command::{Actor, Outcome};
use crate::core::{CoreError, UserId};
use crate::dialects::{Dialect, Out, identified_rooms, socket_room};
use crate::drain::Drain;
use crate::sessions::Registered;
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
    /// When it arrived, before it waited in the queue.
    arrived: Instant,
    /// Counts the event as in flight until it is answered (or dropped).
    _in_flight: InFlight,
}

/// One client event received and not yet answered, for the drain.
struct InFlight(Arc<Drain>);

impl InFlight {
    fn new(drain: &Arc<Drain>) -> Self {
        drain.received();
        InFlight(drain.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.answered();
    }
}

/// The queue of a socket's events, from the handshake to its worker (with
/// a sender of its own, for the drain to queue the socket's close).
#[allow(clippy::type_complexity)]
struct Inbox<A: Adapter>(
    Arc<parking_lot::Mutex<Option<(mpsc::Receiver<Job<A>>, mpsc::Sender<Job<A>>, Present)>>>,
);

impl<A: Adapter> Clone for Inbox<A> {
    fn clone(&self) -> Self {
        Inbox(self.0.clone())
    }
}

/// The answer to a failed client event, in the client's language if its
/// dialect speaks several.
fn failure<D: Dialect>(dialect: &D, parts: &Parts, event: &str, error: &CoreError) -> Vec<Out> {
    match dialect.handshake().language {
        Some(language) => (language.errors)(parts, event, error),
        None => dialect.encode_error(event, error),
    }
}

/// Starts queueing the socket's events and its close, in order, for the
/// worker [`start`] runs. Called during the handshake, before the client
/// hears it is connected, so that none of its first events is missed.
pub(super) fn queue<D: Dialect, A: Adapter>(
    s: &SocketRef<A>,
    dialect: Arc<D>,
    drain: Arc<Drain>,
    meters: Arc<Meters>,
    present: Present,
) {
    let (tx, rx) = mpsc::channel::<Job<A>>(SOCKET_QUEUE);
    {
        let tx = tx.clone();
        s.on_fallback(
            move |socket: SocketRef<A>,
                  Event(event): Event,
                  TryData(payload): TryData<Payload>,
                  ack: AckSender<A>| {
                meters.event_in(&event);
                let request = Request {
                    socket,
                    event,
                    payload: payload.or_else(no_arguments),
                    ack,
                    arrived: Instant::now(),
                    _in_flight: InFlight::new(&drain),
                };
                if let Err(
                    mpsc::error::TrySendError::Full(Job::Event(r))
                    | mpsc::error::TrySendError::Closed(Job::Event(r)),
                ) = tx.try_send(Job::Event(Box::new(request)))
                {
                    let error = CoreError::RateLimited {
                        retry_after_ms: 1000,
                    };
                    meters.refused(&error);
                    let outs = failure(dialect.as_ref(), r.socket.req_parts(), &r.event, &error);
                    apply(&meters, &r.socket, Some(r.ack), outs, None, false);
                }
                async {}
            },
        );
    }
    // The close goes through the same queue, so it is handled after the
    // socket's last event and after its arrival was counted.
    let on_close = tx.clone();
    s.on_disconnect(move || async move {
        let _ = on_close.send(Job::Closed).await;
    });
    s.extensions
        .insert(Inbox(Arc::new(parking_lot::Mutex::new(Some((
            rx, tx, present,
        ))))));
}

/// Greets a connected socket as its dialect does and starts its worker.
pub(super) fn start<D: Dialect, A: Adapter>(
    s: SocketRef<A>,
    dialect: Arc<D>,
    state: AppState,
    meters: Arc<Meters>,
) {
    let actor = s.extensions.get::<Actor>();
    let claimed = s.extensions.get::<Claimed>().and_then(|c| c.0);
    let Some((rx, tx, present)) = s
        .extensions
        .get::<Inbox<A>>()
        .and_then(|i| i.0.lock().take())
    else {
        tracing::error!("a socket connected without its event queue");
        s.disconnect().ok();
        return;
    };
    if let (Some(actor), Some(greeting)) = (&actor, dialect.handshake().greeting) {
        let (event, data) = greeting(actor);
        meters.event_out(event);
        if let Err(e) = s.emit(event, &data) {
            tracing::debug!(error = %e, event, "emit to socket failed");
        }
    }
    meters.connected();
    let socket_key = socket_key(&s);
    s.join(socket_room(&socket_key));
    let registered = actor.as_ref().map(|actor| {
        let issued_at = s.extensions.get::<IssuedAt>().and_then(|i| i.0);
        register(&state, &s, actor, issued_at)
    });
    Names::attach(&s);
    let worker = Worker {
        dialect,
        state,
        meters,
        actor,
        claimed,
        socket_key,
        _registered: registered,
    };
    // A stopping node's server closes its sockets without telling their
    // disconnect handlers (socketioxide 0.18's `SocketIo::close` forgets its
    // namespaces first): the drain queues each open socket's close itself.
    let drain = worker.state.drain.clone();
    let closer = drain.on_close(move || {
        tokio::spawn(async move {
            let _ = tx.send(Job::Closed).await;
        });
    });
    drain.spawn_worker(async move {
        worker.run(rx).await;
        drop(closer);
        drop(present);
    });
}

/// Puts a socket proved by a token issued at `issued_at` in the node's
/// sessions, to be disconnected when that token is no longer accepted.
fn register<A: Adapter>(
    state: &AppState,
    s: &SocketRef<A>,
    actor: &Actor,
    issued_at: Option<u64>,
) -> Registered {
    let socket = s.clone();
    state
        .sessions
        .register(actor.id().clone(), issued_at, move || {
            socket.clone().disconnect().ok();
        })
}

/// One socket's life, in order: its arrival, its events, its close.
struct Worker<D> {
    dialect: Arc<D>,
    state: AppState,
    meters: Arc<Meters>,
    /// Who the socket is, once a token proved it.
    actor: Option<Actor>,
    claimed: Option<UserId>,
    socket_key: String,
    /// The socket's place in the node's sessions, once a token proved it.
    _registered: Option<Registered>,
}

impl<D: Dialect> Worker<D> {
    async fn run<A: Adapter>(mut self, mut rx: mpsc::Receiver<Job<A>>) {
        if let Some(actor) = &self.actor {
            Box::pin(self.state.service.connected(actor)).await;
        }
        while let Some(Job::Event(request)) = rx.recv().await {
            // Boxed, so that an idle socket's task holds only what waiting
            // for its next event needs, not the largest command's state.
            let handling = measure::arrived(request.arrived, self.handle(&request));
            let handled = AssertUnwindSafe(Box::pin(handling)).catch_unwind().await;
            let outs = handled.unwrap_or_else(|_| {
                tracing::error!(event = %request.event, "handler panicked");
                let error = CoreError::Internal("handler panicked".into());
                self.meters.refused(&error);
                failure(
                    self.dialect.as_ref(),
                    request.socket.req_parts(),
                    &request.event,
                    &error,
                )
            });
            let viewer = self.actor.as_ref().map(|a| Viewer {
                state: &self.state,
                user: a.id(),
                socket_key: &self.socket_key,
            });
            let cluster_up = self.state.cluster_up();
            apply(
                &self.meters,
                &request.socket,
                Some(request.ack),
                outs,
                viewer,
                cluster_up,
            );
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
            .zip(self.dialect.handshake().claim)
            .and_then(|(payload, claim)| (claim.event_token)(payload))
            .ok_or(CoreError::Unauthenticated)?;
        let (actor, issued_at) = verify(&token, self.claimed.as_ref(), &self.state)
            .await
            .map_err(CoreError::TokenRefused)?;
        self._registered = Some(register(&self.state, &request.socket, &actor, issued_at));
        request.socket.join(identified_rooms(actor.id()));
        // The fan-out reads it to record deliveries to this socket.
        request.socket.extensions.insert(actor.clone());
        self.state.service.connected(&actor).await;
        self.actor = Some(actor.clone());
        Ok(actor)
    }

    async fn handle<A: Adapter>(&mut self, request: &Request<A>) -> Vec<Out> {
        let dialect = self.dialect.clone();
        let result = match self.identify(request).await {
            Ok(actor) => {
                let socket_key = self.socket_key.as_str();
                execute(request, dialect.as_ref(), &self.state, &actor, socket_key).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(outs) => outs,
            Err(e) => {
                if matches!(e, CoreError::Internal(_) | CoreError::Unavailable(_)) {
                    tracing::error!(error = ?e, event = %request.event, "request failed");
                }
                self.meters.refused(&e);
                failure(
                    dialect.as_ref(),
                    request.socket.req_parts(),
                    &request.event,
                    &e,
                )
            }
        }
    }
}

/// Runs one client event: a binary upload through the upload pipeline, any
/// other event decoded by the dialect and run through the core as coming
/// from the socket `socket_key`. An event that names a conversation in the
/// dialect's [`conversation_field`](crate::dialects::Handshake::conversation_field)
/// teaches the socket that name, and its answer uses it.
async fn execute<D: Dialect, A: Adapter>(
    request: &Request<A>,
    dialect: &D,
    state: &AppState,
    actor: &Actor,
    socket_key: &str,
) -> Result<Vec<Out>, CoreError> {
    let payload = request
        .payload
        .as_ref()
        .map_err(|e| CoreError::invalid(format!("unreadable payload: {e}")))?;
    if dialect.handshake().upload_event == Some(request.event.as_str()) {
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
    let outcome = state
        .service
        .execute_from(actor, command, Some(socket_key))
        .await?;
    let mut outs = dialect.encode(actor, &request.event, &outcome);
    if let Some(field) = dialect.handshake().conversation_field
        && let Some(conversation) = outcome.conversation_id()
        && let Some(form) = payload.get(field)
    {
        Names::remember(&request.socket, conversation, form);
        rename_outs(&mut outs, field, form);
    }
    Ok(outs)
}

/// Names a socket across dialects (each dialect has its own Socket.IO server).
fn socket_key<A: Adapter>(socket: &SocketRef<A>) -> String {
    format!("{}#{}", socket.ns(), socket.id)
}
