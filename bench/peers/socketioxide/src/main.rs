//! The benchmark's library floor, "socketioxide alone": socketioxide (the
//! version and features confab uses) with axum, answering the part of the
//! Dozaar dialect the generator drives, and nothing else. A `/chat` CONNECT
//! must carry a `{token}` (never verified); `join:conversation` joins the
//! room and answers `joined:conversation`; `send:message` emits
//! `new:message` (confab's payload shape) to the room, the sender's socket
//! included. No store, no membership or token check, no presence, receipts
//! or rate limit; the two REST setup routes answer a fresh uuid.
//!
//! The engine is configured as confab configures it (ping 25 s / 60 s, a
//! 1 KiB WebSocket read buffer, 1,024 packets buffered per socket, 64 KiB
//! payloads, TCP_NODELAY) and the allocator is confab's (mimalloc), so what
//! confab spends beyond this server is confab's own work.
//!
//!     socketioxide-alone --port N

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::post;
use axum::serve::ListenerExt;
use serde::{Deserialize, Serialize};
use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef};
use socketioxide::handler::ConnectHandler;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Numbers messages and conversations (ids and `seq`).
static NEXT: AtomicU64 = AtomicU64::new(1);

fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The CONNECT's auth object: a token must be there; it is not checked.
#[derive(Deserialize)]
struct Auth {
    #[allow(dead_code)]
    token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Join {
    conversation_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Joined<'a> {
    conversation_id: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Send {
    conversation_id: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sender<'a> {
    id: &'a str,
    username: &'a str,
    display_name: &'a str,
    avatar_url: Option<&'a str>,
}

/// `new:message` in confab's Dozaar shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewMessage<'a> {
    id: String,
    conversation_id: &'a str,
    sender_id: &'a str,
    message: Option<&'a str>,
    attachment_urls: [&'a str; 0],
    client_id: Option<&'a str>,
    seq: u64,
    created_at: &'a str,
    updated_at: &'a str,
    edited_at: Option<&'a str>,
    deleted_at: Option<&'a str>,
    sender: Sender<'a>,
}

/// The token must be present.
async fn token_present(Data(_auth): Data<Auth>) -> Result<(), &'static str> {
    Ok(())
}

/// A connected `/chat` socket: its two events.
async fn on_connect(s: SocketRef) {
    // Who the socket is: the token is not read, so its socket id.
    let me: Arc<str> = s.id.to_string().into();
    s.on(
        "join:conversation",
        async |s: SocketRef, Data(j): Data<Join>| {
            s.join(j.conversation_id.clone());
            let answer = Joined {
                conversation_id: &j.conversation_id,
            };
            let _ = s.emit("joined:conversation", &answer);
        },
    );
    s.on(
        "send:message",
        async move |s: SocketRef, Data(m): Data<Send>| {
            let n = next();
            let now = iso8601_now();
            let message = NewMessage {
                id: format!("00000000-0000-7000-8000-{n:012x}"),
                conversation_id: &m.conversation_id,
                sender_id: &me,
                message: m.message.as_deref(),
                attachment_urls: [],
                client_id: m.client_id.as_deref(),
                seq: n,
                created_at: &now,
                updated_at: &now,
                edited_at: None,
                deleted_at: None,
                sender: Sender {
                    id: &me,
                    username: &me,
                    display_name: &me,
                    avatar_url: None,
                },
            };
            let _ = s
                .within(m.conversation_id.clone())
                .emit("new:message", &message)
                .await;
        },
    );
}

/// `POST /api/conversations` and `…/{uuid}/members`: a uuid, nothing kept.
async fn create_conversation() -> (StatusCode, String) {
    let n = next();
    (
        StatusCode::CREATED,
        format!(r#"{{"uuid":"00000000-0000-4000-8000-{n:012x}"}}"#),
    )
}

async fn add_member(Path(uuid): Path<String>) -> (StatusCode, String) {
    (StatusCode::CREATED, format!(r#"{{"uuid":"{uuid}"}}"#))
}

/// Now as `2026-01-02T03:04:05.678Z`.
fn iso8601_now() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    iso8601(ms)
}

/// Milliseconds since the epoch as ISO 8601 in UTC.
fn iso8601(ms: u64) -> String {
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

/// The port of `--port N` (3001 without one).
fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = 3001;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                let v = args.next().ok_or("--port needs a value")?;
                port = v.parse().map_err(|_| format!("bad port {v}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(port)
}

#[tokio::main]
async fn main() {
    let port = match port() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("socketioxide-alone: {e}\nusage: socketioxide-alone --port N");
            std::process::exit(2);
        }
    };
    let (layer, io) = SocketIo::builder()
        .ping_interval(Duration::from_secs(25))
        .ping_timeout(Duration::from_secs(60))
        .max_payload(65_536)
        .max_buffer_size(1_024)
        .ws_max_message_size(65_536)
        .ws_read_buffer_size(1_024)
        .build_layer();
    io.ns("/chat", on_connect.with(token_present));
    let app = Router::new()
        .route("/api/conversations", post(create_conversation))
        .route("/api/conversations/{uuid}/members", post(add_member))
        .layer(layer);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("socketioxide-alone: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("socketioxide-alone: listening on http://{addr}");
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("socketioxide-alone: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601_utc_with_milliseconds() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_767_323_045_678), "2026-01-02T03:04:05.678Z");
    }

    #[test]
    fn the_new_message_payload_has_confabs_shape() {
        let m = NewMessage {
            id: "i".into(),
            conversation_id: "c",
            sender_id: "s",
            message: Some("bm:1:2:3:4"),
            attachment_urls: [],
            client_id: None,
            seq: 7,
            created_at: "t",
            updated_at: "t",
            edited_at: None,
            deleted_at: None,
            sender: Sender {
                id: "s",
                username: "s",
                display_name: "s",
                avatar_url: None,
            },
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["conversationId"], "c");
        assert_eq!(v["message"], "bm:1:2:3:4");
        assert_eq!(v["attachmentUrls"], serde_json::json!([]));
        assert!(v["clientId"].is_null());
        assert_eq!(v["sender"]["displayName"], "s");
    }
}
