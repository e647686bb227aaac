//! The V Chat dialect (`seeds/vchat-api.txt`, and the V Chat Flutter SDK
//! v1 where the seed shows only part): the raw token in the
//! `Authorization` header; namespace `/` holds the rooms list (`join`,
//! `typing`/`typing_changed` in; `update_one_room`, `all_rooms`,
//! `kick_from_group`, `user_online_changed`, `user_typing_changed` out) and
//! namespace `/message` the one open room (`all_messages`, `new_message`, as
//! JSON strings). Error texts follow `accept-language` ([`Lang`]: English,
//! Arabic); messages and rooms have the [`shapes`] the REST API shows too.
//! Decisions where the seed is silent are in `docs/dialects/vchat.md`.

use http::request::Parts;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Delivery, Dialect, HEADER_AUTH_OR_QUERY, Handshake, Language, Out, Receipt, conversation_room,
    header_auth_or_query_token, parse, unknown_event,
};
use crate::core::command::{Actor, Command, ConversationTarget, Outcome};
use crate::core::event::{ConversationIds, DomainEvent};
use crate::core::views::ConversationView;
use crate::core::{CoreError, RowRef, UserId, UserSummary};

pub mod attachment;
pub mod lang;
pub mod push;
pub mod shapes;

pub use attachment::media_name;
pub use lang::Lang;
pub use shapes::{
    DEFAULT_GROUP_IMAGE, DEFAULT_USER_IMAGE, message_json, page_json, profile_image, room_json,
};

/// Namespace `/`: the rooms list.
pub struct VChat;

/// Namespace `/message`: the room a user has open.
pub struct VChatMessage;

/// Messages per page of `all_messages` and `load_more`.
pub const PAGE: u32 = 30;

/// Rooms per page: `join` and `all_rooms` send the first, the SDK's
/// `GET room?page=n` asks for the others.
pub const ROOMS_PAGE: u32 = 30;

/// The first page of the actor's rooms, most recently active first.
pub fn first_rooms() -> Command {
    Command::Conversations {
        catch_up: vec![],
        direct_only: false,
        skip: 0,
        limit: ROOMS_PAGE,
    }
}

/// The client events of `/`.
const ROOT_EVENTS: &[&str] = &["join", "typing", "typing_changed"];

/// The client events of `/message`.
const MESSAGE_EVENTS: &[&str] = &["join", "load_more"];

impl Dialect for VChat {
    fn name(&self) -> &'static str {
        "vchat"
    }

    fn events(&self) -> &'static [&'static str] {
        ROOT_EVENTS
    }

    fn namespace(&self) -> &'static str {
        "/"
    }

    fn handshake(&self) -> Handshake {
        handshake()
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        Ok(match event {
            "join" => first_rooms(),
            // `typing` as the seed names it, `typing_changed` as the SDK
            // sends it (`{status, name, roomId}`: the name shown is the
            // one confab knows the user by).
            "typing" | "typing_changed" => {
                let p: TypingPayload = parse(payload)?;
                Command::Typing {
                    conversation: ConversationTarget::Ref(p.room_id),
                    typing: p.status != TypingStatus::Stop,
                    recording: p.status == TypingStatus::Recording,
                    name: None,
                }
            }
            other => return Err(unknown_event(other)),
        })
    }

    fn encode(&self, actor: &Actor, event: &str, outcome: &Outcome) -> Vec<Out> {
        match outcome {
            Outcome::Conversations { views, .. } => {
                let rooms: Vec<Value> = views.iter().map(|v| room_json(v, actor.id())).collect();
                if event == "all_rooms" {
                    vec![Out::Emit("all_rooms", Value::Array(rooms))]
                } else {
                    vec![Out::Ack(json!({ "success": true, "data": rooms }))]
                }
            }
            Outcome::Room(view) if event == "user_online_changed" => {
                vec![online_changed(view, actor.id())]
            }
            Outcome::Room(view) => vec![Out::Emit("update_one_room", room_json(view, actor.id()))],
            _ => vec![Out::Ack(json!({ "success": true }))],
        }
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        errors(Lang::En, event, error)
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessageCreated {
                conversation,
                members,
                ..
            } => vec![room_update(conversation.id, members)],
            // The last message may have changed.
            DomainEvent::MessageEdited {
                message, members, ..
            }
            | DomainEvent::MessageDeleted { message, members } => {
                vec![room_update(message.conversation_id, members)]
            }
            DomainEvent::MessagesRead {
                conversation,
                members,
                ..
            }
            | DomainEvent::MemberAdded {
                conversation,
                members,
                ..
            } => vec![room_update(conversation.id, members)],
            DomainEvent::MemberRemoved {
                conversation,
                user,
                members,
            } => member_removed(conversation, user, members),
            DomainEvent::ConversationCreated {
                conversation,
                members,
            } => vec![room_update(conversation.id, members)],
            DomainEvent::RoomChanged {
                conversation,
                audience,
            } => vec![room_update(conversation.id, audience)],
            DomainEvent::FriendshipChanged { friendship } => {
                pair_updates(&friendship.requester, &friendship.addressee)
            }
            DomainEvent::Unblocked { by, other } => pair_updates(by, other),
            DomainEvent::Presence { user, audience, .. } => audience
                .iter()
                .map(|member| Delivery::PerUser {
                    users: vec![member.clone()],
                    command: Command::DirectRoomWith { peer: user.clone() },
                    event: "user_online_changed",
                })
                .collect(),
            DomainEvent::Typing {
                conversation,
                user,
                typing,
                recording,
                members,
                ..
            } => vec![typing_changed(
                conversation,
                user,
                *typing,
                *recording,
                members,
            )],
            _ => vec![],
        }
    }
}

impl Dialect for VChatMessage {
    fn name(&self) -> &'static str {
        "vchat"
    }

    fn events(&self) -> &'static [&'static str] {
        MESSAGE_EVENTS
    }

    fn namespace(&self) -> &'static str {
        "/message"
    }

    fn handshake(&self) -> Handshake {
        Handshake {
            reads_on_delivery: true,
            ..handshake()
        }
    }

    fn decode(&self, event: &str, payload: &Value) -> Result<Command, CoreError> {
        Ok(match event {
            "join" => Command::ViewRoom {
                conversation: room_id(payload)?,
                limit: PAGE,
            },
            "load_more" => {
                let p: LoadMore = parse(payload)?;
                Command::History {
                    conversation: p.room_id,
                    before: Some(p.before_message_id),
                    skip: 0,
                    limit: PAGE,
                    include_deleted: true,
                }
            }
            other => return Err(unknown_event(other)),
        })
    }

    fn encode(&self, _actor: &Actor, event: &str, outcome: &Outcome) -> Vec<Out> {
        match outcome {
            // `join`: the socket views this room only.
            Outcome::History(page) if event == "join" => vec![
                Out::UnviewAll,
                Out::View(page.conversation.id),
                Out::Emit("all_messages", Value::String(page_json(page).to_string())),
                Out::Ack(json!({ "success": true })),
            ],
            Outcome::History(page) => vec![Out::Ack(Value::String(page_json(page).to_string()))],
            _ => vec![Out::Ack(json!({ "success": true }))],
        }
    }

    fn encode_error(&self, event: &str, error: &CoreError) -> Vec<Out> {
        errors(Lang::En, event, error)
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessageCreated {
                conversation,
                message,
                sender,
                members,
                ..
            } => vec![Delivery::new_message(
                vec![conversation_room(message.conversation_id)],
                "new_message",
                Value::String(
                    message_json(message, sender.name(), sender.avatar_url.as_deref()).to_string(),
                ),
                Receipt::new(message, *conversation, members),
            )],
            DomainEvent::MemberRemoved {
                conversation, user, ..
            } => vec![Delivery::member_removed(conversation.id, user)],
            _ => vec![],
        }
    }
}

/// Both namespaces: the token in the `Authorization` header (or
/// `auth.token`), error texts in the client's language.
fn handshake() -> Handshake {
    Handshake {
        language: Some(Language {
            errors: |parts, event, error| errors(language(parts), event, error),
            refusal: |parts, message| language(parts).refusal(message),
        }),
        ..Handshake::new(header_auth_or_query_token, HEADER_AUTH_OR_QUERY)
    }
}

fn language(parts: &Parts) -> Lang {
    Lang::from_headers(&parts.headers)
}

fn errors(lang: Lang, event: &str, error: &CoreError) -> Vec<Out> {
    let text = lang.error(error);
    let code = error.code().as_str();
    vec![
        Out::Ack(json!({ "success": false, "error": text, "code": code })),
        Out::Emit(
            "error",
            json!({ "success": false, "error": text, "code": code, "event": event }),
        ),
    ]
}

// --------------------------------------------------------------- decoding

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypingPayload {
    #[serde(deserialize_with = "RowRef::deserialize_any")]
    room_id: RowRef,
    status: TypingStatus,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum TypingStatus {
    Typing,
    Recording,
    Stop,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomPayload {
    #[serde(deserialize_with = "RowRef::deserialize_any")]
    room_id: RowRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoadMore {
    #[serde(deserialize_with = "RowRef::deserialize_any")]
    room_id: RowRef,
    #[serde(deserialize_with = "RowRef::deserialize_any")]
    before_message_id: RowRef,
}

/// The room of `/message`'s `join`: the id itself, or `{roomId}`.
fn room_id(payload: &Value) -> Result<RowRef, CoreError> {
    if payload.is_object() {
        return Ok(parse::<RoomPayload>(payload)?.room_id);
    }
    RowRef::from_json_any(payload)
        .map_err(|_| CoreError::invalid("join takes the room id (a string or {roomId})"))
}

// --------------------------------------------------------------- encoding

/// `user_online_changed`: whether the peer of a direct room is online, as
/// a JSON string.
fn online_changed(view: &ConversationView, me: &UserId) -> Out {
    let peer = view.peer(me);
    let status = i32::from(peer.is_some_and(|p| view.is_online(&p.id)));
    let room = view.summary.conversation.string_id();
    Out::Emit(
        "user_online_changed",
        Value::String(json!({ "status": status, "roomId": room }).to_string()),
    )
}

// -------------------------------------------------------------- rendering

/// A room view for each member, as the room changed for them.
fn room_update(conversation_id: i64, users: &[UserId]) -> Delivery {
    Delivery::PerUser {
        users: users.to_vec(),
        command: Command::Room {
            conversation: RowRef::Id(conversation_id),
        },
        event: "update_one_room",
    }
}

/// A member left or was removed: the others' view of the room changed; the
/// removed member's sockets get `kick_from_group` (the room id: the SDK
/// closes the room if it is open) and `all_rooms` (their list without it).
fn member_removed(
    conversation: &ConversationIds,
    removed: &UserId,
    members: &[UserId],
) -> Vec<Delivery> {
    let others: Vec<UserId> = members.iter().filter(|m| *m != removed).cloned().collect();
    let removed = std::slice::from_ref(removed);
    vec![
        room_update(conversation.id, &others),
        Delivery::to_users(
            removed,
            None,
            "kick_from_group",
            Value::String(conversation.string_id()),
        ),
        Delivery::PerUser {
            users: removed.to_vec(),
            command: first_rooms(),
            event: "all_rooms",
        },
    ]
}

/// The direct room of `a` and `b`, for each of them.
fn pair_updates(a: &UserId, b: &UserId) -> Vec<Delivery> {
    [(a, b), (b, a)]
        .into_iter()
        .map(|(user, peer)| Delivery::PerUser {
            users: vec![user.clone()],
            command: Command::DirectRoomWith { peer: peer.clone() },
            event: "update_one_room",
        })
        .collect()
}

/// `user_typing_changed` to the other members' sockets.
fn typing_changed(
    conversation: &ConversationIds,
    user: &UserSummary,
    typing: bool,
    recording: bool,
    members: &[UserId],
) -> Delivery {
    Delivery::to_users(
        members,
        Some(&user.id),
        "user_typing_changed",
        json!({
            "status": match (typing, recording) {
                (false, _) => "stop",
                (true, true) => "recording",
                (true, false) => "typing",
            },
            "name": user.name(),
            "roomId": conversation.string_id(),
        }),
    )
}

#[cfg(test)]
mod tests;
