//! Test harness: the real server on a random port with a fresh database, and
//! a Rust Socket.IO client (tf-rust-socketio) that records what it receives.
#![allow(dead_code)]

use confab::app::{self, Running};
use confab::config::Config;
use confab::core::command::Actor;
use confab::core::{ConversationKind, ConversationSummary, UserId, UserSummary};
use futures::FutureExt;
use serde_json::Value;
use std::time::Duration;
use tf_rust_socketio::asynchronous::{Client, ClientBuilder};
use tf_rust_socketio::{Event, Payload, TransportType};
use tokio::sync::mpsc;

pub struct TestServer {
    pub running: Running,
    pub url: String,
    /// The Syarah listener, when enabled.
    pub syarah_url: Option<String>,
    pub jobspare_url: Option<String>,
    pub voxora_url: Option<String>,
    pub vchat_url: Option<String>,
    _dir: tempfile::TempDir,
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        bind: "127.0.0.1".parse().expect("ip"),
        ..Config::default()
    };
    config.dialects.dozaar.port = 0;
    config.dialects.syarah.port = 0;
    config.dialects.jobspare.port = 0;
    config.dialects.voxora.port = 0;
    config.dialects.vchat.port = 0;
    adjust(&mut config);
    let running = app::start(config).await.expect("server starts");
    let addr = running.addr("dozaar").expect("dozaar listens");
    let syarah_url = running.addr("syarah").map(|a| format!("http://{a}"));
    let jobspare_url = running.addr("jobspare").map(|a| format!("http://{a}"));
    let voxora_url = running.addr("voxora").map(|a| format!("http://{a}"));
    let vchat_url = running.addr("vchat").map(|a| format!("http://{a}"));
    TestServer {
        url: format!("http://{addr}"),
        syarah_url,
        jobspare_url,
        voxora_url,
        vchat_url,
        running,
        _dir: dir,
    }
}

impl TestServer {
    pub fn token(&self, user: &str) -> String {
        self.running
            .state
            .keys
            .issue(
                user,
                Some(&format!("{user} name")),
                Duration::from_secs(3600),
            )
            .expect("token")
    }

    pub async fn actor(&self, user: &str) -> Actor {
        let id = UserId::parse(user).expect("user id");
        let u = self
            .running
            .state
            .service
            .provision(&id, Default::default())
            .await
            .expect("provision");
        Actor {
            user: UserSummary::from(&u),
        }
    }

    /// A conversation created by `creator` with `others`.
    pub async fn conversation(&self, creator: &str, others: &[&str]) -> ConversationSummary {
        let actor = self.actor(creator).await;
        let kind = if others.len() == 1 {
            ConversationKind::Direct
        } else {
            ConversationKind::Group
        };
        let members = others
            .iter()
            .map(|o| UserId::parse(o).expect("id"))
            .collect();
        self.running
            .state
            .service
            .create_conversation(&actor, kind, members, Some("test".into()))
            .await
            .expect("conversation")
            .summary
    }

    pub async fn message_count(&self, user: &str, conversation_id: i64) -> usize {
        let actor = self.actor(user).await;
        self.running
            .state
            .service
            .history(
                &actor,
                confab::core::RowRef::Id(conversation_id),
                None,
                None,
                Some(100),
            )
            .await
            .expect("history")
            .0
            .len()
    }
}

/// A connected Rust Socket.IO client and everything it has received.
pub struct TestClient {
    pub client: Client,
    rx: mpsc::UnboundedReceiver<(String, Value)>,
    seen: Vec<(String, Value)>,
    /// The `connect_error` message, if the server refused the handshake.
    pub refused: Option<String>,
}

pub enum Auth<'a> {
    Header(&'a str),
    /// The token alone in `Authorization`, no scheme (V Chat).
    RawHeader(&'a str),
    Token(&'a str),
    None,
}

type Received = mpsc::UnboundedReceiver<(String, Value)>;

fn recorder() -> (
    impl Fn(Event, Payload, Client) -> futures::future::BoxFuture<'static, ()> + Send + Sync + 'static,
    Received,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let cb = move |event: Event, payload: Payload, _c: Client| {
        let value = match payload {
            Payload::Text(mut values, _) if values.len() == 1 => values.remove(0),
            Payload::Text(values, _) => Value::Array(values),
            #[allow(deprecated)]
            Payload::String(s, _) => Value::String(s),
            Payload::Binary(_, _) => Value::Null,
        };
        let _ = tx.send((event.as_str().to_owned(), value));
        async {}.boxed()
    };
    (cb, rx)
}

pub async fn connect(server: &TestServer, auth: Auth<'_>) -> TestClient {
    connect_with(server, auth, TransportType::Websocket).await
}

pub async fn connect_with(
    server: &TestServer,
    auth: Auth<'_>,
    transport: TransportType,
) -> TestClient {
    open(&server.url, "/chat", auth, transport).await
}

/// Connects to `namespace` of the Socket.IO server at `url` (which may carry
/// a query, e.g. `?userId=alice`).
pub async fn open(
    url: &str,
    namespace: &str,
    auth: Auth<'_>,
    transport: TransportType,
) -> TestClient {
    let (cb, rx) = recorder();
    let (state_tx, mut state_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let on_error = {
        let state_tx = state_tx.clone();
        move |payload: Payload, _c: Client| {
            let text = match payload {
                Payload::Text(values, _) => Value::Array(values).to_string(),
                #[allow(deprecated)]
                Payload::String(s, _) => s,
                Payload::Binary(_, _) => String::new(),
            };
            let _ = state_tx.send(Err(text));
            async {}.boxed()
        }
    };
    let mut builder = ClientBuilder::new(url)
        .namespace(namespace)
        .transport_type(transport)
        .reconnect(false)
        .on(Event::Connect, move |_, _| {
            let _ = state_tx.send(Ok(()));
            async {}.boxed()
        })
        .on(Event::Error, on_error)
        .on_any(cb);
    builder = match auth {
        Auth::Header(t) => builder.opening_header("Authorization", format!("Bearer {t}")),
        Auth::RawHeader(t) => builder.opening_header("Authorization", t.to_owned()),
        Auth::Token(t) => builder.auth(serde_json::json!({ "token": t })),
        Auth::None => builder,
    };
    let client = builder.connect().await.expect("transport connects");
    // The namespace is joined once the server answers; emits before that are refused.
    let outcome = tokio::time::timeout(Duration::from_secs(5), state_rx.recv())
        .await
        .expect("connect or connect_error within 5 s")
        .expect("connection state");
    TestClient {
        client,
        rx,
        seen: Vec::new(),
        refused: outcome.err(),
    }
}

impl TestClient {
    pub async fn emit(&self, event: &str, data: Value) {
        self.client.emit(event, data).await.expect("emit");
    }

    /// Emits with an acknowledgement callback and waits for the answer.
    pub async fn emit_ack(&self, event: &str, data: Value) -> Value {
        self.emit_ack_within(event, data, Duration::from_secs(5))
            .await
    }

    /// [`TestClient::emit_ack`], waiting up to `wait`.
    pub async fn emit_ack_within(&self, event: &str, data: Value, wait: Duration) -> Value {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx = std::sync::Arc::new(parking_lot::Mutex::new(Some(tx)));
        self.client
            .emit_with_ack(event, data, wait, move |payload: Payload, _c: Client| {
                let value = match payload {
                    Payload::Text(mut values, _) if values.len() == 1 => values.remove(0),
                    Payload::Text(values, _) => Value::Array(values),
                    #[allow(deprecated)]
                    Payload::String(s, _) => Value::String(s),
                    Payload::Binary(_, _) => Value::Null,
                };
                // The client hands the ack's arguments over as one array.
                let value = match value {
                    Value::Array(mut args) if args.len() == 1 => args.remove(0),
                    other => other,
                };
                if let Some(tx) = tx.lock().take() {
                    let _ = tx.send(value);
                }
                async {}.boxed()
            })
            .await
            .expect("emit");
        tokio::time::timeout(wait, rx)
            .await
            .expect("ack in time")
            .expect("ack")
    }

    /// Waits for the next `event` whose payload satisfies `pred`.
    pub async fn expect_where(&mut self, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(|(e, v)| e == event && pred(v)) {
            return self.seen.remove(i).1;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some((e, v))) if e == event && pred(&v) => return v,
                Ok(Some(other)) => self.seen.push(other),
                Ok(None) | Err(_) => panic!("no {event:?} within 5 s; saw {:?}", self.seen),
            }
        }
    }

    pub async fn expect(&mut self, event: &str) -> Value {
        self.expect_where(event, |_| true).await
    }

    /// Asserts that no `event` arrives within `wait`.
    pub async fn expect_none(&mut self, event: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some((e, v))) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            assert_ne!(e, event, "unexpected {event}: {v}");
            self.seen.push((e, v));
        }
        assert!(
            !self.seen.iter().any(|(e, _)| e == event),
            "unexpected {event}"
        );
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }
}
