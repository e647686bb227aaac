//! The core service: checks, then persists, then publishes.

use std::sync::Arc;
use std::time::Duration;

use super::command::{Actor, Command, ConversationTarget, Outcome, RoomTarget, SendMessage};
use super::event::{ConversationIds, DeliveredMessage, DomainEvent, Publisher};
use super::ids::validate_attachment_url;
use super::limits::RateLimiter;
use super::{
    Conversation, ConversationKind, ConversationRef, ConversationSummary, CoreError, Member,
    Message, MessageKind, MessageRef, MessageText, NewMessage, Page, PresenceStatus, Profile, Role,
    User, UserId, now_millis, policy,
};
use crate::auth::password;
use crate::fanout::cluster::claims::{Change, Claims};
use crate::fanout::cluster::rate::ClusterRate;
use crate::fanout::presence::{self, Closed, Presence};
use crate::fanout::typing::Typing;
use crate::fanout::viewing::Viewing;
use crate::store::{DynStore, Inserted};

mod departments;
pub use departments::DepartmentView;

type Result<T> = std::result::Result<T, CoreError>;

/// The limits the core enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_text_chars: usize,
    pub max_attachments: usize,
    pub messages_per_minute: u32,
    pub history_page_max: u32,
    pub typing_ttl: Duration,
    /// At most this many users in one online-status query or group creation.
    pub max_batch: usize,
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
        }
    }
}

pub struct Service {
    store: DynStore,
    publisher: Arc<dyn Publisher>,
    presence: Arc<Presence>,
    viewing: Arc<Viewing>,
    typing: Arc<Typing>,
    rate: RateLimiter,
    limits: Limits,
}

/// A conversation with its members, as returned when one is created.
/// A message sent, and the conversation it is in.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    /// False for a client-id retry (the first message, not stored again).
    pub created: bool,
    pub conversation: ConversationIds,
    pub members: Vec<UserId>,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub summary: ConversationSummary,
    /// False when an existing direct conversation was returned.
    pub created: bool,
}

/// What a node shares with the other nodes of its cluster.
pub struct Shared {
    pub claims: Claims,
    pub rate: ClusterRate,
}

impl Service {
    /// The service of a single node.
    pub fn new(store: DynStore, publisher: Arc<dyn Publisher>, limits: Limits) -> Arc<Self> {
        Self::clustered(store, publisher, limits, None)
    }

    /// The service of a node, sharing presence, viewing and rate limits with
    /// the other nodes of a cluster when `shared` is given.
    pub fn clustered(
        store: DynStore,
        publisher: Arc<dyn Publisher>,
        limits: Limits,
        shared: Option<Shared>,
    ) -> Arc<Self> {
        let (claims, rate) = shared.map(|s| (s.claims, s.rate)).unzip();
        Arc::new(Service {
            typing: Typing::new(limits.typing_ttl, publisher.clone()),
            rate: RateLimiter::per_minute(limits.messages_per_minute).across(rate),
            presence: Arc::new(Presence::clustered(claims.clone())),
            viewing: Arc::new(Viewing::clustered(claims)),
            store,
            publisher,
            limits,
        })
    }

    /// Tells of presence changes the cluster made rather than a socket here:
    /// users of a dead node going offline, this node's users coming back
    /// after Redis lost them.
    pub fn follow_cluster(
        self: &Arc<Self>,
        mut changes: tokio::sync::mpsc::UnboundedReceiver<Change>,
    ) {
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(change) = changes.recv().await {
                let Some(this) = this.upgrade() else { return };
                match change {
                    Change::Vacated(key) => {
                        if let Some(user) = presence::claimed_user(&key) {
                            this.went_offline(&user).await;
                        }
                    }
                    Change::Claimed(key) => {
                        if let Some(user) = presence::claimed_user(&key) {
                            this.publish_presence(&user, true).await;
                        }
                    }
                }
            }
        });
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

    // ------------------------------------------------------------------ users

    /// The user named by a verified token: created on first sight, its
    /// profile refreshed from the claims after.
    pub async fn provision(&self, id: &UserId, profile: Profile) -> Result<User> {
        Ok(self.store.upsert_user(id, &profile, now_millis()).await?)
    }

    /// Registers a password user; `id` is generated unless given.
    pub async fn register(
        &self,
        id: Option<UserId>,
        username: &str,
        password: &str,
        display_name: Option<String>,
    ) -> Result<User> {
        validate_username(username)?;
        password::validate_password(password).map_err(CoreError::invalid)?;
        let display_name = display_name.map(|n| validate_name(&n)).transpose()?;
        let pw = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(|_| CoreError::invalid("password hashing failed"))?
            .map_err(|_| CoreError::invalid("password hashing failed"))?;
        let id = id.unwrap_or_else(|| UserId::from_trusted(uuid::Uuid::new_v4().to_string()));
        let profile = Profile {
            display_name,
            ..Profile::default()
        };
        self.store
            .create_password_user(&id, username, &profile, &hash, now_millis())
            .await
            .map_err(|e| match CoreError::from(e) {
                CoreError::Conflict(_) => CoreError::Conflict("username is taken"),
                other => other,
            })
    }

    /// Checks a username and password; the same error for an unknown user and
    /// a wrong password.
    pub async fn login(&self, username: &str, password: &str) -> Result<User> {
        let creds = self.store.credentials(username).await?;
        let (user, hash) = match creds {
            Some(c) => (Some(c.user), c.password_hash),
            // Verify against a fixed hash anyway so timing does not tell.
            None => (None, DUMMY_HASH.to_owned()),
        };
        let pw = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
            .await
            .unwrap_or(false);
        match user {
            Some(u) if ok => Ok(u),
            _ => Err(CoreError::Unauthenticated),
        }
    }

    pub async fn user(&self, id: &UserId) -> Result<User> {
        self.store
            .user(id)
            .await?
            .ok_or(CoreError::NotFound("user"))
    }

    // ------------------------------------------------------------ connections

    /// A socket of `actor` opened; the first one brings the user online.
    pub async fn connected(&self, actor: &Actor) {
        if self.presence.connect(actor.id()).await {
            self.publish_presence(actor.id(), true).await;
        }
    }

    /// A socket of `actor` closed: the user's last one on this node ends
    /// their typing here; their last one anywhere takes them offline.
    pub async fn disconnected(&self, actor: &Actor) {
        if let Closed::Last { offline } = self.presence.disconnect(actor.id()).await {
            self.typing.stop_all(actor.id());
            if offline {
                self.went_offline(actor.id()).await;
            }
        }
    }

    /// This node is stopping: its users who have no socket elsewhere go
    /// offline now, and their contacts are told.
    pub async fn leave_cluster(&self) {
        for user in self.presence.leave().await {
            self.went_offline(&user).await;
        }
    }

    async fn went_offline(&self, user: &UserId) {
        if let Err(e) = self.store.set_last_seen(user, now_millis()).await {
            tracing::warn!(error = %e, "could not store last-seen time");
        }
        self.publish_presence(user, false).await;
    }

    async fn publish_presence(&self, user: &UserId, online: bool) {
        match self.store.contacts(user).await {
            Ok(audience) => self.publisher.publish(DomainEvent::Presence {
                user: user.clone(),
                online,
                at: now_millis(),
                audience,
            }),
            Err(e) => tracing::warn!(error = %e, "could not load contacts for presence"),
        }
    }

    /// Online state of `users` as `actor` may see it: real for the actor and
    /// users sharing a conversation with it, offline for everyone else.
    pub async fn online_status(
        &self,
        actor: &Actor,
        users: &[UserId],
    ) -> Result<Vec<PresenceStatus>> {
        if users.len() > self.limits.max_batch {
            return Err(CoreError::invalid(format!(
                "at most {} user ids at once",
                self.limits.max_batch
            )));
        }
        let contacts = self.store.contacts(actor.id()).await?;
        let visible: Vec<UserId> = users
            .iter()
            .filter(|u| *u == actor.id() || contacts.contains(u))
            .cloned()
            .collect();
        let stored = self.store.users(&visible).await?;
        let online_now = self.presence.online_among(&visible).await;
        let now = now_millis();
        Ok(users
            .iter()
            .map(|u| {
                let seen = visible.contains(u);
                let online = seen && online_now.contains(u);
                let stored_seen = stored
                    .iter()
                    .find(|s| &s.id == u)
                    .and_then(|s| s.last_seen_at);
                PresenceStatus {
                    user_id: u.clone(),
                    online,
                    last_seen_at: if seen {
                        presence::last_seen(online, stored_seen, now)
                    } else {
                        None
                    },
                }
            })
            .collect())
    }

    // ---------------------------------------------------------- conversations

    /// Creates a group, or returns the direct conversation of the actor and
    /// the one other member (creating it on first use). Ids not seen yet are
    /// provisioned as placeholders.
    pub async fn create_conversation(
        &self,
        actor: &Actor,
        kind: ConversationKind,
        member_ids: Vec<UserId>,
        title: Option<String>,
    ) -> Result<Created> {
        let mut others: Vec<UserId> = member_ids.into_iter().filter(|m| m != actor.id()).collect();
        others.sort();
        others.dedup();
        if others.len() > self.limits.max_batch {
            return Err(CoreError::invalid(format!(
                "at most {} members at once",
                self.limits.max_batch
            )));
        }
        let title = title.map(|t| validate_title(&t)).transpose()?;
        let now = now_millis();
        let (conversation, created) = match kind {
            ConversationKind::Direct => {
                let [other] = others.as_slice() else {
                    return Err(CoreError::invalid(
                        "a direct conversation needs exactly one other member",
                    ));
                };
                self.store
                    .ensure_users(std::slice::from_ref(other), now)
                    .await?;
                self.store
                    .direct_conversation(actor.id(), other, now)
                    .await?
            }
            ConversationKind::Group => {
                self.store.ensure_users(&others, now).await?;
                let c = self
                    .store
                    .create_group(actor.id(), title.as_deref(), &others, now)
                    .await?;
                (c, true)
            }
        };
        let summary = self.summary(actor, conversation).await?;
        if created {
            self.publisher.publish(DomainEvent::ConversationCreated {
                conversation: summary.conversation.clone(),
                members: user_ids(&summary.members),
            });
        }
        Ok(Created { summary, created })
    }

    pub async fn conversations(&self, actor: &Actor) -> Result<Vec<ConversationSummary>> {
        Ok(self.store.conversations_of(actor.id()).await?)
    }

    pub async fn conversation(
        &self,
        actor: &Actor,
        r: ConversationRef,
    ) -> Result<ConversationSummary> {
        let (conversation, members) = self.membership(actor, r).await?;
        let last_message = self
            .store
            .messages(
                conversation.id,
                Page {
                    before_seq: None,
                    after_seq: None,
                    limit: 1,
                },
            )
            .await?
            .pop();
        let unread_count = self.store.unread_count(conversation.id, actor.id()).await?;
        Ok(ConversationSummary {
            conversation,
            members,
            last_message,
            unread_count,
        })
    }

    async fn summary(&self, actor: &Actor, c: Conversation) -> Result<ConversationSummary> {
        self.conversation(actor, ConversationRef::Id(c.id)).await
    }

    /// The conversation and its members, if the actor is one of them.
    async fn membership(
        &self,
        actor: &Actor,
        r: ConversationRef,
    ) -> Result<(Conversation, Vec<Member>)> {
        let conversation = self
            .store
            .conversation(r)
            .await?
            .ok_or(CoreError::NotFound("conversation"))?;
        let members = self.store.members(conversation.id).await?;
        policy::require_member(&members, actor.id())?;
        Ok((conversation, members))
    }

    pub async fn add_member(
        &self,
        actor: &Actor,
        r: ConversationRef,
        user: &UserId,
    ) -> Result<ConversationSummary> {
        let (conversation, members) = self.membership(actor, r).await?;
        let me = policy::require_member(&members, actor.id())?;
        policy::may_add_member(conversation.kind, me)?;
        let now = now_millis();
        self.store
            .ensure_users(std::slice::from_ref(user), now)
            .await?;
        if self
            .store
            .add_member(conversation.id, user, Role::Member, now)
            .await?
        {
            let mut ids = user_ids(&members);
            ids.push(user.clone());
            self.publisher.publish(DomainEvent::MemberAdded {
                conversation: (&conversation).into(),
                user: user.clone(),
                members: ids,
            });
        }
        self.summary(actor, conversation).await
    }

    /// Mutes or unmutes a conversation for the actor: no push for it.
    pub async fn set_muted(
        &self,
        actor: &Actor,
        r: ConversationRef,
        muted: bool,
    ) -> Result<Conversation> {
        let (conversation, _) = self.membership(actor, r).await?;
        if self
            .store
            .set_muted(conversation.id, actor.id(), muted)
            .await?
        {
            self.publisher.publish(DomainEvent::RoomChanged {
                conversation: (&conversation).into(),
                audience: vec![actor.id().clone()],
            });
        }
        Ok(conversation)
    }

    /// Removes a member (or lets the actor leave). Returns whether it was one.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        r: ConversationRef,
        user: &UserId,
    ) -> Result<()> {
        let (conversation, members) = self.membership(actor, r).await?;
        let me = policy::require_member(&members, actor.id())?;
        let target = members
            .iter()
            .find(|m| &m.user_id == user)
            .ok_or(CoreError::NotFound("member"))?;
        policy::may_remove_member(conversation.kind, me, target)?;
        if self.store.remove_member(conversation.id, user).await? {
            self.typing.stop(conversation.id, user);
            self.publisher.publish(DomainEvent::MemberRemoved {
                conversation: (&conversation).into(),
                user: user.clone(),
                members: user_ids(&members),
            });
        }
        Ok(())
    }

    // --------------------------------------------------------------- messages

    /// A page of history, and the members (whose watermarks give each
    /// message's [`super::DeliveryStatus`]). `before`/`after` are messages
    /// of this conversation.
    pub async fn history(
        &self,
        actor: &Actor,
        r: ConversationRef,
        before: Option<MessageRef>,
        after: Option<MessageRef>,
        limit: Option<u32>,
    ) -> Result<(Vec<Message>, Vec<Member>)> {
        let limit = limit.unwrap_or(50);
        if limit == 0 || limit > self.limits.history_page_max {
            return Err(CoreError::invalid(format!(
                "limit must be between 1 and {}",
                self.limits.history_page_max
            )));
        }
        let (conversation, members) = self.membership(actor, r).await?;
        let before_seq = self.cursor(&conversation, before).await?;
        let after_seq = self.cursor(&conversation, after).await?;
        let messages = self
            .store
            .messages(
                conversation.id,
                Page {
                    before_seq,
                    after_seq,
                    limit,
                },
            )
            .await?;
        Ok((messages, members))
    }

    async fn cursor(
        &self,
        conversation: &Conversation,
        r: Option<MessageRef>,
    ) -> Result<Option<i64>> {
        let Some(r) = r else { return Ok(None) };
        match self.store.message(r).await? {
            Some(m) if m.conversation_id == conversation.id => Ok(Some(m.seq)),
            _ => Err(CoreError::invalid(
                "cursor is not a message of this conversation",
            )),
        }
    }

    /// Sends a message; the stored message and whether it is new (false for
    /// a client-id retry).
    pub async fn send(
        &self,
        actor: &Actor,
        r: ConversationRef,
        msg: SendMessage,
    ) -> Result<(Message, bool)> {
        let sent = self.send_message(actor, r, msg).await?;
        Ok((sent.message, sent.created))
    }

    /// [`Service::send`], with what a dialect needs to name the conversation.
    pub async fn send_message(
        &self,
        actor: &Actor,
        r: ConversationRef,
        msg: SendMessage,
    ) -> Result<Sent> {
        let text = match msg.text.as_deref() {
            Some(t) if !t.trim().is_empty() => {
                Some(MessageText::parse(t, self.limits.max_text_chars)?.into_string())
            }
            _ => None,
        };
        if msg.attachments.len() > self.limits.max_attachments {
            return Err(CoreError::invalid(format!(
                "at most {} attachments",
                self.limits.max_attachments
            )));
        }
        for url in &msg.attachments {
            validate_attachment_url(url)?;
        }
        if text.is_none() && msg.attachments.is_empty() {
            return Err(CoreError::invalid("a message needs text or attachments"));
        }
        let client_id = msg
            .client_id
            .as_deref()
            .map(super::ClientId::parse)
            .transpose()?
            .map(|c| c.as_str().to_owned());
        let (conversation, members) = self.membership(actor, r).await?;
        self.check_not_blocked(&conversation, &members).await?;
        self.check_attachments(actor, &conversation, &msg.attachments)
            .await?;
        if let Err(wait) = self.rate.check(actor.id()).await {
            return Err(CoreError::RateLimited {
                retry_after_ms: wait.as_millis() as u64,
            });
        }
        let kind = self.message_kind(msg.kind, &msg.attachments).await?;
        let inserted = self
            .store
            .insert_message(NewMessage {
                conversation_id: conversation.id,
                sender_id: actor.id().clone(),
                kind,
                text,
                attachments: msg.attachments,
                client_id,
                created_at: now_millis(),
            })
            .await?;
        let muted = members
            .iter()
            .filter(|m| m.muted)
            .map(|m| m.user_id.clone())
            .collect();
        let members = user_ids(&members);
        let (message, created) = match inserted {
            Inserted::New(message) => {
                self.typing.stop(conversation.id, actor.id());
                self.publisher.publish(DomainEvent::MessageCreated {
                    conversation: (&conversation).into(),
                    message: message.clone(),
                    sender: actor.user.clone(),
                    members: members.clone(),
                    department: conversation.department_id,
                    muted,
                });
                (message, true)
            }
            Inserted::Duplicate(message) => (message, false),
        };
        Ok(Sent {
            message,
            created,
            conversation: (&conversation).into(),
            members,
        })
    }

    /// The kind a message is stored with: a non-text kind needs exactly one
    /// attachment; without one given, text when there are no attachments,
    /// else the kind of the one recorded upload, else file.
    async fn message_kind(
        &self,
        given: Option<MessageKind>,
        attachments: &[String],
    ) -> Result<MessageKind> {
        match given {
            Some(MessageKind::Text) | None if attachments.is_empty() => Ok(MessageKind::Text),
            Some(MessageKind::Text) => Ok(MessageKind::Text),
            Some(kind) => {
                if attachments.len() != 1 {
                    return Err(CoreError::invalid(format!(
                        "a message of kind {} needs exactly one attachment",
                        kind.as_str()
                    )));
                }
                Ok(kind)
            }
            None => {
                if let [one] = attachments
                    && let Some(upload) = self.store.upload(one).await?
                {
                    return Ok(upload.kind);
                }
                Ok(MessageKind::File)
            }
        }
    }

    /// The message and its conversation's members, if the actor is one.
    async fn message_membership(
        &self,
        actor: &Actor,
        r: MessageRef,
    ) -> Result<(Message, Conversation, Vec<Member>)> {
        let message = self
            .store
            .message(r)
            .await?
            .ok_or(CoreError::NotFound("message"))?;
        let (conversation, members) = self
            .membership(actor, ConversationRef::Id(message.conversation_id))
            .await
            .map_err(|e| match e {
                CoreError::NotFound(_) => CoreError::NotFound("message"),
                other => other,
            })?;
        Ok((message, conversation, members))
    }

    pub async fn edit(&self, actor: &Actor, r: MessageRef, text: &str) -> Result<Message> {
        let text = MessageText::parse(text, self.limits.max_text_chars)?;
        let (message, _, members) = self.message_membership(actor, r).await?;
        policy::may_edit(&message, actor.id())?;
        let edited = self
            .store
            .edit_message(message.id, text.as_str(), now_millis())
            .await?;
        self.publisher.publish(DomainEvent::MessageEdited {
            message: edited.clone(),
            members: user_ids(&members),
        });
        Ok(edited)
    }

    pub async fn delete(&self, actor: &Actor, r: MessageRef) -> Result<Message> {
        let (message, conversation, members) = self.message_membership(actor, r).await?;
        let me = policy::require_member(&members, actor.id())?;
        policy::may_delete(&message, me, conversation.kind)?;
        if message.deleted_at.is_some() {
            return Ok(message);
        }
        let deleted = self.store.delete_message(message.id, now_millis()).await?;
        self.publisher.publish(DomainEvent::MessageDeleted {
            message: deleted.clone(),
            members: user_ids(&members),
        });
        Ok(deleted)
    }

    /// Marks everything up to and including `r` read.
    pub async fn mark_read(&self, actor: &Actor, r: MessageRef) -> Result<(Message, i64)> {
        let (message, conversation, members) = self.message_membership(actor, r).await?;
        let me = policy::require_member(&members, actor.id())?;
        let previous = me.last_read_seq;
        match self
            .store
            .mark_read(conversation.id, actor.id(), message.seq)
            .await?
        {
            Some(up_to_seq) => {
                self.publisher.publish(DomainEvent::MessagesRead {
                    conversation: (&conversation).into(),
                    reader: actor.id().clone(),
                    up_to_seq,
                    message: message.clone(),
                    at: now_millis(),
                    members: user_ids(&members),
                });
                Ok((message, up_to_seq))
            }
            None => Ok((message, previous)),
        }
    }

    /// Marks a conversation read up to the newest of `refs`, which must all
    /// be messages of it (else `NOT_FOUND`); none marks it read up to its
    /// newest message.
    pub async fn read_messages(
        &self,
        actor: &Actor,
        r: ConversationRef,
        refs: &[MessageRef],
    ) -> Result<(Conversation, i64)> {
        if refs.is_empty() {
            return self.mark_conversation_read(actor, r).await;
        }
        if refs.len() > self.limits.history_page_max as usize {
            return Err(CoreError::invalid(format!(
                "at most {} message ids at once",
                self.limits.history_page_max
            )));
        }
        let (conversation, _) = self.membership(actor, r).await?;
        let mut newest: Option<Message> = None;
        for r in refs {
            let m = self
                .store
                .message(*r)
                .await?
                .filter(|m| m.conversation_id == conversation.id)
                .ok_or(CoreError::NotFound("message"))?;
            if newest.as_ref().is_none_or(|n| m.seq > n.seq) {
                newest = Some(m);
            }
        }
        let newest = newest.ok_or(CoreError::NotFound("message"))?;
        let (_, up_to) = self.mark_read(actor, MessageRef::Id(newest.id)).await?;
        Ok((conversation, up_to))
    }

    /// Records that `message` (and so everything before it) reached a
    /// socket of each of `recipients`: one write and one event for them all,
    /// however large the conversation.
    /// Records that `recipients` received `message`; `members` (the
    /// conversation's when the message was sent) hear of it.
    pub async fn mark_delivered(
        &self,
        recipients: &[UserId],
        message: &DeliveredMessage,
        members: Vec<UserId>,
    ) -> Result<()> {
        let conversation = message.conversation;
        let (moved, up_to_seq) = self
            .store
            .mark_delivered(conversation.id, recipients, message.seq)
            .await?;
        if !moved.is_empty() {
            self.publisher.publish(DomainEvent::MessagesDelivered {
                conversation,
                message: message.clone(),
                recipients: moved,
                up_to_seq,
                at: now_millis(),
                members,
            });
        }
        Ok(())
    }

    pub async fn typing(
        &self,
        actor: &Actor,
        r: ConversationRef,
        typing: bool,
        recording: bool,
    ) -> Result<Conversation> {
        let (conversation, members) = self.membership(actor, r).await?;
        if typing {
            self.typing.start(
                (&conversation).into(),
                actor.user.clone(),
                user_ids(&members),
                recording,
            );
        } else {
            self.typing.stop(conversation.id, actor.id());
        }
        Ok(conversation)
    }

    /// The conversation a client named. A `<userA>_<userB>` pair names the
    /// direct conversation of those two users, created on first use, and
    /// only if the actor is one of them: otherwise `NOT_FOUND`, whether or
    /// not it exists. User ids may contain `_`, so every split in which one
    /// half is the actor is tried, in order.
    pub async fn resolve(
        &self,
        actor: &Actor,
        target: ConversationTarget,
    ) -> Result<ConversationRef> {
        match target {
            ConversationTarget::Ref(r) => Ok(r),
            ConversationTarget::Pair(pair) => {
                let peer =
                    pair_peer(&pair, actor.id()).ok_or(CoreError::NotFound("conversation"))?;
                let c = self
                    .create_conversation(actor, ConversationKind::Direct, vec![peer], None)
                    .await?;
                Ok(ConversationRef::Id(c.summary.conversation.id))
            }
        }
    }

    /// Runs a command decoded by a dialect.
    pub async fn execute(&self, actor: &Actor, command: Command) -> Result<Outcome> {
        Ok(match command {
            Command::Join { conversation } => {
                let conversation = self.resolve(actor, conversation).await?;
                let (conversation, members) = self.join(actor, conversation).await?;
                Outcome::Joined {
                    conversation,
                    members,
                }
            }
            Command::Leave { conversation } => {
                let conversation = self.resolve(actor, conversation).await?;
                Outcome::Left(self.membership(actor, conversation).await?.0)
            }
            Command::Send {
                conversation,
                message,
            } => {
                let conversation = self.resolve(actor, conversation).await?;
                let sent = self.send_message(actor, conversation, message).await?;
                Outcome::Sent {
                    message: sent.message,
                    sender: actor.user.clone(),
                    created: sent.created,
                    conversation: sent.conversation,
                    members: sent.members,
                }
            }
            Command::Typing {
                conversation,
                typing,
                recording,
            } => {
                let conversation = self.resolve(actor, conversation).await?;
                Outcome::Typing {
                    conversation: self.typing(actor, conversation, typing, recording).await?,
                    typing,
                }
            }
            Command::MarkRead { message } => {
                let (message, up_to_seq) = self.mark_read(actor, message).await?;
                Outcome::Read { message, up_to_seq }
            }
            Command::OnlineStatus { users } => {
                Outcome::OnlineStatus(self.online_status(actor, &users).await?)
            }
            Command::Edit { message, text } => {
                Outcome::Edited(self.edit(actor, message, &text).await?)
            }
            Command::Delete { message } => Outcome::Deleted(self.delete(actor, message).await?),
            Command::OpenRoom { target } => {
                let (r, created) = match target {
                    RoomTarget::Conversation(r) => (r, false),
                    RoomTarget::Peer(peer) => {
                        let c = self
                            .create_conversation(actor, ConversationKind::Direct, vec![peer], None)
                            .await?;
                        (ConversationRef::Id(c.summary.conversation.id), c.created)
                    }
                };
                Outcome::RoomOpened {
                    me: actor.id().clone(),
                    view: Box::new(self.conversation_view(actor, r).await?),
                    created,
                }
            }
            Command::History {
                conversation,
                before,
                skip,
                limit,
            } => Outcome::History(
                self.history_page(actor, conversation, before, skip, limit)
                    .await?,
            ),
            Command::Conversations {
                catch_up,
                direct_only,
                skip,
                limit,
            } => {
                let (views, total) = self
                    .conversation_views(
                        actor,
                        &catch_up,
                        direct_only,
                        skip as usize,
                        limit as usize,
                    )
                    .await?;
                Outcome::Conversations {
                    me: actor.id().clone(),
                    views,
                    total,
                    direct_only,
                }
            }
            Command::ReadMessages {
                conversation,
                messages,
            } => {
                let conversation = self.resolve(actor, conversation).await?;
                let (conversation, up_to_seq) =
                    self.read_messages(actor, conversation, &messages).await?;
                Outcome::ConversationRead {
                    conversation,
                    up_to_seq,
                }
            }
            Command::ReadConversation { conversation } => {
                let conversation = self.resolve(actor, conversation).await?;
                let (conversation, up_to_seq) =
                    self.mark_conversation_read(actor, conversation).await?;
                Outcome::ConversationRead {
                    conversation,
                    up_to_seq,
                }
            }
            Command::DeleteMany {
                conversation,
                messages,
            } => Outcome::DeletedMany(self.delete_many(actor, conversation, &messages).await?),
            Command::Friends => Outcome::Friends(self.friends(actor).await?),
            Command::Room { conversation } => {
                Outcome::Room(Box::new(self.conversation_view(actor, conversation).await?))
            }
            Command::DirectRoomWith { peer } => {
                let conversation = self
                    .store
                    .direct_conversation_between(actor.id(), &peer)
                    .await?
                    .ok_or(CoreError::NotFound("conversation"))?;
                let view = self
                    .conversation_view(actor, ConversationRef::Id(conversation.id))
                    .await?;
                Outcome::Room(Box::new(view))
            }
            Command::ViewRoom {
                conversation,
                limit,
            } => {
                self.mark_conversation_read(actor, conversation).await?;
                let page = self
                    .history_page(actor, conversation, None, 0, limit)
                    .await?;
                Outcome::History(page)
            }
            Command::Rooms => Outcome::Rooms {
                conversations: self.store.conversation_ids_of(actor.id()).await?,
                departments: self.departments(actor).await?,
            },
            Command::AgentOf { department } => {
                Outcome::Departments(vec![self.agent_of(actor, department).await?.0])
            }
        })
    }
}

/// The other user of a `<userA>_<userB>` pair id in which `me` is one half.
pub fn pair_peer(pair: &str, me: &UserId) -> Option<UserId> {
    let me = me.as_str();
    pair.match_indices('_').find_map(|(i, _)| {
        let (a, b) = (&pair[..i], &pair[i + 1..]);
        let peer = if a == me {
            b
        } else if b == me {
            a
        } else {
            return None;
        };
        (peer != me).then(|| UserId::parse(peer).ok()).flatten()
    })
}

fn user_ids(members: &[Member]) -> Vec<UserId> {
    members.iter().map(|m| m.user_id.clone()).collect()
}

/// A login name: 3 to 64 characters of letters, digits, `.`, `_`, `-`,
/// `+` and `@` (so an email address is one, as V Chat's clients use).
pub fn validate_username(s: &str) -> Result<()> {
    let ok = (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "username must be 3 to 64 characters of letters, digits, '.', '_', '-', '+' and '@'",
        ))
    }
}

fn validate_name(s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(CoreError::invalid("name must be 1 to 100 characters"));
    }
    Ok(t.to_owned())
}

fn validate_title(s: &str) -> Result<String> {
    let t = s.trim();
    if t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(CoreError::invalid("title must be at most 200 characters"));
    }
    Ok(t.to_owned())
}

/// An argon2 hash of a random password, verified against when a username is
/// unknown so that login timing does not reveal which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3d0mU0ZV8J4iH1g5Qd0p3kqg3x0pJ4gM9v1oN3GQ0uE";

// ------------------------------------------------- friendships, devices, uploads

use super::{Conversation as Chat, Device, DevicePlatform, Friendship, FriendshipStatus, Upload};

/// The longest push token accepted (FCM tokens are about 160 bytes; web push
/// subscriptions serialized as JSON are longer).
const MAX_DEVICE_TOKEN: usize = 4096;

/// Where uploads live on this server; attachments under it must be uploads
/// the sender may use.
const UPLOADS_PREFIX: &str = "/uploads/";

impl Service {
    /// `actor` asks `other` to be friends (see `policy::request_friendship`).
    pub async fn request_friendship(&self, actor: &Actor, other: &UserId) -> Result<Friendship> {
        let existing = self.store.friendship(actor.id(), other).await?;
        let next = policy::request_friendship(actor.id(), other, existing.as_ref(), now_millis())?;
        self.put_friendship(existing, next).await
    }

    /// `actor` accepts or rejects the pending request `requester` sent them.
    pub async fn respond_friendship(
        &self,
        actor: &Actor,
        requester: &UserId,
        accept: bool,
    ) -> Result<Friendship> {
        let existing = self.store.friendship(actor.id(), requester).await?;
        let next = policy::respond_friendship(
            actor.id(),
            requester,
            existing.as_ref(),
            accept,
            now_millis(),
        )?;
        self.put_friendship(existing, next).await
    }

    /// `actor` blocks `other`, with or without a friendship before: no
    /// messages in their direct conversation until `actor` unblocks.
    pub async fn block(&self, actor: &Actor, other: &UserId) -> Result<Friendship> {
        let existing = self.store.friendship(actor.id(), other).await?;
        let next = policy::block(actor.id(), other, existing.as_ref(), now_millis())?;
        self.put_friendship(existing, next).await
    }

    /// The user who blocked lifts the block; the pair then has no
    /// friendship at all.
    pub async fn unblock(&self, actor: &Actor, other: &UserId) -> Result<()> {
        let existing = self.store.friendship(actor.id(), other).await?;
        policy::may_unblock(actor.id(), existing.as_ref())?;
        if self.store.delete_friendship(actor.id(), other).await? {
            self.publisher.publish(DomainEvent::Unblocked {
                by: actor.id().clone(),
                other: other.clone(),
            });
        }
        Ok(())
    }

    /// Stores and publishes a friendship if it changed.
    async fn put_friendship(
        &self,
        existing: Option<Friendship>,
        next: Friendship,
    ) -> Result<Friendship> {
        if existing.as_ref() != Some(&next) {
            self.store.put_friendship(&next).await?;
            self.publisher.publish(DomainEvent::FriendshipChanged {
                friendship: next.clone(),
            });
        }
        Ok(next)
    }

    /// Every friendship of `actor`, whatever its status, most recent first.
    pub async fn friendships(&self, actor: &Actor) -> Result<Vec<Friendship>> {
        Ok(self.store.friendships_of(actor.id()).await?)
    }

    /// The friendship of `actor` and `other`, if there is one.
    pub async fn friendship_between(
        &self,
        actor: &Actor,
        other: &UserId,
    ) -> Result<Option<Friendship>> {
        if actor.id() == other {
            return Ok(None);
        }
        Ok(self.store.friendship(actor.id(), other).await?)
    }

    /// The accepted friendships of `actor`, each with the friend's user and
    /// their direct conversation if one exists (it is not created).
    pub async fn friends_with_chats(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(Friendship, User, Option<Chat>)>> {
        let accepted: Vec<Friendship> = self
            .store
            .friendships_of(actor.id())
            .await?
            .into_iter()
            .filter(|f| f.status == FriendshipStatus::Accepted)
            .collect();
        let ids: Vec<UserId> = accepted
            .iter()
            .map(|f| f.other(actor.id()).clone())
            .collect();
        let users = self.store.users(&ids).await?;
        let mut out = Vec::with_capacity(accepted.len());
        for f in accepted {
            let other = f.other(actor.id());
            let Some(user) = users.iter().find(|u| &u.id == other).cloned() else {
                continue;
            };
            let chat = self
                .store
                .direct_conversation_between(actor.id(), other)
                .await?;
            out.push((f, user, chat));
        }
        Ok(out)
    }

    /// Refuses a message in a direct conversation whose two users are blocked.
    async fn check_not_blocked(&self, conversation: &Chat, members: &[Member]) -> Result<()> {
        if conversation.kind != ConversationKind::Direct {
            return Ok(());
        }
        let [a, b] = members else {
            return Ok(());
        };
        let friendship = self.store.friendship(&a.user_id, &b.user_id).await?;
        policy::may_message(conversation.kind, friendship.as_ref())
    }

    /// Registers a push token of one of `actor`'s devices (moving it from
    /// another user if it was theirs): 1 to 4096 visible ASCII characters.
    pub async fn register_device(
        &self,
        actor: &Actor,
        token: &str,
        platform: DevicePlatform,
    ) -> Result<Device> {
        validate_device_token(token)?;
        let device = Device {
            user_id: actor.id().clone(),
            token: token.to_owned(),
            platform,
            created_at: now_millis(),
        };
        self.store.add_device(&device).await?;
        Ok(device)
    }

    /// Removes one of `actor`'s push tokens; false if they had no such token.
    pub async fn remove_device(&self, actor: &Actor, token: &str) -> Result<bool> {
        validate_device_token(token)?;
        Ok(self.store.remove_device(actor.id(), token).await?)
    }

    /// Records a file the upload handler stored.
    pub async fn record_upload(&self, upload: Upload) -> Result<Upload> {
        self.store.record_upload(&upload).await?;
        Ok(upload)
    }

    /// Attachments that are server paths under `/uploads/` must be uploads
    /// of `actor`, or already attached to a message of this conversation
    /// (forwarding within it). External http(s) URLs are not checked.
    pub async fn check_attachments(
        &self,
        actor: &Actor,
        conversation: &Chat,
        urls: &[String],
    ) -> Result<()> {
        for url in urls {
            let Some(path) = server_path(url)? else {
                continue;
            };
            if !path.starts_with(UPLOADS_PREFIX) {
                continue;
            }
            match self.store.upload(path).await? {
                Some(u) if &u.owner == actor.id() => {}
                found => {
                    if !self.store.attachment_used_in(conversation.id, path).await? {
                        return Err(match found {
                            Some(_) => {
                                CoreError::Forbidden("an attachment is another user's upload")
                            }
                            None => CoreError::invalid(format!("unknown upload {path}")),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn validate_device_token(token: &str) -> Result<()> {
    if (1..=MAX_DEVICE_TOKEN).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())
    {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "a device token must be 1 to 4096 visible ASCII characters",
        ))
    }
}

/// The path of an attachment that names a file on this server (`/...` but
/// not `//host/...`), refusing dot segments so that a path cannot step into
/// `/uploads/` from elsewhere or out of it.
fn server_path(url: &str) -> Result<Option<&str>> {
    if !url.starts_with('/') || url.starts_with("//") {
        return Ok(None);
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let dotted = path.split('/').any(|seg| {
        let seg = seg.to_ascii_lowercase().replace("%2e", ".");
        seg == "." || seg == ".."
    }) || path.contains('\\')
        || path.to_ascii_lowercase().contains("%2f")
        || path.to_ascii_lowercase().contains("%5c");
    if dotted {
        return Err(CoreError::invalid(
            "attachment paths must not contain dot segments or encoded separators",
        ));
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn a_pair_id_names_the_peer_only_for_one_of_its_two_users() {
        assert_eq!(pair_peer("alice_bob", &u("alice")), Some(u("bob")));
        assert_eq!(pair_peer("alice_bob", &u("bob")), Some(u("alice")));
        assert_eq!(pair_peer("alice_bob", &u("carol")), None);
        assert_eq!(pair_peer("alice_alice", &u("alice")), None);
        assert_eq!(pair_peer("alice_", &u("alice")), None);
        assert_eq!(pair_peer("alice", &u("alice")), None);
    }

    #[test]
    fn a_pair_id_splits_where_one_half_is_the_actor() {
        assert_eq!(pair_peer("a_b_c", &u("a_b")), Some(u("c")));
        assert_eq!(pair_peer("a_b_c", &u("a")), Some(u("b_c")));
        assert_eq!(pair_peer("a_b_c", &u("b_c")), Some(u("a")));
        assert_eq!(pair_peer("a_b_c", &u("c")), Some(u("a_b")));
        assert_eq!(pair_peer("a_b_c", &u("b")), None);
    }
}
