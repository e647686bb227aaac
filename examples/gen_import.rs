//! Writes a generated history in confab's import format (docs/import.md)
//! to stdout, for `confab import -` and its speed figures:
//!
//! ```text
//! cargo run --release --example gen_import -- [MESSAGES] [SHAPE] > history.ndjson
//! ```
//!
//! MESSAGES (default 1000000) are spread over conversations of 1,000
//! messages between 200 users, every conversation with a read watermark
//! for each member part-way. SHAPE names the conversations and messages as
//! a source would: `numbers` (relational chat headers, Syarah-style),
//! `objectids` (Mongo, V Chat / Voxora-style), `uuids` (Dozaar-style) or
//! `mixed` (the default: a third of each).

use std::io::{BufWriter, Write};

const USERS: u64 = 200;
const PER_CONVERSATION: u64 = 1000;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let messages: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let shape = args.next().unwrap_or_else(|| "mixed".into());
    let out = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, out.lock());
    let t0: u64 = 1_600_000_000_000;
    for u in 0..USERS {
        writeln!(
            out,
            r#"{{"type":"user","id":"user{u}","name":"User {u}","email":"user{u}@example.org","createdAt":{t0}}}"#
        )?;
    }
    let conversations = messages.div_ceil(PER_CONVERSATION);
    let mut message_no: u64 = 0;
    for c in 0..conversations {
        let shape = match shape.as_str() {
            "mixed" => ["numbers", "objectids", "uuids"][(c % 3) as usize],
            s => s,
        };
        let conv_id = id(shape, 1 + c, 0xc0);
        let (a, b) = (c % USERS, (c * 7 + 1) % USERS);
        let b = if a == b { (b + 1) % USERS } else { b };
        let kind = if c % 4 == 0 { "group" } else { "direct" };
        let third = (c * 13 + 5) % USERS;
        let members = if kind == "group" && third != a && third != b {
            format!(
                r#"[{{"userId":"user{a}","role":"owner"}},{{"userId":"user{b}"}},{{"userId":"user{third}"}}]"#
            )
        } else if kind == "group" {
            format!(r#"[{{"userId":"user{a}","role":"owner"}},{{"userId":"user{b}"}}]"#)
        } else {
            format!(r#"[{{"userId":"user{a}"}},{{"userId":"user{b}"}}]"#)
        };
        let title = if kind == "group" {
            format!(r#""Group {c}""#)
        } else {
            "null".into()
        };
        writeln!(
            out,
            r#"{{"type":"conversation","id":{conv_id},"kind":"{kind}","title":{title},"createdBy":"user{a}","createdAt":{t0},"members":{members}}}"#
        )?;
        let n = PER_CONVERSATION.min(messages - message_no);
        let mut last_id = String::new();
        let mut half_id = String::new();
        for i in 0..n {
            message_no += 1;
            let mid = id(shape, message_no, 0x3e);
            let sender = if i % 2 == 0 { a } else { b };
            let at = t0 + c * 10_000_000 + i * 1000;
            writeln!(
                out,
                r#"{{"type":"message","id":{mid},"conversation":{conv_id},"sender":"user{sender}","createdAt":{at},"text":"message {i} of conversation {c}: some words of history"}}"#
            )?;
            if i == n / 2 {
                half_id = mid.clone();
            }
            last_id = mid;
        }
        if n > 0 {
            writeln!(
                out,
                r#"{{"type":"read","conversation":{conv_id},"userId":"user{a}","upTo":{last_id}}}"#
            )?;
            writeln!(
                out,
                r#"{{"type":"read","conversation":{conv_id},"userId":"user{b}","upTo":{half_id}}}"#
            )?;
        }
    }
    out.flush()
}

/// The JSON of the `n`th id of a shape.
fn id(shape: &str, n: u64, salt: u64) -> String {
    match shape {
        "numbers" => n.to_string(),
        "uuids" => format!(r#""{:08x}-0000-4000-8000-{:012x}""#, salt, n),
        _ => format!(r#""{:08x}{:016x}""#, 0x64b7_0000_u64 + salt, n),
    }
}
