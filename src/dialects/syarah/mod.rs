//! The Syarah dialect (`seeds/syarah-api.txt`): namespace `/`, `query.userId`
//! checked against an access token (handshake or per event), camelCase
//! events answered through acknowledgements, numeric ids. Decisions where
//! the seed is silent are in `docs/dialects/syarah.md`.

use http::request::Parts;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Claim, Delivery, Dialect, Handshake, Out, Receipt, authorization_header, conversation_room,
    iso8601, parse, query_param, token_value, unknown_event,
};
use crate::core::command::{Actor, Command, Outcome, RoomTarget, SendMessage};
use crate::core::event::DomainEvent;
use crate::core::views::{ConversationView, FriendView, HistoryPage};
use crate::core::{
    ConversationKind, CoreError, Member, Message, MessageKind, RowRef, User, UserId, UserSummary,
};

pub struct Syarah;

/// Page size of `findAllMessages` and `findAllChatHeaders` when the client names none.
const DEFAULT_PAGE: u32 = 50;
/// Largest page a client may ask for; larger asks are clamped.
const MAX_PAGE: u32 = 100;
/// The events whose payload carries no token in the seed: they work once
/// the connection is identified (by its handshake or an earlier event).
const TOKENLESS_EVENTS: &[&str] = &["roomTyping", "readMessage"];

/// The client events the table decodes.
const EVENTS: &[&str] = &[
    "createMessage",
    "findAllMessages",
    "findAllChatHeaders",
    "getMyChats",
    "joinRoom",
    "leaveRoom",
    "roomTyping",
    "updateMessage",
    "removeMessage",
    "readMessage",
    "getMyFriendships",
];

impl Dialect for Syarah {
    fn name(&self) -> &'static str {
        "syarah"
    }

    fn events(&self) -> &'static [&'static str] {
        EVENTS
    }

    fn namespace(&self) -> &'static str {
        "/"
    }

    fn handshake(&self) -> Handshake {
        Handshake {
            claim: Some(Claim {
                user: |parts| query_param(parts, "userId").filter(|u| !u.is_empty()),
                event_token: |payload| {
                    token_value(payload.get("accessToken"))
                        .or_else(|| token_value(payload.get("AccessToken")))
                },
            }),
            ..Handshake::new(token, TOKEN_PLACES)
        }
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        decode(event, payload)
    }

    fn encode(&self, actor: &Actor, _event: &str, outcome: &Outcome) -> Vec<Out> {
        encode(actor, outcome)
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        let message = match error {
            CoreError::Unauthenticated if TOKENLESS_EVENTS.contains(&event) => format!(
                "this connection is not identified yet: {event} carries no token, so connect with \
                 auth.accessToken (or the accessToken query parameter, or an Authorization header), \
                 or first send an event with accessToken such as joinRoom; \
                 you may also send accessToken in the event"
            ),
            CoreError::Unauthenticated => {
                "an access token is required: connect with auth.accessToken or send accessToken in the event".to_owned()
            }
            other => other.to_string(),
        };
        let code = error.code().as_str();
        vec![
            Out::Ack(json!({ "error": message, "code": code })),
            Out::Emit(
                "exception",
                json!({ "event": event, "error": message, "code": code }),
            ),
        ]
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        render(event)
    }
}

/// Where [`token`] looks, as a handshake without a token (nor a `userId`)
/// is told.
const TOKEN_PLACES: &str = "`auth.accessToken` (or `auth.token`, `auth.AccessToken`, \
     `auth.access_token`; Socket.IO v3/v4), as `?accessToken=<jwt>` in the URL (or \
     `?access_token=`, `?AccessToken=`, `?token=`; Socket.IO v2: `io(url, { query: { accessToken \
     } })`), or as the header `Authorization: Bearer <jwt>`";

/// The handshake's token: in the auth object, else the query, else the
/// `Authorization` header.
fn token(parts: &Parts, auth: Option<&Value>) -> Option<String> {
    let from_auth = auth.and_then(|a| {
        ["accessToken", "AccessToken", "token", "access_token"]
            .iter()
            .find_map(|k| token_value(a.get(*k)))
    });
    from_auth
        .or_else(|| {
            ["accessToken", "access_token", "AccessToken", "token"]
                .iter()
                .find_map(|k| token_value(query_param(parts, k).map(Value::String).as_ref()))
        })
        .or_else(|| authorization_header(parts))
}

// --------------------------------------------------------------- decoding

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateMessage {
    message: String,
    chat_header_id: RowRef,
    #[serde(default)]
    message_type: Option<i64>,
    #[serde(default)]
    caption: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FindAllMessages {
    chat_header_id: RowRef,
    #[serde(default, alias = "LastMessageId")]
    last_message_id: Option<RowRef>,
    #[serde(default)]
    skip_count: Option<u32>,
    #[serde(default)]
    max_result_count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoomCursor {
    chat_header_id: RowRef,
    last_message_id: RowRef,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct FindAllChatHeaders {
    #[serde(default)]
    rooms_with_last_message_ids: Option<Vec<RoomCursor>>,
    #[serde(default, alias = "skipCount")]
    skip_count: Option<u32>,
    #[serde(default, alias = "maxResultCount")]
    max_result_count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinRoom {
    #[serde(default)]
    chat_header_id: Option<RowRef>,
    #[serde(default)]
    other_user_id: Option<UserId>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatHeader {
    chat_header_id: RowRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomTyping {
    is_typing: bool,
    chat_header_id: RowRef,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateMessage {
    id: RowRef,
    message: String,
    #[serde(default)]
    caption: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoveMessage {
    #[serde(default)]
    id: Option<RowRef>,
    #[serde(default)]
    ids: Option<Vec<RowRef>>,
    chat_header_id: RowRef,
}

fn decode(event: &str, payload: &Value) -> Result<Command, CoreError> {
    let chat_header = || parse::<ChatHeader>(payload).map(|p| p.chat_header_id.into());
    Ok(match event {
        "createMessage" => create_message(parse(payload)?)?,
        "findAllMessages" => {
            let p: FindAllMessages = parse(payload)?;
            let (skip, limit) = page(p.skip_count, p.max_result_count);
            Command::History {
                conversation: p.chat_header_id,
                before: p.last_message_id,
                skip,
                limit,
                include_deleted: false,
            }
        }
        "findAllChatHeaders" if payload.is_null() => {
            find_all_chat_headers(FindAllChatHeaders::default())
        }
        "findAllChatHeaders" => find_all_chat_headers(parse(payload)?),
        "getMyChats" => Command::Conversations {
            catch_up: vec![],
            direct_only: true,
            skip: 0,
            limit: u32::MAX,
        },
        "joinRoom" => join_room(parse(payload)?)?,
        "leaveRoom" => Command::Leave {
            conversation: chat_header()?,
        },
        "roomTyping" => {
            let p: RoomTyping = parse(payload)?;
            Command::Typing {
                conversation: p.chat_header_id.into(),
                typing: p.is_typing,
                recording: false,
                name: p.name,
            }
        }
        "updateMessage" => {
            let p: UpdateMessage = parse(payload)?;
            let text = match p.caption {
                Some(c) if !c.trim().is_empty() => c,
                _ => p.message,
            };
            Command::Edit {
                message: p.id,
                text,
            }
        }
        "removeMessage" => remove_message(parse(payload)?)?,
        "readMessage" => Command::ReadConversation {
            conversation: chat_header()?,
        },
        "getMyFriendships" => Command::Friends,
        other => return Err(unknown_event(other)),
    })
}

/// `(skip, limit)` of a page the client asked for.
fn page(skip: Option<u32>, max: Option<u32>) -> (u32, u32) {
    (
        skip.unwrap_or(0),
        max.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
    )
}

/// A text (`messageType` 0 or none), or (1 to 4) `message` that is a
/// media path with an optional caption, or text (the core tells which).
fn create_message(p: CreateMessage) -> Result<Command, CoreError> {
    let kind = match p.message_type {
        None => MessageKind::Text,
        Some(code) => MessageKind::from_code(code)
            .ok_or_else(|| CoreError::invalid("messageType must be 0 to 4"))?,
    };
    let conversation = p.chat_header_id.into();
    Ok(if kind == MessageKind::Text {
        Command::Send {
            conversation,
            message: SendMessage {
                text: Some(p.message),
                kind: Some(kind),
                ..SendMessage::default()
            },
        }
    } else {
        Command::SendFileOrText {
            conversation,
            body: p.message,
            kind,
            caption: p.caption,
        }
    })
}

/// A page of chat headers, each with what came after the message the
/// client last has of it.
fn find_all_chat_headers(p: FindAllChatHeaders) -> Command {
    let (skip, limit) = page(p.skip_count, p.max_result_count);
    Command::Conversations {
        catch_up: p
            .rooms_with_last_message_ids
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.chat_header_id, r.last_message_id))
            .collect(),
        direct_only: false,
        skip,
        limit,
    }
}

fn join_room(p: JoinRoom) -> Result<Command, CoreError> {
    let target = match (p.chat_header_id, p.other_user_id) {
        (Some(c), _) => RoomTarget::Conversation(c),
        (None, Some(u)) => RoomTarget::Peer(u),
        (None, None) => {
            return Err(CoreError::invalid(
                "joinRoom needs chatHeaderId or otherUserId",
            ));
        }
    };
    Ok(Command::OpenRoom { target })
}

fn remove_message(p: RemoveMessage) -> Result<Command, CoreError> {
    let messages = match (p.ids, p.id) {
        (Some(ids), _) if !ids.is_empty() => ids,
        (_, Some(id)) => vec![id],
        _ => return Err(CoreError::invalid("removeMessage needs id or ids")),
    };
    Ok(Command::DeleteMany {
        conversation: p.chat_header_id,
        messages,
    })
}

// ------------------------------------------------------------------ shapes

fn user_json(u: &User) -> Value {
    json!({ "id": u.id, "name": u.name(), "avatar": u.avatar_url })
}

fn summary_json(u: &UserSummary) -> Value {
    json!({ "id": u.id, "name": u.name(), "avatar": u.avatar_url })
}

/// A message as Syarah clients show it: media keep their path in `message`
/// and their text in `caption`; `messageType` is the type it was sent with
/// (a text sent as type 1–4 keeps it).
pub fn message_json(m: &Message, sender: Option<Value>) -> Value {
    let media = m.kind != MessageKind::Text;
    let (message, caption) = if media {
        (m.attachments.first().map(|a| a.url.clone()), m.text.clone())
    } else {
        (m.text.clone(), None)
    };
    json!({
        "id": m.id,
        "uuid": m.uuid,
        "chatHeaderId": m.conversation_id,
        "userId": m.sender_id,
        "message": message,
        "messageType": m.declared_kind.unwrap_or(m.kind).as_code(),
        "caption": caption,
        "attachmentUrls": m.attachment_urls(),
        "seq": m.seq,
        "creationTime": iso8601(m.created_at),
        "lastModificationTime": m.edited_at.map(iso8601),
        "isDeleted": m.deleted_at.is_some(),
        "user": sender,
    })
}

fn member_json(m: &Member, view: &ConversationView) -> Value {
    let user = view.user(&m.user_id);
    json!({
        "userId": m.user_id,
        "name": user.map(User::name),
        "avatar": user.and_then(|u| u.avatar_url.clone()),
        "role": m.role.as_str(),
        "isOnline": view.is_online(&m.user_id),
        "joinedAt": iso8601(m.joined_at),
        "lastReadSeq": m.last_read_seq,
    })
}

/// A chat header (conversation) as `findAllChatHeaders` and `joinRoom` show it.
fn header_json(view: &ConversationView, me: &UserId) -> Value {
    let c = &view.summary.conversation;
    let peer = view.peer(me);
    let sender = |m: &Message| view.user(&m.sender_id).map(user_json);
    json!({
        "id": c.id,
        "chatHeaderId": c.id,
        "uuid": c.uuid,
        "isGroup": c.kind == ConversationKind::Group,
        "title": c.title,
        "name": c.title.clone().or_else(|| peer.map(|p| p.name().to_owned())),
        "avatar": peer.and_then(|p| p.avatar_url.clone()),
        "otherUserId": peer.map(|p| &p.id),
        "isOnline": peer.is_some_and(|p| view.is_online(&p.id)),
        "friendshipStatus": view.friendship.as_ref().map(|f| f.status.as_code()),
        "members": view.summary.members.iter().map(|m| member_json(m, view)).collect::<Vec<_>>(),
        "lastMessage": view.summary.last_message.as_ref().map(|m| message_json(m, sender(m))),
        "lastMessageTime": view.summary.last_message.as_ref().map(|m| iso8601(m.created_at)),
        "creationTime": iso8601(c.created_at),
        "unreadCount": view.summary.unread_count,
        "newMessages": view.catch_up.iter().map(|m| message_json(m, sender(m))).collect::<Vec<_>>(),
    })
}

/// A direct chat as `getMyChats` shows it.
fn chat_json(view: &ConversationView, me: &UserId) -> Value {
    let c = &view.summary.conversation;
    let peer = view.peer(me);
    let last = view.summary.last_message.as_ref();
    json!({
        "chatHeaderId": c.id,
        "userId": peer.map(|p| &p.id),
        "userName": peer.map(User::name),
        "userAvatar": peer.and_then(|p| p.avatar_url.clone()),
        "lastMessage": last.map(|m| m.preview(200)),
        "lastMessageTime": last.map(|m| iso8601(m.created_at)),
        "creationTime": iso8601(c.created_at),
        "isOnline": peer.is_some_and(|p| view.is_online(&p.id)),
        "unreadCount": view.summary.unread_count,
        "friendshipStatus": view.friendship.as_ref().map(|f| f.status.as_code()),
    })
}

fn friend_json(f: &FriendView) -> Value {
    json!({
        "userId": f.user.id,
        "name": f.user.name(),
        "avatar": f.user.avatar_url,
        "isOnline": f.online,
        "chatHeaderId": f.conversation.as_ref().map(|c| c.id),
    })
}

// --------------------------------------------------------------- encoding

fn encode(actor: &Actor, outcome: &Outcome) -> Vec<Out> {
    match outcome {
        Outcome::Sent {
            message, sender, ..
        } => vec![Out::Ack(message_json(message, Some(summary_json(sender))))],
        Outcome::History(page) => vec![Out::Ack(history(page))],
        Outcome::Conversations {
            me,
            views,
            direct_only: true,
            ..
        } => vec![Out::Ack(Value::Array(
            views.iter().map(|v| chat_json(v, me)).collect(),
        ))],
        Outcome::Conversations {
            me, views, total, ..
        } => {
            let items: Vec<Value> = views.iter().map(|v| header_json(v, me)).collect();
            vec![Out::Ack(json!({ "totalCount": total, "items": items }))]
        }
        Outcome::RoomOpened { me, view, .. } => room_opened(me, view),
        Outcome::Joined {
            conversation: c, ..
        } => vec![
            Out::View(c.id),
            Out::Ack(json!({ "chatHeaderId": c.id, "joined": true })),
        ],
        Outcome::Left(c) => vec![
            Out::Unview(c.id),
            Out::Ack(json!({ "chatHeaderId": c.id, "left": true })),
        ],
        Outcome::Typing {
            conversation,
            typing,
        } => vec![Out::Ack(
            json!({ "chatHeaderId": conversation.id, "isTyping": typing }),
        )],
        // Only its author edits a message.
        Outcome::Edited(m) => vec![Out::Ack(message_json(m, Some(summary_json(&actor.user))))],
        Outcome::Deleted(m) => vec![Out::Ack(json!({ "deleted": [m.id] }))],
        Outcome::DeletedMany(ms) => vec![Out::Ack(
            json!({ "deleted": ms.iter().map(|m| m.id).collect::<Vec<_>>() }),
        )],
        Outcome::ConversationRead {
            conversation,
            up_to_seq,
        } => vec![Out::Ack(
            json!({ "chatHeaderId": conversation.id, "readUpToSeq": up_to_seq }),
        )],
        Outcome::Read { message, up_to_seq } => vec![Out::Ack(
            json!({ "chatHeaderId": message.conversation_id, "readUpToSeq": up_to_seq }),
        )],
        Outcome::Friends(friends) => vec![Out::Ack(Value::Array(
            friends.iter().map(friend_json).collect(),
        ))],
        Outcome::OnlineStatus(statuses) => vec![Out::Ack(json!(
            statuses
                .iter()
                .map(|s| json!({ "userId": s.user_id, "isOnline": s.online }))
                .collect::<Vec<_>>()
        ))],
        Outcome::Departments(_)
        | Outcome::Rooms { .. }
        | Outcome::Uploaded(_)
        | Outcome::Room(_) => vec![Out::Ack(json!({}))],
    }
}

/// `findAllMessages`' page (of the messages not deleted): newest first,
/// each with its sender like the live `message` event.
fn history(page: &HistoryPage) -> Value {
    let items: Vec<Value> = page
        .messages
        .iter()
        .rev()
        .map(|m| {
            let sender = page.senders.iter().find(|u| u.id == m.sender_id);
            message_json(m, sender.map(user_json))
        })
        .collect();
    json!({ "totalCount": page.total, "items": items })
}

/// `joinRoom`: the socket views the room, and is told the room whole.
fn room_opened(me: &UserId, view: &ConversationView) -> Vec<Out> {
    let c = &view.summary.conversation;
    let members: Vec<Value> = view
        .summary
        .members
        .iter()
        .map(|m| member_json(m, view))
        .collect();
    let current = view
        .summary
        .members
        .iter()
        .find(|m| &m.user_id == me)
        .map(|m| member_json(m, view));
    vec![
        Out::View(c.id),
        Out::Ack(json!({
            "chatHeaderId": c.id,
            "joined": true,
            "chatHeader": header_json(view, me),
            "roomMembers": members,
            "members": members,
            "currentMember": current,
            "friendshipStatus": view.friendship.as_ref().map(|f| f.status.as_code()),
        })),
    ]
}

// -------------------------------------------------------------- rendering

fn render(event: &DomainEvent) -> Vec<Delivery> {
    match event {
        DomainEvent::MessageCreated {
            conversation,
            message,
            sender,
            members,
            ..
        } => vec![Delivery::new_message(
            vec![conversation_room(message.conversation_id)],
            "message",
            json!({
                "chatMessage": message_json(message, Some(summary_json(sender))),
                "chatHeaderId": message.conversation_id,
            }),
            Receipt::new(message, *conversation, members),
        )],
        DomainEvent::MessageEdited {
            message, sender, ..
        } => vec![Delivery::to_conversation(
            message.conversation_id,
            "messageUpdated",
            message_json(message, Some(summary_json(sender))),
        )],
        DomainEvent::MessageDeleted { message, .. } => vec![Delivery::to_conversation(
            message.conversation_id,
            "messageDeleted",
            json!(message.id),
        )],
        DomainEvent::MessagesRead {
            conversation,
            reader,
            members,
            ..
        } => vec![Delivery::to_users(
            members,
            Some(reader),
            "messageHasBeenRead",
            json!(conversation.id),
        )],
        DomainEvent::Typing {
            conversation,
            user,
            typing,
            name,
            ..
        } => vec![Delivery::to_others_viewing(
            conversation.id,
            &user.id,
            "typing",
            json!({
                "name": name.as_deref().unwrap_or(user.name()),
                "isTyping": typing,
                "chatHeaderId": conversation.id,
            }),
        )],
        DomainEvent::Presence {
            user,
            online,
            audience,
            everyone,
            ..
        } => vec![Delivery::presence(
            user,
            *everyone,
            audience,
            "clientStatus",
            json!({ "userId": user, "clientType": "user", "activeNow": online }),
        )],
        DomainEvent::MemberAdded {
            conversation,
            user,
            members,
        } => vec![Delivery::to_users(
            members,
            Some(user),
            "onMemberJoin",
            json!({ "chatHeaderId": conversation.id, "userId": user }),
        )],
        DomainEvent::RoomEntered {
            conversation,
            member,
            user,
            ..
        } => vec![Delivery::to_others_viewing(
            conversation.id,
            &user.id,
            "onMemberJoin",
            json!({
                "chatHeaderId": conversation.id,
                "userId": user.id,
                "name": user.name(),
                "avatar": user.avatar_url,
                "role": member.role.as_str(),
                "isOnline": true,
                "joinedAt": iso8601(member.joined_at),
                "lastReadSeq": member.last_read_seq,
            }),
        )],
        DomainEvent::MemberRemoved {
            conversation, user, ..
        } => vec![Delivery::member_removed(conversation.id, user)],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests;
