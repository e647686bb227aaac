//! The JobSpare dialect (`seeds/jobspare-api.txt`): namespace `/`, a JWT in
//! `auth.token`, snake_case events answered by emits, string ids, and
//! `<userA>_<userB>` conversation ids that the core resolves (each socket
//! is sent a conversation under the name it used: the runtime does that,
//! from [`Handshake::conversation_field`]). New messages go to every
//! socket of the members but the one that sent it. Decisions where the
//! seed is silent are in `docs/dialects/jobspare.md`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AUTH_HEADER_OR_QUERY, Delivery, Dialect, Handshake, Out, Receipt, auth_header_or_query_token,
    iso8601, parse, socket_room, unknown_event, user_room, user_rooms,
};
use crate::core::command::{Actor, Command, ConversationTarget, Outcome, SendMessage};
use crate::core::event::{ConversationIds, DeliveredMessage, DomainEvent};
use crate::core::{
    Attachment, AttachmentMeta, CoreError, Message, MessageKind, Millis, PresenceStatus, RowRef,
    UserId, UserSummary,
};

pub struct JobSpare;

/// The client events the table decodes.
const EVENTS: &[&str] = &[
    "join_conversation",
    "leave_conversation",
    "send_message",
    "mark_as_read",
    "typing_start",
    "typing_stop",
    "get_online_status",
];

impl Dialect for JobSpare {
    fn name(&self) -> &'static str {
        "jobspare"
    }

    fn events(&self) -> &'static [&'static str] {
        EVENTS
    }

    fn namespace(&self) -> &'static str {
        "/"
    }

    fn handshake(&self) -> Handshake {
        Handshake {
            greeting: Some(|actor| {
                (
                    "authenticated",
                    json!({ "userId": actor.id(), "success": true }),
                )
            }),
            conversation_field: Some("conversationId"),
            ..Handshake::new(auth_header_or_query_token, AUTH_HEADER_OR_QUERY)
        }
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        decode(event, payload)
    }

    fn encode(&self, _actor: &Actor, _event: &str, outcome: &Outcome) -> Vec<Out> {
        encode(outcome)
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        let message = error.to_string();
        let code = error.code().as_str();
        vec![
            Out::Emit(
                "error",
                json!({ "message": message, "code": code, "event": event }),
            ),
            Out::Ack(json!({ "error": message, "code": code })),
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
    conversation_id: Value,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Content {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    file_url: Option<String>,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    file_size: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendPayload {
    conversation_id: Value,
    #[serde(default)]
    message_type: Option<String>,
    content: Content,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarkAsRead {
    conversation_id: Value,
    #[serde(default)]
    message_ids: Option<Vec<RowRef>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OnlineStatus {
    user_id: UserId,
}

fn decode(event: &str, payload: &Value) -> Result<Command, CoreError> {
    let conversation = || target(&parse::<ConversationPayload>(payload)?.conversation_id);
    Ok(match event {
        "join_conversation" => Command::Join {
            conversation: conversation()?,
        },
        "leave_conversation" => Command::Leave {
            conversation: conversation()?,
        },
        "send_message" => send_message(parse(payload)?)?,
        "mark_as_read" => {
            let p: MarkAsRead = parse(payload)?;
            Command::ReadMessages {
                conversation: target(&p.conversation_id)?,
                messages: p.message_ids.unwrap_or_default(),
            }
        }
        "typing_start" | "typing_stop" => Command::Typing {
            conversation: conversation()?,
            typing: event == "typing_start",
            recording: false,
            name: None,
        },
        "get_online_status" => Command::OnlineStatus {
            users: vec![parse::<OnlineStatus>(payload)?.user_id],
        },
        other => return Err(unknown_event(other)),
    })
}

/// A conversation id as a client sends it: a number or UUID names a
/// conversation, a string with an underscore is a `<userA>_<userB>` pair,
/// any other string an imported conversation's external id.
fn target(id: &Value) -> Result<ConversationTarget, CoreError> {
    let r = RowRef::from_json_any(id);
    if let Ok(r @ (RowRef::Id(_) | RowRef::Uuid(_))) = r {
        return Ok(ConversationTarget::Ref(r));
    }
    match id.as_str().map(str::trim) {
        Some(s) if !s.is_empty() && s.len() <= 300 && s.contains('_') => {
            Ok(ConversationTarget::Pair(s.to_owned()))
        }
        _ => r.map(ConversationTarget::Ref).map_err(|_| {
            CoreError::invalid("conversationId must be a conversation id or <userA>_<userB>")
        }),
    }
}

/// A text (`content.text`), or an image or file (`content.fileUrl`, with
/// an optional text).
fn send_message(p: SendPayload) -> Result<Command, CoreError> {
    let conversation = target(&p.conversation_id)?;
    let text = p.content.text.filter(|t| !t.trim().is_empty());
    let kind = match p.message_type.as_deref().unwrap_or("text") {
        "text" => MessageKind::Text,
        "image" => MessageKind::Image,
        "file" => MessageKind::File,
        _ => {
            return Err(CoreError::invalid(
                "messageType must be text, image or file",
            ));
        }
    };
    let message = if kind == MessageKind::Text {
        SendMessage {
            text: Some(text.ok_or_else(|| CoreError::invalid("content.text is required"))?),
            attachments: vec![],
            client_id: p.client_id,
            kind: Some(kind),
            declared_kind: None,
        }
    } else {
        let url = p
            .content
            .file_url
            .ok_or_else(|| CoreError::invalid("content.fileUrl is required"))?;
        let size = match p.content.file_size {
            None | Some(Value::Null) => None,
            Some(size) => Some(size.as_u64().ok_or_else(|| {
                CoreError::invalid("content.fileSize must be a whole number of bytes")
            })?),
        };
        let meta = AttachmentMeta {
            name: p.content.file_name.filter(|n| !n.is_empty()),
            size,
            ..AttachmentMeta::default()
        };
        SendMessage {
            text,
            attachments: vec![Attachment { url, meta }],
            client_id: p.client_id,
            kind: Some(kind),
            declared_kind: None,
        }
    };
    Ok(Command::Send {
        conversation,
        message,
    })
}

// ------------------------------------------------------------------ shapes

fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Text => "text",
        MessageKind::Image => "image",
        _ => "file",
    }
}

/// How JobSpare names a conversation in what the server sends: a direct
/// one as `<smaller>_<larger>` of its two members' ids (the form JobSpare
/// apps build, so they find their own id in events), any other by UUID.
fn conversation_name(c: &ConversationIds, members: &[UserId]) -> String {
    match members {
        [a, b] if c.direct => {
            let (x, y) = if a <= b { (a, b) } else { (b, a) };
            format!("{x}_{y}")
        }
        _ => c.uuid.to_string(),
    }
}

/// The one other member of a two-member conversation.
fn receiver<'a>(members: &'a [UserId], sender: &UserId) -> Option<&'a UserId> {
    match members {
        [a, b] if a == sender => Some(b),
        [a, b] if b == sender => Some(a),
        _ => None,
    }
}

/// A message as `new_message` shows it; `status` is `sent` when it is
/// created (no other member has it yet). A file's `fileName` and
/// `fileSize` are what its sender gave; without them, the last segment of
/// its URL and null.
pub fn message_json(
    m: &Message,
    sender: &UserSummary,
    conversation_id: &str,
    receiver: Option<&UserId>,
) -> Value {
    let content = if m.kind == MessageKind::Text {
        json!({ "text": m.text })
    } else {
        let file = m.attachments.first();
        let name = file.and_then(|a| {
            a.meta
                .name
                .clone()
                .or_else(|| a.url.rsplit('/').next().map(str::to_owned))
        });
        json!({
            "text": m.text,
            "fileUrl": file.map(|a| &a.url),
            "fileName": name,
            "fileSize": file.and_then(|a| a.meta.size),
        })
    };
    json!({
        "_id": m.uuid.to_string(),
        "id": m.id,
        "conversationId": conversation_id,
        "senderId": { "_id": sender.id, "name": sender.name(), "avatar": sender.avatar_url },
        "receiverId": receiver,
        "messageType": kind_name(m.kind),
        "content": content,
        "status": "sent",
        "seq": m.seq,
        "timestamp": iso8601(m.created_at),
    })
}

/// A new message in a conversation with `members`, as JobSpare shows it.
fn new_message_json(
    message: &Message,
    sender: &UserSummary,
    conversation: &ConversationIds,
    members: &[UserId],
) -> Value {
    message_json(
        message,
        sender,
        &conversation_name(conversation, members),
        receiver(members, &sender.id),
    )
}

/// `user_online_status` of one user.
fn online_status_json(s: &PresenceStatus) -> Value {
    json!({
        "userId": s.user_id,
        "isOnline": s.online,
        "lastSeen": s.last_seen_at.map(iso8601),
    })
}

// --------------------------------------------------------------- encoding

/// What a client event answers. Every success also answers an
/// acknowledgement callback, if the client passed one (a client without one
/// sees nothing of it): the seed's clients pass none, but one that does must
/// not wait for an answer that never comes.
fn encode(outcome: &Outcome) -> Vec<Out> {
    let done = || Out::Ack(json!({ "success": true }));
    match outcome {
        Outcome::Joined {
            conversation: c,
            members,
        } => {
            let joined = json!({
                "conversationId": conversation_name(&c.into(), members),
                "id": c.id,
                "uuid": c.uuid.to_string(),
            });
            vec![
                Out::View(c.id),
                Out::Emit("joined_conversation", joined.clone()),
                Out::Ack(joined),
            ]
        }
        Outcome::Left(c) => vec![Out::Unview(c.id), done()],
        Outcome::Sent {
            message,
            sender,
            conversation,
            members,
            ..
        } => vec![Out::Ack(new_message_json(
            message,
            sender,
            conversation,
            members,
        ))],
        Outcome::OnlineStatus(statuses) => {
            let statuses: Vec<Value> = statuses.iter().map(online_status_json).collect();
            let mut outs: Vec<Out> = statuses
                .iter()
                .map(|s| Out::Emit("user_online_status", s.clone()))
                .collect();
            outs.push(Out::Ack(match statuses.as_slice() {
                [one] => one.clone(),
                _ => Value::Array(statuses),
            }));
            outs
        }
        _ => vec![done()],
    }
}

// -------------------------------------------------------------- rendering

fn render(event: &DomainEvent) -> Vec<Delivery> {
    match event {
        // To every socket of the members, joined or not, but the one it
        // was sent from (which has it in its acknowledgement).
        DomainEvent::MessageCreated {
            conversation,
            message,
            sender,
            members,
            from_socket,
            ..
        } => vec![Delivery::Emit {
            to: user_rooms(members, None),
            except: from_socket.iter().map(|s| socket_room(s)).collect(),
            event: "new_message",
            data: new_message_json(message, sender, conversation, members),
            receipt: Some(Receipt::new(message, *conversation, members)),
        }],
        DomainEvent::MessagesDelivered {
            conversation,
            message,
            recipients,
            up_to_seq,
            at,
            members,
        } => delivered(conversation, message, recipients, *up_to_seq, *at, members),
        DomainEvent::MessagesRead {
            conversation,
            reader,
            up_to_seq,
            at,
            members,
            covered,
            ..
        } => vec![Delivery::to_users(
            members,
            Some(reader),
            "message_read",
            json!({
                "messageIds": covered.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "readBy": reader,
                "conversationId": conversation_name(conversation, members),
                "upToSeq": up_to_seq,
                "readAt": iso8601(*at),
            }),
        )],
        DomainEvent::Typing {
            conversation,
            user,
            typing,
            members,
            ..
        } => vec![Delivery::to_others_viewing(
            conversation.id,
            &user.id,
            "user_typing",
            json!({
                "conversationId": conversation_name(conversation, members),
                "userId": user.id,
                "isTyping": typing,
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
            "user_online_status",
            json!({
                "userId": user,
                "isOnline": online,
                "lastSeen": if *online { Value::Null } else { json!(iso8601(*at)) },
            }),
        )],
        DomainEvent::MemberRemoved {
            conversation, user, ..
        } => vec![Delivery::member_removed(conversation.id, user)],
        _ => vec![],
    }
}

/// `message_delivered` to the sender's sockets, once per recipient.
fn delivered(
    conversation: &ConversationIds,
    message: &DeliveredMessage,
    recipients: &[UserId],
    up_to_seq: i64,
    at: Millis,
    members: &[UserId],
) -> Vec<Delivery> {
    recipients
        .iter()
        .filter(|r| **r != message.sender)
        .map(|recipient| {
            Delivery::to_rooms(
                vec![user_room(&message.sender)],
                "message_delivered",
                json!({
                    "messageId": message.uuid.to_string(),
                    "conversationId": conversation_name(conversation, members),
                    "deliveredTo": recipient,
                    "upToSeq": up_to_seq,
                    "deliveredAt": iso8601(at),
                }),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
