//! The core service: checks, then persists, then publishes. One `impl
//! Service` block per area:
//!
//! - `users.rs`: provisioning from tokens, registration and login.
//! - `connections.rs`: sockets opening and closing (presence), online status,
//!   typing.
//! - `conversations.rs`: creating them, membership, muting, and how a client
//!   names one.
//! - `messages.rs`: sending, editing, deleting, history, read and delivery
//!   watermarks.
//! - `friendships.rs`: requests, answers, blocks.
//! - `devices.rs` and `uploads.rs`: push tokens, uploaded files as attachments.
//! - `departments.rs`: the support desk.
//! - `sync.rs`: the change feed of a user (`GET /api/sync`).
//! - `views.rs`: the read models of [`crate::core::views`], built here.
//!
//! [`Service::execute`] runs the [`Command`]s dialects decode, one area
//! method per command.

use std::sync::Arc;
use std::time::Duration;

use super::allowlist::Allowlist;
use super::command::{Actor, Command, Outcome};
use super::event::{DomainEvent, Publisher};
use super::login::{LoginLimits, LoginThrottle, Registration};
use super::ports::{DynStore, Shared};
use super::presence::announce::Announcer;
use super::presence::{Presence, Visibility};
use super::rate::RateLimiter;
use super::rosters::{Roster, Rosters};
use super::typing::Typing;
use super::viewing::Viewing;
use super::{CoreError, Member, UserId};

mod connections;
mod conversations;
mod departments;
mod devices;
mod friendships;
mod messages;
mod provision;
mod sync;
mod uploads;
mod users;
mod views;

pub use conversations::Created;
pub use messages::Sent;
pub use sync::{SYNC_LIMIT_DEFAULT, SYNC_LIMIT_MAX, SyncPage, parse_cursor};

type Result<T> = std::result::Result<T, CoreError>;

/// The limits the core enforces, and its settings.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_text_chars: usize,
    pub max_attachments: usize,
    pub messages_per_minute: u32,
    pub history_page_max: u32,
    pub typing_ttl: Duration,
    /// At most this many users in one online-status query or group creation.
    pub max_batch: usize,
    /// Who hears of a user's presence and may ask for it.
    pub presence: Visibility,
    /// How long a user whose last socket closed stays online: a socket that
    /// comes back within it (a page reload) is no departure and no arrival.
    pub offline_grace: Duration,
    /// How long presence changes are gathered before they are told
    /// together (zero: each at once). Bursts of connections then cost one
    /// write per socket per window, not one per change.
    pub presence_window: Duration,
    /// What may be attached without having been uploaded here.
    pub attachments: Allowlist,
    /// Whether the register routes create accounts.
    pub registration: Registration,
    /// Failed logins allowed per account and per client address.
    pub logins: LoginLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_text_chars: 10_000,
            max_attachments: 10,
            messages_per_minute: 50,
            history_page_max: 100,
            typing_ttl: Duration::from_secs(10),
            max_batch: 500,
            presence: Visibility::Everyone,
            offline_grace: Duration::from_secs(2),
            presence_window: PRESENCE_WINDOW,
            attachments: Allowlist::default(),
            registration: Registration::Open,
            logins: LoginLimits::default(),
        }
    }
}

/// The default [`Limits::presence_window`].
pub const PRESENCE_WINDOW: Duration = Duration::from_millis(10);

pub struct Service {
    store: DynStore,
    /// Drops from `rosters` what each event changes, then publishes it.
    publisher: Arc<dyn Publisher>,
    rosters: Arc<Rosters>,
    presence: Arc<Presence>,
    announcer: Arc<Announcer>,
    viewing: Arc<Viewing>,
    typing: Arc<Typing>,
    rate: RateLimiter,
    logins: LoginThrottle,
    limits: Limits,
}

impl Service {
    /// The service of a single node.
    pub fn new(store: DynStore, publisher: Arc<dyn Publisher>, limits: Limits) -> Arc<Self> {
        Self::clustered(store, publisher, limits, None)
    }

    /// The service of a node, sharing presence, viewing and rate limits with
    /// the other nodes of a cluster when `shared` is given (and following
    /// the presence changes the cluster makes).
    pub fn clustered(
        store: DynStore,
        publisher: Arc<dyn Publisher>,
        limits: Limits,
        shared: Option<Shared>,
    ) -> Arc<Self> {
        let (claims, changes, rate, logins) = match shared {
            Some(Shared {
                claims,
                changes,
                rate,
                logins,
            }) => (Some(claims), Some(changes), Some(rate), Some(logins)),
            None => (None, None, None, None),
        };
        let rosters = Arc::new(Rosters::default());
        let publisher: Arc<dyn Publisher> = Arc::new(Invalidating {
            rosters: rosters.clone(),
            inner: publisher,
        });
        let service = Arc::new(Service {
            rosters,
            typing: Typing::new(limits.typing_ttl, publisher.clone()),
            rate: RateLimiter::per_minute(limits.messages_per_minute).across(rate),
            logins: LoginThrottle::new(limits.logins, logins),
            presence: Arc::new(Presence::clustered(claims.clone(), limits.offline_grace)),
            announcer: Announcer::new(
                store.clone(),
                publisher.clone(),
                limits.presence == Visibility::Everyone,
                limits.presence_window,
            ),
            viewing: Arc::new(Viewing::clustered(claims)),
            store,
            publisher,
            limits,
        });
        if let Some(changes) = changes {
            service.follow_cluster(changes);
        }
        service
    }

    /// The conversations a send checks, kept in memory: the fan-out drops
    /// from them what other nodes' events change.
    pub fn rosters(&self) -> &Arc<Rosters> {
        &self.rosters
    }

    /// A conversation's roster, from memory or else from the store (and
    /// then kept). Not found: `NOT_FOUND`.
    pub(super) async fn roster(&self, r: super::ConversationRef) -> Result<Arc<Roster>> {
        if let Some(roster) = self.rosters.get(r) {
            return Ok(roster);
        }
        let generation = self.rosters.generation();
        let conversation = self
            .store
            .conversation(r)
            .await?
            .ok_or(CoreError::NotFound("conversation"))?;
        let members = self.store.members(conversation.id).await?;
        let friendship = match (conversation.kind, members.as_slice()) {
            (super::ConversationKind::Direct, [a, b]) => {
                self.store.friendship(&a.user_id, &b.user_id).await?
            }
            _ => None,
        };
        Ok(self.rosters.keep(
            generation,
            Roster {
                conversation,
                members,
                friendship,
            },
        ))
    }

    pub fn store(&self) -> &DynStore {
        &self.store
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Who is online on this node.
    pub fn presence(&self) -> &Arc<Presence> {
        &self.presence
    }

    /// Who is viewing which conversation on this node.
    pub fn viewing(&self) -> &Arc<Viewing> {
        &self.viewing
    }

    /// Runs a command decoded by a dialect.
    pub async fn execute(&self, actor: &Actor, command: Command) -> Result<Outcome> {
        self.execute_from(actor, command, None).await
    }

    /// Runs a command that came through the socket `from_socket` (the
    /// runtime's key of it): the events it causes name that socket, so
    /// that a dialect can tell it from the user's other sockets.
    pub async fn execute_from(
        &self,
        actor: &Actor,
        command: Command,
        from_socket: Option<&str>,
    ) -> Result<Outcome> {
        match command {
            Command::Join { conversation } => self.join_conversation(actor, conversation).await,
            Command::Leave { conversation } => self.leave_conversation(actor, conversation).await,
            Command::Send {
                conversation,
                message,
            } => {
                self.send_to(actor, conversation, message, from_socket)
                    .await
            }
            Command::SendFileOrText {
                conversation,
                body,
                kind,
                caption,
            } => {
                let message = messages::file_or_text(body, kind, caption);
                self.send_to(actor, conversation, message, from_socket)
                    .await
            }
            Command::Typing {
                conversation,
                typing,
                recording,
                name,
            } => {
                self.set_typing(actor, conversation, typing, recording, name)
                    .await
            }
            Command::MarkRead { message } => self.read_up_to(actor, message).await,
            Command::OnlineStatus { users } => self
                .online_status(actor, &users)
                .await
                .map(Outcome::OnlineStatus),
            Command::Edit { message, text } => {
                self.edit(actor, message, &text).await.map(Outcome::Edited)
            }
            Command::Delete { message } => self.delete(actor, message).await.map(Outcome::Deleted),
            Command::OpenRoom { target } => self.open_room(actor, target).await,
            Command::History {
                conversation,
                before,
                skip,
                limit,
                include_deleted: true,
            } => self
                .history_page(actor, conversation, before, skip, limit)
                .await
                .map(Outcome::History),
            Command::History {
                conversation,
                before,
                skip,
                limit,
                include_deleted: false,
            } => self
                .live_history_page(actor, conversation, before, skip, limit)
                .await
                .map(Outcome::History),
            Command::Conversations {
                catch_up,
                direct_only,
                skip,
                limit,
            } => {
                self.conversation_list(actor, &catch_up, direct_only, skip, limit)
                    .await
            }
            Command::ReadMessages {
                conversation,
                messages,
            } => self.read_messages(actor, conversation, &messages).await,
            Command::ReadConversation { conversation } => {
                self.read_messages(actor, conversation, &[]).await
            }
            Command::DeleteMany {
                conversation,
                messages,
            } => self
                .delete_many(actor, conversation, &messages)
                .await
                .map(Outcome::DeletedMany),
            Command::Friends => self.friends(actor).await.map(Outcome::Friends),
            Command::Room { conversation } => self.room(actor, conversation).await,
            Command::DirectRoomWith { peer } => self.direct_room_with(actor, &peer).await,
            Command::ViewRoom {
                conversation,
                limit,
            } => self.view_room(actor, conversation, limit).await,
            Command::Rooms => self.rooms(actor).await,
            Command::AgentOf { department } => self.department_as_agent(actor, department).await,
        }
    }
}

fn user_ids(members: &[Member]) -> Vec<UserId> {
    members.iter().map(|m| m.user_id.clone()).collect()
}

/// A name shown for a user or a department: 1 to 100 characters once
/// trimmed, no control characters.
fn validate_name(s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(CoreError::invalid("name must be 1 to 100 characters"));
    }
    Ok(t.to_owned())
}

/// A conversation's title: at most 200 characters once trimmed, no control
/// characters.
fn validate_title(s: &str) -> Result<String> {
    let t = s.trim();
    if t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(CoreError::invalid("title must be at most 200 characters"));
    }
    Ok(t.to_owned())
}

/// The service's publisher: drops from the rosters what an event changes
/// before anyone hears of it, so no send is checked against what it changed.
struct Invalidating {
    rosters: Arc<Rosters>,
    inner: Arc<dyn Publisher>,
}

impl Publisher for Invalidating {
    fn publish(&self, event: DomainEvent) {
        self.rosters.changed(&event);
        self.inner.publish(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("  Sales ").unwrap(), "Sales");
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"x".repeat(101)).is_err());
        assert!(validate_name("a\u{0}b").is_err());
    }
}
