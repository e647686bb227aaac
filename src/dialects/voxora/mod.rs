//! The Voxora dialect (`seeds/voxora-api.txt`): a support desk. Namespace
//! `/` with a JWT in `auth.token`; on connect a socket is in the rooms of
//! its user's conversations and departments. Namespace `/department` (with
//! `departmentId` in the query) is for that department's agents. Ids are
//! numeric strings (`join_conversation` and `leave_conversation` take one
//! bare, as the Voxora code sends it, or in `{conversationId}`). A new
//! message goes to its conversation's room, then `message_delivered` to the
//! socket that sent it alone (in either namespace). Decisions where the
//! seed is silent are in `docs/dialects/voxora.md`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AUTH_HEADER_OR_QUERY, Admission, Delivery, Dialect, Handshake, Out, Receipt,
    auth_header_or_query_token, conversation_room, iso8601, parse, query_param, socket_room,
    unknown_event, user_room, user_rooms,
};
use crate::core::command::{Actor, Command, ConversationTarget, Outcome, SendMessage};
use crate::core::event::{ConversationIds, DomainEvent};
use crate::core::{Conversation, CoreError, Message, MessageKind, RowRef, UserId, UserSummary};

/// The main namespace.
pub struct Voxora;

/// The `/department` namespace: one department's agents.
pub struct Department;

/// The client event that carries a file whole, as binary.
const UPLOAD_EVENT: &str = "file_upload";

/// The client events of both namespaces: those the table decodes, and the
/// upload.
const EVENTS: &[&str] = &[
    "send_message",
    "typing_start",
    "typing_stop",
    "join_conversation",
    "leave_conversation",
    "file_upload",
];

impl Dialect for Voxora {
    fn name(&self) -> &'static str {
        "voxora"
    }

    fn events(&self) -> &'static [&'static str] {
        EVENTS
    }

    fn namespace(&self) -> &'static str {
        "/"
    }

    /// A socket joins the rooms of its user's conversations and
    /// departments before it is connected.
    fn handshake(&self) -> Handshake {
        Handshake {
            admission: Some(Admission {
                command: |_parts, _auth| Ok(Command::Rooms),
                refusal: CoreError::to_string,
            }),
            upload_event: Some(UPLOAD_EVENT),
            ..Handshake::new(auth_header_or_query_token, AUTH_HEADER_OR_QUERY)
        }
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        decode(event, payload)
    }

    fn encode(&self, actor: &Actor, _event: &str, outcome: &Outcome) -> Vec<Out> {
        encode(actor, outcome)
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        encode_error(event, error)
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        render(event)
    }
}

impl Dialect for Department {
    fn name(&self) -> &'static str {
        "voxora"
    }

    fn events(&self) -> &'static [&'static str] {
        EVENTS
    }

    fn namespace(&self) -> &'static str {
        "/department"
    }

    /// Only the agents of the department named in the query connect.
    fn handshake(&self) -> Handshake {
        Handshake {
            admission: Some(Admission {
                command: agent_of,
                refusal: |error| match error {
                    CoreError::NotFound(_) => "not an agent of this department".to_owned(),
                    other => other.to_string(),
                },
            }),
            upload_event: Some(UPLOAD_EVENT),
            ..Handshake::new(auth_header_or_query_token, AUTH_HEADER_OR_QUERY)
        }
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        decode(event, payload)
    }

    fn encode(&self, actor: &Actor, _event: &str, outcome: &Outcome) -> Vec<Out> {
        encode(actor, outcome)
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        encode_error(event, error)
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        render_department(event)
    }
}

/// The seed's room of a department's agents.
pub fn department_room(department_id: i64) -> String {
    format!("dept_{department_id}")
}

/// `/department`'s admission: the department of which the user must be an
/// agent, named by `departmentId` in the auth object (where a Socket.IO v2
/// client's namespace query arrives) or else in the query.
fn agent_of(parts: &http::request::Parts, auth: Option<&Value>) -> Result<Command, String> {
    let department = auth
        .and_then(|a| a.get("departmentId"))
        .cloned()
        .or_else(|| query_param(parts, "departmentId").map(Value::String))
        .and_then(|v| RowRef::from_json(&v).ok())
        .ok_or_else(|| "departmentId is required: not an agent of this department".to_owned())?;
    Ok(Command::AgentOf { department })
}

// --------------------------------------------------------------- decoding

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConversationPayload {
    #[serde(deserialize_with = "RowRef::deserialize_any")]
    conversation_id: RowRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendPayload {
    #[serde(deserialize_with = "RowRef::deserialize_any")]
    conversation_id: RowRef,
    content: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

fn decode(event: &str, payload: &Value) -> Result<Command, CoreError> {
    let conversation = || {
        parse::<ConversationPayload>(payload).map(|p| ConversationTarget::Ref(p.conversation_id))
    };
    Ok(match event {
        "send_message" => send_message(parse(payload)?)?,
        "typing_start" | "typing_stop" => Command::Typing {
            conversation: conversation()?,
            typing: event == "typing_start",
            recording: false,
            name: None,
        },
        "join_conversation" => Command::Join {
            conversation: conversation_or_id(payload)?,
        },
        "leave_conversation" => Command::Leave {
            conversation: conversation_or_id(payload)?,
        },
        other => return Err(unknown_event(other)),
    })
}

/// The conversation of `join_conversation` and `leave_conversation`: the
/// seed's `{conversationId}`, or the bare id the Voxora code sends
/// (`socket.emit('join_conversation', conversationId)`), a string or a
/// number.
fn conversation_or_id(payload: &Value) -> Result<ConversationTarget, CoreError> {
    let id = match payload {
        Value::String(_) | Value::Number(_) => RowRef::from_json_any(payload)
            .map_err(|_| CoreError::invalid("invalid payload: not a conversation id"))?,
        _ => parse::<ConversationPayload>(payload)?.conversation_id,
    };
    Ok(ConversationTarget::Ref(id))
}

/// A text, or an image or file whose URL is the `content`.
fn send_message(p: SendPayload) -> Result<Command, CoreError> {
    let (kind, text, attachments) = match p.kind.as_deref().unwrap_or("text") {
        "text" => (MessageKind::Text, Some(p.content), vec![]),
        "image" => (MessageKind::Image, None, vec![p.content.into()]),
        "file" => (MessageKind::File, None, vec![p.content.into()]),
        _ => return Err(CoreError::invalid("type must be text, image or file")),
    };
    Ok(Command::Send {
        conversation: ConversationTarget::Ref(p.conversation_id),
        message: SendMessage {
            text,
            attachments,
            client_id: p.client_id,
            kind: Some(kind),
            declared_kind: None,
        },
    })
}

// ------------------------------------------------------------------ shapes

/// A message as `new_message` shows it: for images and files, `content` is
/// the attachment's URL.
pub fn message_json(m: &Message, sender: &UserSummary) -> Value {
    let url = || m.attachments.first().map(|a| a.url.clone());
    let (kind, content) = match m.kind {
        MessageKind::Text => ("text", m.text.clone()),
        MessageKind::Image => ("image", url()),
        _ => ("file", url()),
    };
    let id = m.string_id();
    let created = iso8601(m.created_at);
    json!({
        "_id": id,
        "id": id,
        "uuid": m.uuid.to_string(),
        "conversationId": m.conversation_string_id(),
        "senderId": sender.id,
        "sender": { "id": sender.id, "name": sender.name(), "avatar": sender.avatar_url },
        "content": content,
        "type": kind,
        "attachments": m.attachment_urls(),
        "seq": m.seq,
        "clientId": m.client_id,
        "timestamp": created,
        "createdAt": created,
        "updatedAt": iso8601(m.edited_at.unwrap_or(m.created_at)),
    })
}

/// The conversation object of `new_conversation`.
fn conversation_json(c: &Conversation) -> Value {
    json!({
        "id": c.string_id(),
        "uuid": c.uuid.to_string(),
        "departmentId": c.department_id.map(|d| d.to_string()),
        "title": c.title,
        "createdBy": c.created_by,
        "visitor": { "id": c.created_by },
        "createdAt": iso8601(c.created_at),
    })
}

// --------------------------------------------------------------- encoding

fn encode(actor: &Actor, outcome: &Outcome) -> Vec<Out> {
    match outcome {
        // The socket's rooms on connect: its conversations and departments.
        Outcome::Rooms {
            conversations,
            departments,
        } => conversations
            .iter()
            .map(|c| Out::Join(conversation_room(*c)))
            .chain(departments.iter().map(|d| Out::Join(department_room(d.id))))
            .collect(),
        Outcome::Departments(departments) => departments
            .iter()
            .map(|d| Out::Join(department_room(d.id)))
            .collect(),
        Outcome::Sent {
            message,
            sender,
            created: true,
            ..
        } => vec![Out::Ack(message_json(message, sender))],
        // A retry with a known clientId stored nothing and told nobody: the
        // retrying socket gets what the first send gave its socket.
        Outcome::Sent {
            message, sender, ..
        } => vec![
            Out::Emit("new_message", message_json(message, sender)),
            Out::Emit("message_delivered", delivered_json(message)),
            Out::Ack(message_json(message, sender)),
        ],
        Outcome::Joined {
            conversation: c, ..
        } => vec![
            Out::View(c.id),
            Out::Broadcast(
                conversation_room(c.id),
                "user_joined",
                json!({ "userId": actor.id(), "conversationId": c.string_id() }),
            ),
            Out::Ack(json!({ "ok": true, "conversationId": c.string_id() })),
        ],
        Outcome::Left(c) => vec![
            Out::Unview(c.id),
            Out::Ack(json!({ "ok": true, "conversationId": c.string_id() })),
        ],
        Outcome::Uploaded(u) => vec![Out::Ack(json!({
            "url": u.path,
            "path": u.path,
            "type": u.kind.as_str(),
            "contentType": u.content_type,
            "size": u.size,
        }))],
        _ => vec![Out::Ack(json!({ "ok": true }))],
    }
}

fn encode_error(event: &str, error: &CoreError) -> Vec<Out> {
    let message = error.to_string();
    let code = error.code().as_str();
    let told = match error {
        CoreError::RateLimited { retry_after_ms } => Out::Emit(
            "rate_limit_exceeded",
            json!({ "retryAfterMs": retry_after_ms, "event": event }),
        ),
        _ => Out::Emit(
            "message_error",
            json!({ "error": message, "code": code, "event": event }),
        ),
    };
    vec![told, Out::Ack(json!({ "error": message, "code": code }))]
}

// -------------------------------------------------------------- rendering

fn render(event: &DomainEvent) -> Vec<Delivery> {
    match event {
        DomainEvent::MessageCreated {
            conversation,
            message,
            sender,
            department,
            members,
            from_socket,
            ..
        } => new_message(
            *conversation,
            message,
            sender,
            *department,
            members,
            from_socket.as_deref(),
        ),
        DomainEvent::Typing {
            conversation,
            user,
            typing,
            ..
        } => vec![Delivery::to_others_viewing(
            conversation.id,
            &user.id,
            "user_typing",
            json!({
                "userId": user.id,
                "userName": user.name(),
                "conversationId": conversation.string_id(),
                "isTyping": typing,
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
            if *online {
                "user_online"
            } else {
                "user_offline"
            },
            json!({ "userId": user }),
        )],
        DomainEvent::ConversationCreated {
            conversation,
            members,
        } => {
            let mut out = vec![Delivery::Join {
                of: user_rooms(members, None),
                room: conversation_room(conversation.id),
            }];
            out.extend(render_department(event));
            out
        }
        DomainEvent::MemberAdded {
            conversation, user, ..
        } => vec![Delivery::Join {
            of: vec![user_room(user)],
            room: conversation_room(conversation.id),
        }],
        DomainEvent::MemberRemoved {
            conversation, user, ..
        } => vec![Delivery::member_removed(conversation.id, user)],
        DomainEvent::AgentAdded { department, user } => vec![Delivery::Join {
            of: vec![user_room(user)],
            room: department_room(*department),
        }],
        DomainEvent::AgentRemoved { .. } => render_department(event),
        _ => vec![],
    }
}

/// A new message: `new_message` to its conversation's room (and its
/// department's agents), then `message_delivered` to the socket it was sent
/// through.
fn new_message(
    conversation: ConversationIds,
    message: &Message,
    sender: &UserSummary,
    department: Option<i64>,
    members: &[UserId],
    from_socket: Option<&str>,
) -> Vec<Delivery> {
    let mut to = vec![conversation_room(message.conversation_id)];
    to.extend(department.map(department_room));
    let mut out = vec![Delivery::new_message(
        to,
        "new_message",
        message_json(message, sender),
        Receipt::new(message, conversation, members),
    )];
    out.extend(delivered(message, from_socket));
    out
}

/// `message_delivered` to the socket a message was sent through (none for
/// a message sent over REST), after the room heard of it, as the seed's
/// server does (`socket.emit`). Rendered in both namespaces: the socket is
/// in one of them.
fn delivered(message: &Message, from_socket: Option<&str>) -> Option<Delivery> {
    from_socket.map(|socket| {
        Delivery::to_rooms(
            vec![socket_room(socket)],
            "message_delivered",
            delivered_json(message),
        )
    })
}

/// The payload of `message_delivered`: the message id, a string.
fn delivered_json(message: &Message) -> Value {
    json!(message.string_id())
}

/// What the agents of a department hear: new support conversations and
/// their messages; and what a `/department` socket that sent a message is
/// told (`message_delivered`).
fn render_department(event: &DomainEvent) -> Vec<Delivery> {
    match event {
        DomainEvent::ConversationCreated { conversation, .. } => match conversation.department_id {
            Some(d) => vec![Delivery::to_rooms(
                vec![department_room(d)],
                "new_conversation",
                conversation_json(conversation),
            )],
            None => vec![],
        },
        DomainEvent::MessageCreated {
            message,
            sender,
            department,
            from_socket,
            ..
        } => department
            .map(|d| {
                Delivery::to_rooms(
                    vec![department_room(d)],
                    "new_message",
                    message_json(message, sender),
                )
            })
            .into_iter()
            .chain(delivered(message, from_socket.as_deref()))
            .collect(),
        DomainEvent::AgentRemoved { department, user } => vec![Delivery::Leave {
            of: user_room(user),
            room: department_room(*department),
        }],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests;
