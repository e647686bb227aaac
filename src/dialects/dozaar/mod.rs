//! The Dozaar dialect (`seeds/dozaar-api.txt`): namespace `/chat`, JWT in the
//! `Authorization: Bearer` header or `auth.token` (or the web client's
//! session cookie), colon-separated event
//! names, UUIDs for conversations and messages. Decisions where the seed is
//! silent are in `docs/dialects/dozaar.md`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Delivery, Dialect, HEADER_AUTH_QUERY_OR_SESSION, Handshake, Out, Receipt, conversation_room,
    header_auth_query_or_session, iso8601, parse, unknown_event, user_rooms,
};
use crate::core::command::{Actor, Command, Outcome, SendMessage};
use crate::core::event::{ConversationIds, DomainEvent};
use crate::core::{CoreError, Message, PresenceStatus, RowRef, UserId, UserSummary};

/// Characters of text in a `message:notification` preview.
const PREVIEW_CHARS: usize = 100;

pub struct Dozaar;

/// The client events the table decodes.
const EVENTS: &[&str] = &[
    "join:conversation",
    "leave:conversation",
    "send:message",
    "typing:start",
    "typing:stop",
    "mark:read",
    "get:online_status",
    "edit:message",
    "delete:message",
];

impl Dialect for Dozaar {
    fn name(&self) -> &'static str {
        "dozaar"
    }

    fn events(&self) -> &'static [&'static str] {
        EVENTS
    }

    fn namespace(&self) -> &'static str {
        "/chat"
    }

    fn handshake(&self) -> Handshake {
        Handshake::new(header_auth_query_or_session, HEADER_AUTH_QUERY_OR_SESSION)
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        decode(event, payload)
    }

    fn encode(&self, _actor: &Actor, _event: &str, outcome: &Outcome) -> Vec<Out> {
        encode(outcome)
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        let code = error.code().as_str();
        let message = error.to_string();
        vec![
            Out::Emit(
                "exception",
                json!({ "event": event, "error": message, "code": code }),
            ),
            Out::Ack(json!({ "success": false, "error": message, "code": code })),
        ]
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        render(event)
    }
}

// --------------------------------------------------------------- decoding

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConversationPayload {
    conversation_id: RowRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendPayload {
    conversation_id: RowRef,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    attachment_urls: Option<Vec<String>>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessagePayload {
    message_id: RowRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EditPayload {
    message_id: RowRef,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OnlineStatusPayload {
    user_ids: Vec<UserId>,
}

fn decode(event: &str, payload: &Value) -> Result<Command, CoreError> {
    let conversation = || parse::<ConversationPayload>(payload).map(|p| p.conversation_id.into());
    let message = || parse::<MessagePayload>(payload).map(|p| p.message_id);
    Ok(match event {
        "join:conversation" => Command::Join {
            conversation: conversation()?,
        },
        "leave:conversation" => Command::Leave {
            conversation: conversation()?,
        },
        "send:message" => {
            let p: SendPayload = parse(payload)?;
            Command::Send {
                conversation: p.conversation_id.into(),
                message: SendMessage {
                    text: p.message,
                    attachments: p
                        .attachment_urls
                        .unwrap_or_default()
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                    client_id: p.client_id,
                    kind: None,
                    declared_kind: None,
                },
            }
        }
        "typing:start" | "typing:stop" => Command::Typing {
            conversation: conversation()?,
            typing: event == "typing:start",
            recording: false,
            name: None,
        },
        "mark:read" => Command::MarkRead {
            message: message()?,
        },
        "get:online_status" => Command::OnlineStatus {
            users: parse::<OnlineStatusPayload>(payload)?.user_ids,
        },
        "edit:message" => {
            let p: EditPayload = parse(payload)?;
            Command::Edit {
                message: p.message_id,
                text: p.message,
            }
        }
        "delete:message" => Command::Delete {
            message: message()?,
        },
        other => return Err(unknown_event(other)),
    })
}

// ------------------------------------------------------------------ shapes

fn sender_json(s: &UserSummary) -> Value {
    json!({
        "id": s.id,
        "username": s.username.as_deref().unwrap_or(s.name()),
        "displayName": s.display_name,
        "avatarUrl": s.avatar_url,
    })
}

/// A message as `new:message` shows it.
pub fn message_json(m: &Message, sender: Option<&UserSummary>) -> Value {
    let mut v = json!({
        "id": m.uuid,
        "conversationId": m.conversation_uuid,
        "senderId": m.sender_id,
        "message": m.text,
        "attachmentUrls": m.attachment_urls(),
        "clientId": m.client_id,
        "seq": m.seq,
        "createdAt": iso8601(m.created_at),
        // The last change: a deletion after an edit is the later one.
        "updatedAt": iso8601(m.edited_at.max(m.deleted_at).unwrap_or(m.created_at)),
        "editedAt": m.edited_at.map(iso8601),
        "deletedAt": m.deleted_at.map(iso8601),
    });
    if let Some(s) = sender {
        v["sender"] = sender_json(s);
    }
    v
}

/// The acknowledgement of a success: `{success: true, ...extra}`.
fn ok(extra: Value) -> Out {
    let mut v = json!({ "success": true });
    if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), extra) {
        obj.extend(extra);
    }
    Out::Ack(v)
}

// --------------------------------------------------------------- encoding

fn encode(outcome: &Outcome) -> Vec<Out> {
    match outcome {
        Outcome::Joined {
            conversation: c, ..
        } => vec![
            Out::View(c.id),
            Out::Emit("joined:conversation", json!({ "conversationId": c.uuid })),
            ok(json!({ "conversationId": c.uuid })),
        ],
        Outcome::Left(c) => vec![Out::Unview(c.id), ok(json!({ "conversationId": c.uuid }))],
        Outcome::Sent {
            message,
            sender,
            created,
            ..
        } => sent(message, sender, *created),
        Outcome::Typing {
            conversation,
            typing,
        } => vec![ok(json!({
            "conversationId": conversation.uuid,
            "typing": typing,
        }))],
        Outcome::Read { message, up_to_seq } => vec![ok(json!({
            "messageId": message.uuid,
            "conversationId": message.conversation_uuid,
            "readUpToSeq": up_to_seq,
        }))],
        Outcome::OnlineStatus(statuses) => online_status(statuses),
        Outcome::Edited(m) | Outcome::Deleted(m) => {
            vec![ok(json!({ "message": message_json(m, None) }))]
        }
        // Dozaar decodes no command that ends in these.
        Outcome::RoomOpened { .. }
        | Outcome::History(_)
        | Outcome::Conversations { .. }
        | Outcome::ConversationRead { .. }
        | Outcome::DeletedMany(_)
        | Outcome::Friends(_)
        | Outcome::Departments(_)
        | Outcome::Rooms { .. }
        | Outcome::Uploaded(_)
        | Outcome::Room(_) => vec![ok(json!({}))],
    }
}

/// `send:message`'s acknowledgement; a retry (`created` false) is also
/// shown the stored message again, as the first send was broadcast.
fn sent(message: &Message, sender: &UserSummary, created: bool) -> Vec<Out> {
    let payload = message_json(message, Some(sender));
    let mut outs = Vec::with_capacity(2);
    if !created {
        outs.push(Out::Emit("new:message", payload.clone()));
    }
    outs.push(ok(json!({ "message": payload, "duplicate": !created })));
    outs
}

/// `get:online_status`'s answer: an `online:status` event and the same as
/// acknowledgement.
fn online_status(statuses: &[PresenceStatus]) -> Vec<Out> {
    let data = json!({
        "statuses": statuses.iter().map(|s| json!({
            "userId": s.user_id,
            "isOnline": s.online,
            "lastSeen": s.last_seen_at,
        })).collect::<Vec<_>>()
    });
    vec![Out::Emit("online:status", data.clone()), ok(data)]
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
        } => new_message(*conversation, message, sender, members),
        DomainEvent::MessageEdited { message, .. } => vec![Delivery::to_conversation(
            message.conversation_id,
            "message:updated",
            message_json(message, None),
        )],
        DomainEvent::MessageDeleted { message, .. } => vec![Delivery::to_conversation(
            message.conversation_id,
            "message:deleted",
            json!({
                "messageId": message.uuid,
                "conversationId": message.conversation_uuid,
            }),
        )],
        DomainEvent::MessagesRead {
            conversation,
            reader,
            up_to_seq,
            message,
            at,
            members,
            ..
        } => vec![Delivery::to_users(
            members,
            Some(reader),
            "message:read",
            json!({
                "messageId": message.uuid,
                "conversationId": conversation.uuid,
                "readBy": reader,
                "readUpToSeq": up_to_seq,
                "timestamp": at,
            }),
        )],
        DomainEvent::Typing {
            conversation,
            user,
            typing,
            ..
        } => vec![Delivery::to_others_viewing(
            conversation.id,
            &user.id,
            if *typing {
                "user:typing"
            } else {
                "user:stopped_typing"
            },
            json!({
                "conversationId": conversation.uuid,
                "userId": user.id,
                "username": user.username.as_deref().unwrap_or(user.name()),
            }),
        )],
        DomainEvent::Presence {
            user,
            online,
            at,
            audience,
            everyone,
        } => vec![Delivery::presence(
            user,
            *everyone,
            audience,
            if *online {
                "user:online"
            } else {
                "user:offline"
            },
            json!({ "userId": user, "timestamp": at }),
        )],
        DomainEvent::MemberRemoved {
            conversation, user, ..
        } => vec![Delivery::member_removed(conversation.id, user)],
        DomainEvent::MessagesDelivered { .. }
        | DomainEvent::ConversationCreated { .. }
        | DomainEvent::MemberAdded { .. }
        | DomainEvent::RoomEntered { .. }
        | DomainEvent::FriendshipChanged { .. }
        | DomainEvent::AgentAdded { .. }
        | DomainEvent::AgentRemoved { .. }
        | DomainEvent::RoomChanged { .. }
        | DomainEvent::Unblocked { .. } => vec![],
    }
}

/// A new message: `new:message` to the sockets viewing its conversation,
/// and `message:notification` to the other members' sockets that do not.
fn new_message(
    conversation: ConversationIds,
    message: &Message,
    sender: &UserSummary,
    members: &[UserId],
) -> Vec<Delivery> {
    let room = conversation_room(message.conversation_id);
    vec![
        Delivery::new_message(
            vec![room.clone()],
            "new:message",
            message_json(message, Some(sender)),
            Receipt::new(message, conversation, members),
        ),
        Delivery::Emit {
            receipt: None,
            to: user_rooms(members, Some(&message.sender_id)),
            except: vec![room],
            event: "message:notification",
            data: json!({
                "conversationId": message.conversation_uuid,
                "messageId": message.uuid,
                "preview": message.preview(PREVIEW_CHARS),
                "sender": {
                    "id": sender.id,
                    "username": sender.username.as_deref().unwrap_or(sender.name()),
                },
                "timestamp": message.created_at,
            }),
        },
    ]
}

#[cfg(test)]
mod tests;
