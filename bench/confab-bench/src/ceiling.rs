//! The ceiling: a minimal WebSocket echo and fan-out server on confab's
//! stack (tokio, tungstenite) with no Socket.IO library and no storage. It
//! speaks just enough Engine.IO v4 / Socket.IO v5 for the generator to drive
//! it unchanged: the open packet, the `/chat` CONNECT (token checked with the
//! same HS256 secret), ping, `join:conversation` → `joined:conversation`,
//! `send:message` → `new:message` (confab's payload shape) to the room's
//! sockets, HTTP long-polling up to the upgrade, and the two REST setup
//! routes (answered with a fresh uuid; nothing is stored).
//!
//! It runs on one thread (a current-thread runtime), which is what a server
//! pinned to one core can do at best.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::error::{Result, protocol};
use crate::token::{Signer, now_secs};
use crate::wire::{self, Incoming};

const PING_INTERVAL_MS: u64 = 25_000;
const PING_TIMEOUT_MS: u64 = 60_000;
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1 << 20;

type Tx = mpsc::UnboundedSender<Message>;

#[derive(Default)]
struct Room {
    members: Vec<(u64, Tx)>,
    seq: u64,
}

/// A polling session waiting for its upgrade.
#[derive(Default)]
struct Polling {
    queue: Vec<String>,
    user: Option<String>,
}

struct State {
    signer: Signer,
    rooms: HashMap<String, Room>,
    polling: HashMap<String, Polling>,
    next_id: u64,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

type Shared = Rc<RefCell<State>>;

/// Serves until the process is killed.
pub async fn serve(port: u16, secret: &str) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("ceiling: listening on http://{}", listener.local_addr()?);
    let state: Shared = Rc::new(RefCell::new(State {
        signer: Signer::new(secret),
        rooms: HashMap::new(),
        polling: HashMap::new(),
        next_id: 0,
    }));
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::task::spawn_local(async move {
            let _ = connection(stream, state).await;
        });
    }
}

/// One HTTP request head (and body).
struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    ws_key: Option<String>,
    authorization: Option<String>,
    close: bool,
    body: Vec<u8>,
}

async fn read_request(r: &mut BufReader<TcpStream>) -> Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let n = r.read_until(b'\n', &mut head).await?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(protocol("truncated request"))
            };
        }
        if head.ends_with(b"\r\n\r\n") || head == b"\r\n" {
            break;
        }
        if head.len() > MAX_HEAD {
            return Err(protocol("request head too large"));
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("/");
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    let query = q
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let mut req = Request {
        method,
        path: path.to_owned(),
        query,
        ws_key: None,
        authorization: None,
        close: false,
        body: Vec::new(),
    };
    let mut len = 0usize;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => len = v.parse().map_err(|_| protocol("bad content-length"))?,
            "sec-websocket-key" => req.ws_key = Some(v.to_owned()),
            "authorization" => req.authorization = Some(v.to_owned()),
            "connection" => req.close = v.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    if len > MAX_BODY {
        return Err(protocol("body too large"));
    }
    req.body = vec![0; len];
    r.read_exact(&mut req.body).await?;
    Ok(Some(req))
}

async fn respond(
    w: &mut BufReader<TcpStream>,
    status: &str,
    ctype: &str,
    body: &str,
) -> Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let s = w.get_mut();
    s.write_all(head.as_bytes()).await?;
    s.write_all(body.as_bytes()).await?;
    Ok(())
}

async fn connection(stream: TcpStream, state: Shared) -> Result<()> {
    let mut r = BufReader::new(stream);
    while let Some(req) = read_request(&mut r).await? {
        if req.path.starts_with("/socket.io") {
            if let Some(key) = req.ws_key.clone() {
                if !r.buffer().is_empty() {
                    return Err(protocol("data before the upgrade answer"));
                }
                let mut stream = r.into_inner();
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {}\r\n\r\n",
                    derive_accept_key(key.as_bytes())
                );
                stream.write_all(answer.as_bytes()).await?;
                let config = crate::conn::ws_config();
                let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
                let sid = req.query.get("sid").cloned();
                return websocket(ws, state, sid).await;
            }
            let body = polling(&req, &state);
            respond(&mut r, "200 OK", "text/plain; charset=UTF-8", &body).await?;
        } else if req.method == "POST" && req.path.starts_with("/api/conversations") {
            let authorized = req
                .authorization
                .as_deref()
                .is_some_and(|a| state.borrow().signer.verify(a, now_secs()).is_ok());
            if !authorized {
                respond(
                    &mut r,
                    "401 Unauthorized",
                    "application/json",
                    r#"{"error":{"code":"UNAUTHORIZED"}}"#,
                )
                .await?;
            } else {
                let uuid = match req.path.strip_prefix("/api/conversations/") {
                    Some(rest) => rest.split('/').next().unwrap_or("").to_owned(),
                    None => {
                        let n = state.borrow_mut().id();
                        format!("00000000-0000-4000-8000-{n:012x}")
                    }
                };
                respond(
                    &mut r,
                    "201 Created",
                    "application/json",
                    &format!(r#"{{"uuid":"{uuid}"}}"#),
                )
                .await?;
            }
        } else {
            respond(&mut r, "404 Not Found", "text/plain", "not found").await?;
        }
        if req.close {
            break;
        }
    }
    Ok(())
}

/// One long-polling request: open, send packets, or fetch what is queued.
fn polling(req: &Request, state: &Shared) -> String {
    let mut st = state.borrow_mut();
    let Some(sid) = req.query.get("sid") else {
        let sid = format!("p{}", st.id());
        st.polling.insert(sid.clone(), Polling::default());
        return wire::open_packet(&sid, PING_INTERVAL_MS, PING_TIMEOUT_MS, true);
    };
    let sid = sid.clone();
    if req.method == "POST" {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        for p in wire::split_polling(&body) {
            if let Some(auth) = p.strip_prefix("40/chat,") {
                let answer = match connect_auth(&st.signer, auth) {
                    Ok(user) => {
                        if let Some(s) = st.polling.get_mut(&sid) {
                            s.user = Some(user);
                        }
                        format!("40/chat,{{\"sid\":\"{sid}\"}}")
                    }
                    Err(e) => format!("44/chat,{{\"message\":\"{e}\"}}"),
                };
                if let Some(s) = st.polling.get_mut(&sid) {
                    s.queue.push(answer);
                }
            }
        }
        return "ok".into();
    }
    match st.polling.get_mut(&sid) {
        Some(s) if !s.queue.is_empty() => s.queue.drain(..).collect::<Vec<_>>().join("\u{1e}"),
        Some(_) => "6".into(),
        None => "1".into(),
    }
}

/// The user of a CONNECT packet's `{token}`.
fn connect_auth(signer: &Signer, json: &str) -> Result<String> {
    let v: serde_json::Value = serde_json::from_str(json)?;
    let token = v["token"]
        .as_str()
        .ok_or_else(|| protocol("missing token"))?;
    signer.verify(token, now_secs())
}

async fn websocket(
    mut ws: WebSocketStream<TcpStream>,
    state: Shared,
    sid: Option<String>,
) -> Result<()> {
    let conn_id = state.borrow_mut().id();
    let mut user: Option<String> = None;
    match &sid {
        Some(sid) => {
            // An upgrade: the polling session's user carries over.
            user = state.borrow_mut().polling.remove(sid).and_then(|p| p.user);
        }
        None => {
            let sid = format!("w{conn_id}");
            ws.send(Message::text(wire::open_packet(
                &sid,
                PING_INTERVAL_MS,
                PING_TIMEOUT_MS,
                false,
            )))
            .await?;
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let mut joined: Vec<String> = Vec::new();
    let mut ping = tokio::time::interval(Duration::from_millis(PING_INTERVAL_MS));
    ping.tick().await;
    let result = loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(first) = out else { break Ok(()) };
                if let Err(e) = ws.feed(first).await { break Err(e.into()); }
                while let Ok(m) = rx.try_recv() {
                    if ws.feed(m).await.is_err() { break; }
                }
                if let Err(e) = ws.flush().await { break Err(e.into()); }
            }
            _ = ping.tick() => {
                if let Err(e) = ws.send(Message::text(wire::PING)).await { break Err(e.into()); }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if let Err(e) = packet(t, &state, &mut user, conn_id, &tx, &mut joined, &mut ws).await {
                        break Err(e);
                    }
                }
                Some(Ok(Message::Close(_))) | None => break Ok(()),
                Some(Err(e)) => break Err(e.into()),
                Some(Ok(_)) => {}
            },
        }
    };
    let mut st = state.borrow_mut();
    for room in joined {
        if let Some(r) = st.rooms.get_mut(&room) {
            r.members.retain(|(id, _)| *id != conn_id);
            if r.members.is_empty() {
                st.rooms.remove(&room);
            }
        }
    }
    result
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventPayload {
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

async fn packet(
    t: &str,
    state: &Shared,
    user: &mut Option<String>,
    conn_id: u64,
    tx: &Tx,
    joined: &mut Vec<String>,
    ws: &mut WebSocketStream<TcpStream>,
) -> Result<()> {
    if t == wire::PONG || t == wire::UPGRADE {
        return Ok(());
    }
    if t == wire::PROBE_PING {
        ws.send(Message::text(wire::PROBE_PONG)).await?;
        return Ok(());
    }
    if let Some(auth) = t.strip_prefix("40/chat,") {
        let answer = match connect_auth(&state.borrow().signer, auth) {
            Ok(u) => {
                *user = Some(u);
                format!("40/chat,{{\"sid\":\"c{conn_id}\"}}")
            }
            Err(e) => format!("44/chat,{{\"message\":\"{e}\"}}"),
        };
        ws.send(Message::text(answer)).await?;
        return Ok(());
    }
    let Incoming::Event { name, rest } = wire::classify(t) else {
        return Ok(());
    };
    let Some(me) = user.clone() else {
        return Ok(());
    };
    // `rest` is `,{payload}]`.
    let json = rest
        .strip_prefix(',')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or("{}");
    let Ok(p) = serde_json::from_str::<EventPayload>(json) else {
        return exception(ws, name, "invalid payload").await;
    };
    let Some(conv) = p.conversation_id else {
        return exception(ws, name, "conversationId required").await;
    };
    match name {
        "join:conversation" => {
            state
                .borrow_mut()
                .rooms
                .entry(conv.clone())
                .or_default()
                .members
                .push((conn_id, tx.clone()));
            joined.push(conv.clone());
            let f = wire::event_frame(
                "joined:conversation",
                &format!("{{\"conversationId\":\"{}\"}}", wire::json_escape(&conv)),
            );
            ws.send(Message::text(f)).await?;
        }
        "send:message" => {
            let sent = {
                let mut st = state.borrow_mut();
                let id = st.id();
                match st.rooms.get_mut(&conv) {
                    Some(room) => {
                        room.seq += 1;
                        let payload = new_message(
                            id,
                            &conv,
                            &me,
                            p.message.as_deref(),
                            p.client_id.as_deref(),
                            room.seq,
                        );
                        let msg = Message::text(wire::event_frame("new:message", &payload));
                        for (_, member) in &room.members {
                            let _ = member.send(msg.clone());
                        }
                        true
                    }
                    None => false,
                }
            };
            if !sent {
                return exception(ws, name, "not joined").await;
            }
        }
        _ => {}
    }
    Ok(())
}

async fn exception(ws: &mut WebSocketStream<TcpStream>, event: &str, error: &str) -> Result<()> {
    let f = wire::event_frame(
        "exception",
        &format!("{{\"event\":\"{event}\",\"error\":\"{error}\",\"code\":\"INVALID_PAYLOAD\"}}"),
    );
    ws.send(Message::text(f)).await?;
    Ok(())
}

/// A `new:message` payload in confab's shape.
fn new_message(
    id: u64,
    conv: &str,
    sender: &str,
    text: Option<&str>,
    client_id: Option<&str>,
    seq: u64,
) -> String {
    let js = |s: Option<&str>| match s {
        Some(s) => serde_json::Value::String(s.to_owned()).to_string(),
        None => "null".to_owned(),
    };
    let now = iso8601_now();
    let sender_js = js(Some(sender));
    format!(
        "{{\"id\":\"00000000-0000-7000-8000-{id:012x}\",\"conversationId\":{},\"senderId\":{sender_js},\"message\":{},\"attachmentUrls\":[],\"clientId\":{},\"seq\":{seq},\"createdAt\":\"{now}\",\"updatedAt\":\"{now}\",\"editedAt\":null,\"deletedAt\":null,\"sender\":{{\"id\":{sender_js},\"username\":{sender_js},\"displayName\":{sender_js},\"avatarUrl\":null}}}}",
        js(Some(conv)),
        js(text),
        js(client_id),
    )
}

/// Now as `2026-01-02T03:04:05.678Z`.
pub fn iso8601_now() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    iso8601(ms)
}

/// Milliseconds since the epoch as ISO 8601 in UTC.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601_utc_with_milliseconds() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_767_323_045_678), "2026-01-02T03:04:05.678Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn the_new_message_payload_has_confabs_shape() {
        let p = new_message(1, "c", "alice", Some("bm:1:2:3:4"), None, 7);
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(v["message"], "bm:1:2:3:4");
        assert_eq!(v["seq"], 7);
        assert_eq!(v["sender"]["id"], "alice");
        assert!(v["clientId"].is_null());
        assert_eq!(wire::find_marker(&p).unwrap().t_ns, 4);
    }
}
