//! The Socket.IO v2 protocol (Engine.IO 3) on the wire: raw long-polling
//! requests with `EIO=3` against the real server, packet by packet, next to
//! the v3/v4 protocol (`EIO=4`) on the same listener. The official 2.x client
//! drives every dialect in `e2e/protocol-v2.test.mjs`; this pins the packets.

use serde_json::Value;

use crate::helpers::{TestServer, spawn_server, spawn_server_with};

/// One Engine.IO session over long-polling, as a v2 (`EIO=3`) or v3/v4
/// (`EIO=4`) client opens it; `b64=1` keeps v3 payloads text.
struct Polling {
    http: reqwest::Client,
    url: String,
    sid: String,
    /// The open packet's data.
    open: Value,
    /// Packets that came with the open packet.
    pending: Vec<String>,
}

impl Polling {
    async fn open(base: &str, eio: u8, query: &str) -> Polling {
        let http = reqwest::Client::new();
        let url = format!("{base}/socket.io/?EIO={eio}&transport=polling&b64=1{query}");
        let res = http.get(&url).send().await.expect("handshake");
        assert_eq!(res.status(), 200, "handshake of EIO={eio}");
        let mut packets = decode(eio, &res.text().await.expect("body"));
        let open = packets.remove(0);
        let open: Value = serde_json::from_str(open.strip_prefix('0').expect("an open packet"))
            .expect("open data");
        let sid = open["sid"].as_str().expect("sid").to_owned();
        Polling {
            http,
            url: format!("{url}&sid={sid}"),
            sid,
            open,
            pending: packets,
        }
    }

    fn eio(&self) -> u8 {
        if self.url.contains("EIO=3") { 3 } else { 4 }
    }

    /// Sends Engine.IO packets (`4…` is a message) in one POST.
    async fn send(&self, packets: &[&str]) -> reqwest::StatusCode {
        let body = match self.eio() {
            3 => packets
                .iter()
                .map(|p| format!("{}:{p}", p.encode_utf16().count()))
                .collect::<String>(),
            _ => packets.join("\u{1e}"),
        };
        let res = self.http.post(&self.url).body(body).send().await;
        res.expect("post").status()
    }

    /// The next packet the server sends, waiting for it if need be.
    async fn next(&mut self) -> String {
        while self.pending.is_empty() {
            let res = self.http.get(&self.url).send().await.expect("poll");
            assert_eq!(res.status(), 200, "poll of {}", self.sid);
            let text = res.text().await.expect("body");
            self.pending = decode(self.eio(), &text);
        }
        self.pending.remove(0)
    }

    /// The next Socket.IO packet (an Engine.IO message, `4…`), skipping
    /// noops and (v3/v4: the server pings) pings.
    async fn next_message(&mut self) -> String {
        loop {
            let p = self.next().await;
            if let Some(m) = p.strip_prefix('4') {
                return m.to_owned();
            }
            let ping = self.eio() == 4 && p == "2";
            assert!(
                ping || p == "6",
                "only noops or pings between messages: {p}"
            );
        }
    }
}

/// A polling payload as its packets: `<length>:<packet>…` (v3, lengths in
/// UTF-16 units) or packets separated by `\x1e` (v4).
fn decode(eio: u8, body: &str) -> Vec<String> {
    if eio != 3 {
        return body.split('\u{1e}').map(str::to_owned).collect();
    }
    let mut out = Vec::new();
    let mut rest = body;
    while let Some((len, tail)) = rest.split_once(':') {
        let len: usize = len.parse().expect("a v3 length");
        let mut units = 0;
        let end = tail
            .char_indices()
            .find_map(|(i, c)| {
                let at = (units == len).then_some(i);
                units += c.len_utf16();
                at
            })
            .unwrap_or(tail.len());
        out.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

fn dozaar(server: &TestServer) -> String {
    server.url.clone()
}

#[tokio::test]
async fn a_v2_client_is_put_in_the_root_namespace_and_connects_to_chat_with_a_query_token() {
    let server = spawn_server_with(|c| {
        c.socket.ping_interval_secs = 7;
        c.socket.ping_timeout_secs = 11;
    })
    .await;
    let mut v2 = Polling::open(&dozaar(&server), 3, "").await;
    // The engine settings, as a v2 client reads them.
    assert_eq!(v2.open["pingInterval"], 7000);
    assert_eq!(v2.open["pingTimeout"], 11000);
    // Socket.IO v2: the server puts every connection in `/` at once.
    assert_eq!(v2.next_message().await, "0");
    // A v2 client's namespace query is its auth object.
    let token = server.token_for("alice");
    assert_eq!(v2.send(&[&format!("40/chat?token={token},")]).await, 200);
    assert_eq!(v2.next_message().await, "0/chat,", "no sid in a v2 connect");
    // An event with an acknowledgement, answered in the v2 format.
    v2.send(&[r#"42/chat,1["join:conversation",{"conversationId":"nope"}]"#])
        .await;
    let mut ack = v2.next_message().await;
    while ack.starts_with("2/chat,[\"exception\"") {
        ack = v2.next_message().await;
    }
    assert!(ack.starts_with("3/chat,1["), "{ack}");
    // A v2 client pings; the server answers.
    assert_eq!(v2.send(&["2"]).await, 200);
    assert_eq!(v2.next().await, "3");
}

#[tokio::test]
async fn a_v2_client_is_refused_with_an_error_packet_on_its_namespace() {
    let server = spawn_server().await;
    let mut v2 = Polling::open(&dozaar(&server), 3, "").await;
    assert_eq!(v2.next_message().await, "0");
    v2.send(&["40/chat?token=bad,"]).await;
    let refusal = v2.next_message().await;
    let json = refusal
        .strip_prefix("4/chat,")
        .unwrap_or_else(|| panic!("an error packet on /chat: {refusal}"));
    let data: Value = serde_json::from_str(json).expect("JSON");
    assert!(
        data["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{data}"
    );
    v2.send(&["40/chat,"]).await;
    let refusal = v2.next_message().await;
    assert!(refusal.starts_with("4/chat,{\"message\":"), "{refusal}");
    assert!(refusal.contains("token"), "{refusal}");
}

#[tokio::test]
async fn a_v3_or_v4_client_on_the_same_listener_is_served_as_before() {
    let server = spawn_server().await;
    let mut v4 = Polling::open(&dozaar(&server), 4, "").await;
    assert!(v4.open["maxPayload"].is_u64());
    assert_eq!(v4.send(&["40"]).await, 200);
    assert_eq!(
        v4.next_message().await,
        r#"4{"message":"Invalid namespace"}"#,
        "no root namespace for v3/v4 clients on Dozaar's listener"
    );
    let token = server.token_for("alice");
    v4.send(&[&format!(r#"40/chat,{{"token":"{token}"}}"#)])
        .await;
    let connect = v4.next_message().await;
    assert!(connect.starts_with("0/chat,{\"sid\":"), "{connect}");
}

#[tokio::test]
async fn a_v2_packet_over_the_payload_limit_is_refused() {
    let server = spawn_server_with(|c| c.limits.max_payload_bytes = 1_000).await;
    let v2 = Polling::open(&dozaar(&server), 3, "").await;
    let big = format!(
        r#"42/chat,["send:message",{{"message":"{}"}}]"#,
        "x".repeat(2_000)
    );
    let status = v2.send(&[&big]).await;
    assert!(status.is_client_error(), "{status}");
}
