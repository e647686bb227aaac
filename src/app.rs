//! Wiring: the store, the core, the fan-out, and one listener per enabled
//! dialect, each serving its Socket.IO namespace and the shared HTTP router.

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_redis::{FredAdapter, RedisAdapterConfig, RedisAdapterCtr};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::AuthError;
use crate::auth::jwt::JwtKeys;
use crate::config::{Config, StoreKind};
use crate::core::error::StoreError;
use crate::core::service::{Limits, Service};
use crate::datadir::{DataDirError, DataDirLock};
use crate::dialects::vchat::{VChat, VChatMessage};
use crate::dialects::voxora::{Department, Voxora};
use crate::dialects::{dozaar::Dozaar, jobspare::JobSpare, syarah::Syarah};
use crate::fanout::Bus;
use crate::fanout::cluster::typing::RemoteTyping;
use crate::fanout::cluster::{Cluster, ClusterError, events};
use crate::socket;
use crate::state::AppState;
use crate::store;
use crate::telemetry::figures::Meter;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    #[error("loading the signing keys: {0}")]
    Keys(#[from] AuthError),
    #[error("starting push notifications: {0}")]
    Push(#[from] crate::push::PushError),
    #[error("installing the metrics recorder: {0}")]
    Metrics(String),
    #[error("joining the cluster through Redis: {0}")]
    Cluster(#[from] ClusterError),
    #[error("the {dialect} listener's Redis adapter: {message}")]
    Adapter {
        dialect: &'static str,
        message: String,
    },
    #[error(
        "the {dialect} listener cannot listen on {addr}: the port is in use by another \
         program. Free it, or move {dialect} to another port with dialects.{dialect}.port \
         (env {env}{flag}; 0 picks any free port), or turn it off with \
         dialects.{dialect}.enabled = false"
    )]
    PortInUse {
        dialect: &'static str,
        addr: SocketAddr,
        /// The environment variable of the port setting.
        env: String,
        /// `, flag --dozaar-port` where there is a flag.
        flag: &'static str,
    },
    #[error("listening for {dialect} on {addr}: {source}")]
    Bind {
        dialect: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A started server.
pub struct Running {
    /// Where each dialect listens, in the order they were started.
    pub listeners: Vec<(&'static str, SocketAddr)>,
    pub state: AppState,
    shutdown: Arc<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
    /// This node's link to the other nodes of its cluster.
    link: Option<Arc<events::Link>>,
    /// The lock of a SQLite data directory, held while serving.
    _lock: Option<DataDirLock>,
    /// Closes every socket of one listener's Socket.IO server.
    closers: Vec<Closer>,
    /// The push pipeline, when push is on.
    push: Option<Arc<crate::push::PushStats>>,
}

type Closer = Box<dyn Fn() -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

/// What a drain got done within its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drained {
    /// Whether a moment came when no client event was half-handled before
    /// the sockets were closed.
    pub quiet: bool,
    /// Socket workers still running (their close not yet handled) at the limit.
    pub workers_left: usize,
    /// Push notifications still queued or being sent at the limit.
    pub push_left: u64,
    /// Whether every listener had closed its connections.
    pub listeners_closed: bool,
    pub took: Duration,
}

impl Running {
    /// The address a dialect listens on.
    pub fn addr(&self, dialect: &str) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|(d, _)| *d == dialect)
            .map(|(_, a)| *a)
    }

    /// Stops the node gracefully, within `limit`: `/readyz` answers 503 and
    /// new Socket.IO sessions are refused at once (the sessions open keep
    /// their connections, so that a polling client's next poll is served);
    /// at the first moment no client event is half-handled (at most a
    /// quarter of the limit), every socket (WebSocket and polling alike) is
    /// closed with an Engine.IO close, which clients treat as a lost
    /// connection and reconnect, elsewhere; then the listeners stop
    /// accepting, each socket's close is handled (presence, viewing), a node
    /// of a cluster leaves it, the push queue is flushed, and the listeners'
    /// last connections end. Whatever is not done at the limit is left.
    pub async fn drain(self, limit: Duration) -> Drained {
        let start = tokio::time::Instant::now();
        let at = |share: u32| start + limit * share / 4;
        let drain = self.state.drain.clone();
        drain.begin();
        let quiet = drain.quiet(at(1)).await;
        let close = futures::future::join_all(self.closers.iter().map(|close| close()));
        if tokio::time::timeout_at(at(2), close).await.is_err() {
            tracing::warn!("closing the sockets took too long");
        }
        drain.close_sockets();
        // No socket will come back to this node: nobody waits out a grace.
        self.state.service.presence().end_graces();
        let _ = self.shutdown.send(true);
        let workers_left = drain.workers_done(at(3)).await;
        if let Some(link) = &self.link {
            let leave = async {
                self.state.service.leave_cluster().await;
                link.flush().await;
            };
            let by = at(4).min(tokio::time::Instant::now() + LEAVE_TIMEOUT);
            if tokio::time::timeout_at(by, leave).await.is_err() {
                tracing::warn!(
                    "leaving the cluster took too long: the other nodes will reap this one"
                );
            }
        }
        let push_left = match &self.push {
            Some(push) => push.flushed(at(4)).await,
            None => 0,
        };
        let listeners = tokio::time::timeout_at(at(4), futures::future::join_all(self.tasks)).await;
        Drained {
            quiet,
            workers_left,
            push_left,
            listeners_closed: listeners.is_ok(),
            took: start.elapsed(),
        }
    }
}

/// How long a stopping node may take to tell the cluster it leaves.
pub const LEAVE_TIMEOUT: Duration = Duration::from_secs(3);

/// The core's limits from the config.
pub fn limits(config: &Config) -> Limits {
    Limits {
        max_text_chars: config.limits.max_text_chars,
        max_attachments: config.limits.max_attachments,
        messages_per_minute: config.limits.messages_per_minute,
        history_page_max: config.limits.history_page_max,
        typing_ttl: Duration::from_secs(config.typing_ttl_secs),
        presence: config.presence.visible_to,
        offline_grace: Duration::from_millis(config.presence.offline_grace_ms),
        // Checked when the config was loaded, and by `start`.
        attachments: config.attachments.allowlist().unwrap_or_default(),
        registration: config.auth.registration,
        logins: crate::core::login::LoginLimits {
            per_account: config.auth.login_failures_per_account,
            per_address: config.auth.login_failures_per_address,
            window: config.auth.login_failure_window.as_duration(),
        },
        ..Limits::default()
    }
}

/// Creates the data folder (and its uploads folder) if missing, private
/// to the user confab runs as.
pub fn prepare_data_dir(config: &Config) -> Result<(), StartError> {
    crate::datadir::create_private(&config.data_dir)?;
    crate::datadir::create_private(&config.data_dir.join("uploads"))?;
    Ok(())
}

/// Opens everything and starts one listener per enabled dialect.
pub async fn start(config: Config) -> Result<Running, StartError> {
    config.attachments.validate()?;
    crate::logging::announce_start(&config);
    prepare_data_dir(&config)?;
    // One process per SQLite data directory: a second one is refused here.
    let lock = match config.store_kind() {
        StoreKind::SqliteFile => Some(DataDirLock::acquire(&config.data_dir)?),
        StoreKind::SqliteMemory | StoreKind::Postgres => None,
    };
    let store = store::open(&config.database_url()).await?;
    let keys = JwtKeys::load(&config.auth, &config.data_dir)?;
    let bus = Bus::new();
    let cluster = match &config.redis_url {
        Some(url) => {
            let ttl = Duration::from_secs(config.presence_ttl_secs);
            Some(Cluster::connect(url, ttl).await?)
        }
        None => None,
    };
    let shared = cluster.as_ref().map(Cluster::shared);
    let service = Service::clustered(store, bus.clone(), limits(&config), shared);
    bus.subscribe(Arc::new(crate::fanout::RosterSink(
        service.rosters().clone(),
    )));
    // The console reads the recorder's figures: it is installed for it (the
    // binary installed it already if it serves `/metrics`).
    let meter = if config.admin.console() {
        let handle = crate::telemetry::recorder::install()
            .map_err(|e| StartError::Metrics(e.to_string()))?;
        Some(Arc::new(Meter::new(handle)))
    } else {
        None
    };
    let node_id = match &cluster {
        Some(cluster) => cluster.node_id().to_owned(),
        None => uuid::Uuid::new_v4().simple().to_string(),
    };
    let state = AppState {
        node: crate::state::Node::new(&node_id, meter),
        service,
        keys: Arc::new(keys),
        media: Arc::new(crate::media::Media::new(&config)),
        config: Arc::new(config),
        cluster: cluster.clone(),
        drain: Arc::default(),
        census: Default::default(),
        sessions: Arc::default(),
    };
    let link = match &cluster {
        Some(cluster) => {
            let link = events::link(cluster, &bus).await?;
            bus.subscribe(RemoteTyping::new(state.service.limits().typing_ttl, &bus));
            Some(Arc::new(link))
        }
        None => None,
    };
    let push = crate::push::start(
        &state.config.push,
        &state.service,
        crate::dialects::push_formats()
            .into_iter()
            .fold(crate::push::PushFormats::default(), |f, (name, data)| {
                f.with(name, data)
            }),
    )?
    .map(|push| {
        let stats = push.stats().clone();
        bus.subscribe(push);
        stats
    });
    let (shutdown, shutdown_rx) = watch::channel(false);
    store::watch::spawn(
        state.service.store().clone(),
        state.config.store_kind().as_str(),
        shutdown_rx.clone(),
    );
    crate::sessions::spawn(
        state.sessions.clone(),
        state.service.store().clone(),
        shutdown_rx.clone(),
    );
    if let Some(meter) = &state.node.meter {
        crate::telemetry::figures::spawn(meter.clone(), shutdown_rx.clone());
    }
    if let Some(cluster) = &cluster {
        let census = state.census.clone();
        crate::fanout::cluster::nodes::spawn_reports(
            cluster.clone(),
            move || census.total() as u64,
            shutdown_rx.clone(),
        );
    }
    let mut running = Running {
        listeners: Vec::new(),
        state: state.clone(),
        shutdown: Arc::new(shutdown),
        tasks: Vec::new(),
        link,
        _lock: lock,
        closers: Vec::new(),
        push,
    };
    let dialects = &state.config.dialects;
    for (name, dialect) in dialects.enabled() {
        // The listener's sockets and REST calls read tokens by its claims.
        let keys = Arc::new(state.keys.for_dialect(name, &dialect.auth));
        let state = AppState {
            keys,
            ..state.clone()
        };
        // Voxora's clients send files whole in a binary event.
        let builder = socket_io(&state.config, name == "voxora");
        let layer = match &cluster {
            None => {
                let (layer, io) = builder.build_layer();
                attach(name, &io, &state, &bus);
                running.closers.push(closer(io));
                Layer::Local(layer)
            }
            Some(cluster) => {
                let adapter_error = |e: &dyn std::fmt::Display| StartError::Adapter {
                    dialect: name,
                    message: e.to_string(),
                };
                // Each dialect's servers talk among themselves only: several
                // serve the same namespace path.
                let config = RedisAdapterConfig::new().with_prefix(format!("confab-{name}"));
                let adapter = RedisAdapterCtr::new_with_fred_config(cluster.subscriber()?, config)
                    .await
                    .map_err(|e| adapter_error(&e))?;
                let (layer, io) = builder
                    .with_adapter::<FredAdapter<_>>(adapter)
                    .build_layer();
                for init in attach(name, &io, &state, &bus) {
                    init.await.map_err(|e| adapter_error(&e))?;
                }
                running.closers.push(closer(io));
                Layer::Cluster(layer)
            }
        };
        let (addr, task) = listen(name, dialect.port, layer, &state, shutdown_rx.clone()).await?;
        tracing::info!(dialect = name, %addr, "listening");
        running.listeners.push((name, addr));
        running.tasks.push(task);
    }
    Ok(running)
}

/// Closes every socket of `io` with an Engine.IO close, and waits for them.
fn closer<A: Adapter>(io: SocketIo<A>) -> Closer {
    Box::new(move || {
        let io = io.clone();
        Box::pin(async move { io.close().await })
    })
}

/// Serves a dialect's namespaces on `io`; with a cluster adapter, each is
/// ready once its initialisation is done.
fn attach<A: Adapter + socketioxide_core::adapter::DefinedAdapter>(
    name: &str,
    io: &SocketIo<A>,
    state: &AppState,
    bus: &Bus,
) -> Vec<A::InitRes> {
    match name {
        "dozaar" => vec![
            socket::attach(io, Arc::new(Dozaar), state.clone(), bus),
            socket::attach_v2_root(io),
        ],
        "syarah" => vec![socket::attach(io, Arc::new(Syarah), state.clone(), bus)],
        "jobspare" => vec![socket::attach(io, Arc::new(JobSpare), state.clone(), bus)],
        "voxora" => vec![
            socket::attach(io, Arc::new(Voxora), state.clone(), bus),
            socket::attach(io, Arc::new(Department), state.clone(), bus),
        ],
        "vchat" => vec![
            socket::attach(io, Arc::new(VChat), state.clone(), bus),
            socket::attach(io, Arc::new(VChatMessage), state.clone(), bus),
        ],
        other => {
            tracing::warn!(dialect = other, "unknown dialect");
            vec![]
        }
    }
}

/// A listener's Socket.IO layer: on one node, or on one of a cluster.
enum Layer {
    Local(SocketIoLayer<LocalAdapter>),
    Cluster(SocketIoLayer<FredAdapter<socketioxide::adapter::Emitter>>),
}

/// The read buffer of a WebSocket connection. Chat packets are a few hundred
/// bytes; a larger frame gets a buffer grown to its size. Every idle
/// connection holds one (the default, 4 KiB, was an eighth of its memory).
const WS_READ_BUFFER_BYTES: usize = 1024;

/// A dialect's Socket.IO server with the engine limits from the config;
/// with `binary_uploads`, packets may carry a file of up to
/// `uploads.socket_max_bytes` (base64-encoded on polling). It speaks the
/// Socket.IO v2 protocol (Engine.IO 3, `EIO=3`) and v3/v4 (`EIO=4`), as each
/// request asks; every limit here holds for both. The ping settings mean the
/// same for both: a v3/v4 client is pinged every interval and must answer
/// within the timeout; a v2 client pings every interval (it is told the
/// interval in its handshake) and is dropped after interval + timeout
/// without one.
fn socket_io(config: &Config, binary_uploads: bool) -> SocketIoBuilder {
    let l = &config.limits;
    let s = &config.socket;
    let (max_payload, ws_max_message) = if binary_uploads {
        let file = config.uploads.socket_max_bytes;
        let slack = l.max_payload_bytes;
        (
            l.max_payload_bytes.max(file / 3 * 4 + 4 + slack),
            l.ws_max_message_bytes
                .max(usize::try_from(file.saturating_add(slack)).unwrap_or(usize::MAX)),
        )
    } else {
        (l.max_payload_bytes, l.ws_max_message_bytes)
    };
    SocketIo::builder()
        .ping_interval(Duration::from_secs(s.ping_interval_secs))
        .ping_timeout(Duration::from_secs(s.ping_timeout_secs))
        .connect_timeout(Duration::from_secs(l.connect_timeout_secs))
        .max_payload(max_payload)
        .max_buffer_size(l.max_buffer_packets)
        .ws_max_message_size(ws_max_message)
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
        .ws_max_frame_size(if binary_uploads {
            ws_max_message
        } else {
            l.ws_max_frame_bytes
        })
}

/// Serves the HTTP router and a dialect's Socket.IO layer on one port.
async fn listen(
    name: &'static str,
    port: u16,
    layer: Layer,
    state: &AppState,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), StartError> {
    let router = crate::http::router(state.clone());
    // The web client speaks Dozaar: its pages are served where its socket goes.
    let router = if name == "dozaar" && state.config.web.enabled {
        crate::http::web::serve(router)
    } else {
        router
    };
    let app: Router = match layer {
        Layer::Local(layer) => router.layer(layer),
        Layer::Cluster(layer) => router.layer(layer),
    }
    .layer(middleware::from_fn(own_request_head))
    .layer(middleware::from_fn_with_state(state.clone(), origin_guard))
    .layer(middleware::from_fn_with_state(state.clone(), drain_guard));
    let addr = SocketAddr::new(state.config.bind, port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| bind_error(name, addr, source))?;
    let local = listener.local_addr().map_err(|source| StartError::Bind {
        dialect: name,
        addr,
        source,
    })?;
    let task = tokio::spawn(async move {
        // Chat packets are small and latency is the point: without this,
        // Nagle's algorithm holds a packet back until the client acknowledges
        // the one before (up to its delayed-ACK time, ~40 ms).
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        // The peer's address reaches handlers (failed logins are counted per address).
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        });
        if let Err(e) = serve.await {
            tracing::error!(dialect = name, error = %e, "listener failed");
        }
    });
    Ok((local, task))
}

/// Why a listener could not bind; a port in use names the setting that
/// moves it.
fn bind_error(dialect: &'static str, addr: SocketAddr, source: std::io::Error) -> StartError {
    if source.kind() != std::io::ErrorKind::AddrInUse {
        return StartError::Bind {
            dialect,
            addr,
            source,
        };
    }
    StartError::PortInUse {
        dialect,
        addr,
        env: format!("CONFAB_DIALECTS_{}_PORT", dialect.to_uppercase()),
        flag: if dialect == "dozaar" {
            ", flag --dozaar-port"
        } else {
            ""
        },
    }
}

/// Refuses Socket.IO requests (polling and the WebSocket upgrade alike) from
/// an `Origin` that is not allowed.
async fn origin_guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if req.uri().path().starts_with("/socket.io") {
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        if !state.config.origin_allowed(origin) {
            return (http::StatusCode::FORBIDDEN, "origin not allowed").into_response();
        }
    }
    next.run(req).await
}

/// Refuses new Socket.IO sessions (an Engine.IO handshake: no `sid`) of a
/// node that is stopping, with a 503 its client retries elsewhere; requests
/// of the sessions already open go through until they are closed.
async fn drain_guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if state.drain.is_draining() && req.uri().path().starts_with("/socket.io") {
        let session = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|pair| pair.starts_with("sid=")));
        if !session {
            return (
                http::StatusCode::SERVICE_UNAVAILABLE,
                "the node is stopping",
            )
                .into_response();
        }
    }
    next.run(req).await
}

/// Copies a Socket.IO request's URI and header values out of the buffer the
/// HTTP/1 parser read them into. They are slices of that buffer (16 KiB),
/// and the engine keeps the request head of every session for its whole
/// life, so without the copy each connection would hold the buffer: over
/// 40 % of an idle connection's memory.
async fn own_request_head(mut req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/socket.io") {
        detach_head(&mut req);
    }
    next.run(req).await
}

/// Replaces the URI (and the router's copy of it) and every header value
/// with copies of their own.
fn detach_head<B>(req: &mut http::Request<B>) {
    if let Ok(uri) = req.uri().to_string().parse::<http::Uri>() {
        if let Some(original) = req.extensions_mut().get_mut::<axum::extract::OriginalUri>() {
            original.0 = uri.clone();
        }
        *req.uri_mut() = uri;
    }
    for value in req.headers_mut().values_mut() {
        if let Ok(mut owned) = http::HeaderValue::from_bytes(value.as_bytes()) {
            owned.set_sensitive(value.is_sensitive());
            *value = owned;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn a_port_in_use_names_the_setting_that_moves_it() {
        let addr: SocketAddr = "0.0.0.0:3005".parse().expect("addr");
        let in_use = || std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let text = bind_error("syarah", addr, in_use()).to_string();
        for part in [
            "syarah listener cannot listen on 0.0.0.0:3005",
            "dialects.syarah.port",
            "CONFAB_DIALECTS_SYARAH_PORT",
            "dialects.syarah.enabled = false",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        assert!(!text.contains("--dozaar-port"));
        let text = bind_error("dozaar", addr, in_use()).to_string();
        assert!(text.contains("flag --dozaar-port"), "{text}");
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(matches!(
            bind_error("vchat", addr, denied),
            StartError::Bind { .. }
        ));
    }

    #[test]
    fn a_detached_head_shares_nothing_with_the_read_buffer() {
        let buffer = Bytes::from_static(b"/socket.io/?EIO=4&transport=websocket secret-token");
        let within = |p: *const u8| buffer.as_ptr_range().contains(&p);
        let uri = http::Uri::from_maybe_shared(buffer.slice(0..37)).expect("uri");
        let mut value = http::HeaderValue::from_maybe_shared(buffer.slice(38..)).expect("value");
        value.set_sensitive(true);
        let mut req = http::Request::builder()
            .uri(uri.clone())
            .header("authorization", value)
            .body(())
            .expect("request");
        req.extensions_mut().insert(axum::extract::OriginalUri(uri));
        assert!(within(req.headers()["authorization"].as_bytes().as_ptr()));

        detach_head(&mut req);

        let auth = &req.headers()["authorization"];
        assert_eq!(auth.as_bytes(), b"secret-token");
        assert!(auth.is_sensitive());
        assert!(!within(auth.as_bytes().as_ptr()));
        assert_eq!(req.uri(), "/socket.io/?EIO=4&transport=websocket");
        let query = req.uri().query().expect("query");
        assert!(!within(query.as_ptr()));
        let original = req
            .extensions()
            .get::<axum::extract::OriginalUri>()
            .expect("original");
        assert_eq!(original.0, *req.uri());
        assert!(!within(original.0.query().expect("query").as_ptr()));
    }
}
