//! One generator socket: the WebSocket (or polling-then-upgrade) handshake,
//! the namespace CONNECT with the token, `join:conversation`, then a task
//! that sends what it is given, answers pings and hands every `new:message`
//! to the [`Tracker`].

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::error::{BenchError, Result, protocol};
use crate::tracker::Tracker;
use crate::wire::{self, Incoming};

pub type Ws = WebSocketStream<TcpStream>;

/// How long a handshake step may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the server under test listens, and the loopback addresses the
/// generator connects from (several, so that tens of thousands of sockets do
/// not run out of ephemeral ports on one address).
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub local_ips: Vec<Ipv4Addr>,
}

impl Target {
    pub fn loopback(port: u16) -> Self {
        Target {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            local_ips: (1..=8).map(|i| Ipv4Addr::new(127, 0, 0, i)).collect(),
        }
    }

    fn local_ip(&self, n: usize) -> Ipv4Addr {
        self.local_ips[n % self.local_ips.len().max(1)]
    }

    pub fn http_base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Small read buffers (tungstenite's default is 128 KiB, eagerly allocated):
/// the generator holds tens of thousands of sockets. engineioxide uses 4 KiB too.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// Opens the WebSocket transport (`extra_query` is `&sid=…` for an upgrade).
pub async fn open_ws(target: &Target, n: usize, extra_query: &str) -> Result<Ws> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(target.local_ip(n)), 0))?;
    let stream = socket.connect(target.addr).await?;
    stream.set_nodelay(true)?;
    let url = format!(
        "ws://{}/socket.io/?EIO=4&transport=websocket{extra_query}",
        target.addr
    );
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config())).await?;
    Ok(ws)
}

/// The next text frame, answering pings on the way.
pub async fn next_text(ws: &mut Ws) -> Result<String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let msg = tokio::time::timeout_at(deadline.into(), ws.next())
            .await
            .map_err(|_| BenchError::Timeout("waiting for a frame from the server"))?;
        match msg {
            None => return Err(protocol("the server closed the connection")),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Message::Text(t))) => {
                if t.as_str() == wire::PING {
                    ws.send(Message::text(wire::PONG)).await?;
                    continue;
                }
                return Ok(t.as_str().to_owned());
            }
            Some(Ok(Message::Close(c))) => {
                return Err(protocol(format!("the server closed the connection: {c:?}")));
            }
            Some(Ok(_)) => continue,
        }
    }
}

/// Waits for the answer to the namespace CONNECT among the frames of `next`.
fn connect_answer(frame: &str) -> Option<Result<()>> {
    match wire::classify(frame) {
        Incoming::Connected => Some(Ok(())),
        Incoming::ConnectError(e) => Some(Err(BenchError::Refused(e.to_owned()))),
        _ => None,
    }
}

/// A socket authenticated in `/chat` over WebSocket only.
pub async fn connect_ws(target: &Target, n: usize, token: &str) -> Result<Ws> {
    let mut ws = open_ws(target, n, "").await?;
    let open = next_text(&mut ws).await?;
    wire::parse_open(&open)?;
    ws.send(Message::text(wire::connect_frame(token))).await?;
    loop {
        let f = next_text(&mut ws).await?;
        if let Some(r) = connect_answer(&f) {
            r?;
            return Ok(ws);
        }
    }
}

/// A socket authenticated in `/chat` over HTTP long-polling, then upgraded to
/// WebSocket (`2probe` → `3probe`, `5`), as socket.io-client does by default.
pub async fn connect_polling(
    http: &reqwest::Client,
    target: &Target,
    n: usize,
    token: &str,
) -> Result<Ws> {
    let base = format!("{}/socket.io/?EIO=4&transport=polling", target.http_base());
    let body = polling_get(http, &base).await?;
    let open = wire::split_polling(&body)
        .next()
        .ok_or_else(|| protocol("empty polling open answer"))?;
    let sid = wire::parse_open(open)?.sid;
    let with_sid = format!("{base}&sid={sid}");
    let resp = http
        .post(&with_sid)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(wire::connect_frame(token))
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(protocol(format!("polling POST answered {}", resp.status())));
    }
    let deadline = Instant::now() + STEP_TIMEOUT;
    'answer: loop {
        if Instant::now() > deadline {
            return Err(BenchError::Timeout("the CONNECT answer over polling"));
        }
        let body = polling_get(http, &with_sid).await?;
        for p in wire::split_polling(&body) {
            if let Some(r) = connect_answer(p) {
                r?;
                break 'answer;
            }
        }
    }
    let mut ws = open_ws(target, n, &format!("&sid={sid}")).await?;
    ws.send(Message::text(wire::PROBE_PING)).await?;
    loop {
        let f = next_text(&mut ws).await?;
        if wire::classify(&f) == Incoming::ProbePong {
            break;
        }
    }
    ws.send(Message::text(wire::UPGRADE)).await?;
    Ok(ws)
}

async fn polling_get(http: &reqwest::Client, url: &str) -> Result<String> {
    let resp = tokio::time::timeout(STEP_TIMEOUT, http.get(url).send())
        .await
        .map_err(|_| BenchError::Timeout("a polling GET"))??;
    if !resp.status().is_success() {
        return Err(protocol(format!("polling GET answered {}", resp.status())));
    }
    Ok(resp.text().await?)
}

/// Joins the conversation's room; waits for `joined:conversation`.
pub async fn join(ws: &mut Ws, conversation_id: &str) -> Result<()> {
    ws.send(Message::text(wire::join_frame(conversation_id)))
        .await?;
    loop {
        let f = next_text(ws).await?;
        match wire::classify(&f) {
            Incoming::Event {
                name: "joined:conversation",
                ..
            } => return Ok(()),
            Incoming::Event {
                name: "exception",
                rest,
            } => return Err(protocol(format!("join refused: {}", wire::clip(rest)))),
            _ => {}
        }
    }
}

/// What a session task is told to do.
#[derive(Debug)]
pub enum Out {
    Frame(String),
    Close,
}

pub type Outbox = mpsc::UnboundedSender<Out>;

/// Runs a joined socket on the current `LocalSet`: sends the frames it is
/// given, answers pings, reports deliveries, exceptions and failures.
pub fn spawn_session(mut ws: Ws, socket: usize, tracker: Rc<RefCell<Tracker>>) -> Outbox {
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    tokio::task::spawn_local(async move {
        let failed = loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Out::Frame(f)) => {
                        if ws.feed(Message::text(f)).await.is_err() { break true; }
                        // Whatever else is queued goes in the same flush.
                        let mut closing = false;
                        while let Ok(more) = rx.try_recv() {
                            match more {
                                Out::Frame(f) => if ws.feed(Message::text(f)).await.is_err() { closing = true; break; },
                                Out::Close => { closing = true; break; }
                            }
                        }
                        if ws.flush().await.is_err() { break true; }
                        if closing { let _ = ws.close(None).await; break false; }
                    }
                    Some(Out::Close) | None => { let _ = ws.close(None).await; break false; }
                },
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        let t = t.as_str();
                        match wire::classify(t) {
                            Incoming::Ping if ws.send(Message::text(wire::PONG)).await.is_err() => break true,
                            Incoming::Event { name: "new:message", rest } => {
                                let now = Instant::now();
                                let mut tr = tracker.borrow_mut();
                                match wire::find_marker(rest) {
                                    Some(m) => tr.delivered(socket, m, now),
                                    None => tr.counts.misdelivered += 1,
                                }
                            }
                            Incoming::Event { name: "exception", rest } => {
                                tracker.borrow_mut().exception(rest);
                            }
                            _ => {}
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break true,
                    Some(Ok(_)) => {}
                },
            }
        };
        if failed {
            tracker.borrow_mut().conn_error();
        }
    });
    tx
}
