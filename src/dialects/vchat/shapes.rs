//! The JSON shapes of V Chat's messages and rooms, shared by its sockets
//! and its REST API (`crate::http::vchat`).

use serde_json::{Value, json};

use crate::core::views::{ConversationView, HistoryPage};
use crate::core::{
    ConversationKind, DeliveryStatus, FriendshipStatus, Message, MessageKind, UserId,
};

/// Where a user has no picture.
pub const DEFAULT_USER_IMAGE: &str = "default_user_image.png";
/// Where a group has no picture.
const DEFAULT_GROUP_IMAGE: &str = "default_group_image.png";

/// `messageType` of a message kind.
fn message_type(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Text => "text",
        MessageKind::Image => "image",
        MessageKind::Audio => "voice",
        MessageKind::Video => "video",
        MessageKind::File => "file",
    }
}

/// A message as V Chat shows it, with its sender's name and picture.
pub fn message_json(m: &Message, sender_name: &str, sender_image: Option<&str>) -> Value {
    let deleted = m.deleted_at.is_some();
    let attachment = m
        .attachments
        .first()
        .filter(|_| !deleted)
        .map(|a| json!({ "url": a.url, "type": message_type(m.kind) }));
    let kind = if deleted {
        "text"
    } else {
        message_type(m.kind)
    };
    json!({
        "_id": m.id.to_string(),
        "messageType": kind,
        "messageAttachment": attachment,
        "createdAt": m.created_at,
        "content": if deleted { "" } else { m.text.as_deref().unwrap_or("") },
        "senderId": m.sender_id,
        "senderName": sender_name,
        "senderImageThumb": sender_image.unwrap_or(DEFAULT_USER_IMAGE),
        "roomId": m.conversation_id.to_string(),
    })
}

/// A room as `me` sees it: every field of the seed's room object.
pub fn room_json(view: &ConversationView, me: &UserId) -> Value {
    let summary = &view.summary;
    let c = &summary.conversation;
    let peer = view.peer(me);
    let mine = summary.members.iter().find(|m| &m.user_id == me);
    let last = summary.last_message.as_ref();
    let last_json = last.map(|m| {
        let sender = view.user(&m.sender_id);
        message_json(
            m,
            sender.map_or(m.sender_id.as_str(), |u| u.name()),
            sender.and_then(|u| u.avatar_url.as_deref()),
        )
    });
    let peer_read = last.is_some_and(|m| {
        &m.sender_id == me && DeliveryStatus::of(m, &summary.members) == DeliveryStatus::Read
    });
    let blocker = view
        .friendship
        .as_ref()
        .filter(|f| f.status == FriendshipStatus::Blocked)
        .and_then(|f| f.blocked_by.clone());
    let single = c.kind == ConversationKind::Direct;
    json!({
        "_id": c.id.to_string(),
        "roomType": if single { "single" } else { "group" },
        "creatorId": c.created_by,
        "updatedAt": c.updated_at,
        "title": match peer {
            Some(p) => p.name().to_owned(),
            None => c.title.clone().unwrap_or_default(),
        },
        "thumbImage": match peer {
            Some(p) => p.avatar_url.clone().unwrap_or_else(|| DEFAULT_USER_IMAGE.to_owned()),
            None => DEFAULT_GROUP_IMAGE.to_owned(),
        },
        "peerId": peer.map(|p| &p.id),
        "peerEmail": peer.and_then(|p| p.email.clone().or_else(|| p.username.clone())),
        "isOnline": i32::from(peer.is_some_and(|p| view.is_online(&p.id))),
        "lastMessage": last_json,
        "ifPeerReadMyLastMessage": i32::from(peer_read),
        "unReadCount": summary.unread_count,
        "roomMembersCount": summary.members.len(),
        "isMute": i32::from(mine.is_some_and(|m| m.muted)),
        "blockerId": blocker,
        "groupSetting": (!single).then(|| json!({
            "creatorId": c.created_by,
            "title": c.title,
            "membersCount": summary.members.len(),
        })),
    })
}

/// A page of history as the SDK lists it: newest first.
pub fn page_json(page: &HistoryPage) -> Value {
    let items: Vec<Value> = page
        .messages
        .iter()
        .rev()
        .map(|m| {
            let sender = page.senders.iter().find(|u| u.id == m.sender_id);
            message_json(
                m,
                sender.map_or(m.sender_id.as_str(), |u| u.name()),
                sender.and_then(|u| u.avatar_url.as_deref()),
            )
        })
        .collect();
    Value::Array(items)
}
