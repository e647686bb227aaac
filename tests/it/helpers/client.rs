//! A Rust Socket.IO client (tf-rust-socketio) that records every event it
//! receives, connected to any dialect's listener, and the Dozaar clients most
//! tests start from.

use futures::FutureExt;
use serde_json::{Value, json};
use std::time::Duration;
use tf_rust_socketio::asynchronous::{Client, ClientBuilder};
use tf_rust_socketio::{Event, Payload, TransportType};
use tokio::sync::mpsc;

use super::server::TestServer;

/// A connected Rust Socket.IO client and everything it has received.
pub struct TestClient {
    pub client: Client,
    rx: mpsc::UnboundedReceiver<(String, Value)>,
    seen: Vec<(String, Value)>,
    /// The `connect_error` message, if the server refused the handshake.
    pub refused: Option<String>,
}

/// How a client proves who it is in the handshake.
pub enum Auth<'a> {
    /// `Authorization: Bearer <token>`.
    Header(&'a str),
    /// The token alone in `Authorization`, no scheme (V Chat).
    RawHeader(&'a str),
    /// `{ "token": … }` in the handshake's auth payload.
    Token(&'a str),
    /// Headers of the opening request as given (a browser's `Cookie` and
    /// `Origin`).
    Headers(&'a [(&'a str, String)]),
    None,
}

/// A client of the Dozaar listener (namespace `/chat`) over WebSocket.
pub async fn dozaar_client(server: &TestServer, auth: Auth<'_>) -> TestClient {
    dozaar_client_over(server, auth, TransportType::Websocket).await
}

/// A client of the Dozaar listener over `transport`.
pub async fn dozaar_client_over(
    server: &TestServer,
    auth: Auth<'_>,
    transport: TransportType,
) -> TestClient {
    connect(&server.url, "/chat", auth, transport).await
}

/// A Dozaar client of `user`, its token in the handshake's auth payload.
pub async fn dozaar_client_of(server: &TestServer, user: &str) -> TestClient {
    dozaar_client(server, Auth::Token(&server.token_for(user))).await
}

/// A Dozaar client of `user` that has joined (so views) the conversation
/// with the uuid `conversation`.
pub async fn joined_dozaar_client(
    server: &TestServer,
    user: &str,
    conversation: &str,
) -> TestClient {
    let mut c = dozaar_client_of(server, user).await;
    c.emit(
        "join:conversation",
        json!({ "conversationId": conversation }),
    )
    .await;
    let v = c.expect("joined:conversation").await;
    assert_eq!(v["conversationId"], conversation);
    c
}

/// A client of `namespace` of the Socket.IO server at `url` (which may carry
/// a query, e.g. `?userId=alice`) over WebSocket.
pub async fn socket_client(url: &str, namespace: &str, auth: Auth<'_>) -> TestClient {
    connect(url, namespace, auth, TransportType::Websocket).await
}

/// An event's or an acknowledgement's arguments as one JSON value: the
/// argument itself when there is one, else their array.
fn payload_value(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut values, _) if values.len() == 1 => values.remove(0),
        Payload::Text(values, _) => Value::Array(values),
        #[allow(deprecated)]
        Payload::String(s, _) => Value::String(s),
        Payload::Binary(_, _) => Value::Null,
    }
}

async fn connect(
    url: &str,
    namespace: &str,
    auth: Auth<'_>,
    transport: TransportType,
) -> TestClient {
    let (tx, rx) = mpsc::unbounded_channel();
    let record = move |event: Event, payload: Payload, _c: Client| {
        let _ = tx.send((event.as_str().to_owned(), payload_value(payload)));
        async {}.boxed()
    };
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
        .on_any(record);
    builder = match auth {
        Auth::Header(t) => builder.opening_header("Authorization", format!("Bearer {t}")),
        Auth::RawHeader(t) => builder.opening_header("Authorization", t.to_owned()),
        Auth::Token(t) => builder.auth(json!({ "token": t })),
        Auth::Headers(headers) => headers
            .iter()
            .fold(builder, |b, (k, v)| b.opening_header(*k, v.clone())),
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
                // The client hands the ack's arguments over as one array.
                let value = match payload_value(payload) {
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

    /// Every `event` received so far or within `wait` from now, in order
    /// (taken: a later call does not see them again).
    pub async fn all_of(&mut self, event: &str, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(got)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.seen.push(got);
        }
        let (of, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.seen)
            .into_iter()
            .partition(|(e, _)| e == event);
        self.seen = rest;
        of.into_iter().map(|(_, v)| v).collect()
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }
}
