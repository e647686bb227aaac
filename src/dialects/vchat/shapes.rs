//! The JSON shapes of V Chat's messages and rooms, shared by its sockets
//! and its REST API (`crate::http::vchat`), as the V Chat Flutter SDK v1
//! parses them (`VChatRoom.fromMap`, `VChatMessage.fromMap`,
//! `VChatGroupChatInfo.fromMap`, `VChatMessageAttachment.fromMap`).
//!
//! File names are relative: the SDK puts `/api/v1/public/messages/` in
//! front of an attachment's `imageUrl`/`playUrl` (the fields of
//! `messageAttachment` are [`super::attachment`]'s) and
//! `/api/v1/public/profile/` in front of a picture (`thumbImage`,
//! `senderImageThumb`, `imageThumb`), and confab serves its uploads under
//! both paths, next to the default pictures.

use serde_json::{Value, json};

use super::attachment::{UPLOADS, attachment_json};

use crate::core::views::{ConversationView, HistoryPage};
use crate::core::{
    Conversation, ConversationKind, DeliveryStatus, FriendshipStatus, Message, MessageKind, User,
    UserId,
};

/// Where a user has no picture.
pub const DEFAULT_USER_IMAGE: &str = "default_user_image.png";
/// Where a group has no picture.
pub const DEFAULT_GROUP_IMAGE: &str = "default_group_image.png";
/// The `_id` of the stand-in `lastMessage` of a room without messages (no
/// message has it: ids start at 1).
pub const NO_MESSAGE_ID: &str = "0";

/// A picture as the SDK asks for it under `/api/v1/public/profile/`: the
/// key of a confab upload, else [`DEFAULT_USER_IMAGE`] (the SDK cannot show
/// a picture from elsewhere: it prefixes its own base path).
pub fn profile_image(avatar: Option<&str>) -> String {
    avatar
        .and_then(|a| a.strip_prefix(UPLOADS))
        .unwrap_or(DEFAULT_USER_IMAGE)
        .to_owned()
}

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
        .map(|a| attachment_json(m.kind, a));
    let kind = if deleted {
        "text"
    } else {
        message_type(m.kind)
    };
    json!({
        "_id": m.string_id(),
        "messageType": kind,
        "messageAttachment": attachment,
        "createdAt": m.created_at,
        "content": if deleted { "" } else { m.text.as_deref().unwrap_or("") },
        "senderId": m.sender_id,
        "senderName": sender_name,
        "senderImageThumb": profile_image(sender_image),
        "roomId": m.conversation_string_id(),
    })
}

/// The `lastMessage` of a room without messages (the SDK needs one): from
/// its creator at its creation, `create` for a group (the SDK shows "… created
/// the group"), an empty text for a single room, with the id
/// [`NO_MESSAGE_ID`].
fn no_message_json(c: &Conversation, creator: Option<&User>) -> Value {
    json!({
        "_id": NO_MESSAGE_ID,
        "messageType": match c.kind {
            ConversationKind::Direct => "text",
            ConversationKind::Group => "create",
        },
        "messageAttachment": null,
        "createdAt": c.created_at,
        "content": "",
        "senderId": c.created_by,
        "senderName": creator.map_or(c.created_by.as_str(), User::name),
        "senderImageThumb": profile_image(creator.and_then(|u| u.avatar_url.as_deref())),
        "roomId": c.string_id(),
    })
}

/// A room as `me` sees it: every field of the seed's room object, as the
/// SDK parses it.
pub fn room_json(view: &ConversationView, me: &UserId) -> Value {
    let summary = &view.summary;
    let c = &summary.conversation;
    let peer = view.peer(me);
    let mine = summary.members.iter().find(|m| &m.user_id == me);
    let last = summary.last_message.as_ref();
    let last_json = match last {
        Some(m) => {
            let sender = view.user(&m.sender_id);
            message_json(
                m,
                sender.map_or(m.sender_id.as_str(), |u| u.name()),
                sender.and_then(|u| u.avatar_url.as_deref()),
            )
        }
        None => no_message_json(c, view.user(&c.created_by)),
    };
    let peer_read = last.is_some_and(|m| {
        &m.sender_id == me && DeliveryStatus::of(m, &summary.members) == DeliveryStatus::Read
    });
    let blocker = view
        .friendship
        .as_ref()
        .filter(|f| f.status == FriendshipStatus::Blocked)
        .and_then(|f| f.blocked_by.clone());
    let single = c.kind == ConversationKind::Direct;
    let title = match peer {
        Some(p) => p.name().to_owned(),
        None => c.title.clone().unwrap_or_default(),
    };
    json!({
        "_id": c.string_id(),
        "roomType": if single { "single" } else { "group" },
        "creatorId": c.created_by,
        "updatedAt": c.updated_at,
        "title": title,
        "thumbImage": match peer {
            Some(p) => profile_image(p.avatar_url.as_deref()),
            None if single => DEFAULT_USER_IMAGE.to_owned(),
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
        // `VChatGroupChatInfo.fromMap`: `role` is the caller's.
        "groupSetting": (!single).then(|| json!({
            "name": title,
            "imageThumb": DEFAULT_GROUP_IMAGE,
            "roomMembersCount": summary.members.len(),
            "role": if mine.is_some_and(|m| m.role.can_moderate()) { "admin" } else { "member" },
            "isGroupCreator": &c.created_by == me,
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
