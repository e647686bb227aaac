//! The cases of the store contract, by area, each an `async fn(DynStore)`,
//! and the rows they build.

mod accounts;
mod conversations;
mod departments;
mod devices;
mod friendships;
mod import;
mod lookups;
mod messages;
mod sync;
mod users;

pub use accounts::*;
pub use conversations::*;
pub use departments::*;
pub use devices::*;
pub use friendships::*;
pub use import::*;
pub use lookups::*;
pub use messages::*;
pub use sync::*;
pub use users::*;

use confab::core::{Message, MessageKind, Millis, NewMessage, Page, Profile, UserId};
use confab::store::{DynStore, Inserted};

use crate::helpers::user_id;

pub fn profile(name: Option<&str>, avatar: Option<&str>, email: Option<&str>) -> Profile {
    Profile {
        display_name: name.map(str::to_owned),
        avatar_url: avatar.map(str::to_owned),
        email: email.map(str::to_owned),
    }
}

pub fn text(conversation_id: i64, sender: &UserId, body: &str, at: Millis) -> NewMessage {
    NewMessage {
        conversation_id,
        sender_id: sender.clone(),
        kind: MessageKind::Text,
        declared_kind: None,
        text: Some(body.to_owned()),
        attachments: Vec::new(),
        client_id: None,
        created_at: at,
    }
}

pub fn with_client_id(mut m: NewMessage, client_id: &str) -> NewMessage {
    m.client_id = Some(client_id.to_owned());
    m
}

pub async fn send(s: &DynStore, m: NewMessage) -> Message {
    match s.insert_message(m).await.expect("insert message") {
        Inserted::New(m) => m,
        Inserted::Duplicate(m) => panic!("unexpected duplicate {m:?}"),
    }
}

pub async fn users(s: &DynStore, ids: &[&str]) -> Vec<UserId> {
    let ids: Vec<UserId> = ids.iter().map(|i| user_id(i)).collect();
    for id in &ids {
        s.upsert_user(id, &Profile::default(), 1)
            .await
            .expect("upsert");
    }
    ids
}

pub async fn group(s: &DynStore, creator: &UserId, members: &[UserId], at: Millis) -> i64 {
    s.create_group(creator, Some("group"), members, at)
        .await
        .expect("create group")
        .id
}

pub fn page(before_seq: Option<i64>, after_seq: Option<i64>, limit: u32) -> Page {
    Page {
        before_seq,
        after_seq,
        limit,
    }
}

pub fn seqs(ms: &[Message]) -> Vec<i64> {
    ms.iter().map(|m| m.seq).collect()
}

pub fn sorted(mut ids: Vec<UserId>) -> Vec<UserId> {
    ids.sort();
    ids
}
