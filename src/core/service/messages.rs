//! Messages: sending (checked, rate limited, stored once per client id,
//! then published, naming the socket it came through), editing and
//! deleting, history by cursor, and the read (telling the messages it
//! covers) and delivery watermarks.

use super::{Result, Service, user_ids};
use crate::core::command::{Actor, ConversationTarget, Outcome, SendMessage};
use crate::core::event::{ConversationIds, DeliveredMessage, DomainEvent, MAX_READ_COVERED};
use crate::core::ids::{is_attachment_url, validate_attachment_url};
use crate::core::ports::Inserted;
use crate::core::{
    Attachment, ClientId, Conversation, ConversationRef, CoreError, Member, Message, MessageKind,
    MessageRef, MessageText, NewMessage, Page, UserId, now_millis, policy,
};
use uuid::Uuid;

/// A message sent, and the conversation it is in.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    /// False for a client-id retry (the first message, not stored again).
    pub created: bool,
    pub conversation: ConversationIds,
    pub members: Vec<UserId>,
}

impl Service {
    /// A page of history, and the members (whose watermarks give each
    /// message's [`crate::core::DeliveryStatus`]). `before`/`after` are messages
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
        self.send_from(actor, r, msg, None).await
    }

    /// [`Service::send_message`] through the socket `from_socket` (its
    /// runtime key), if it came through one.
    async fn send_from(
        &self,
        actor: &Actor,
        r: ConversationRef,
        msg: SendMessage,
        from_socket: Option<&str>,
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
        for attachment in &msg.attachments {
            validate_attachment(attachment)?;
        }
        if text.is_none() && msg.attachments.is_empty() {
            return Err(CoreError::invalid("a message needs text or attachments"));
        }
        let client_id = msg
            .client_id
            .as_deref()
            .map(ClientId::parse)
            .transpose()?
            .map(|c| c.as_str().to_owned());
        // From memory when this conversation was checked before (see
        // `core::rosters`): the same checks as `membership` and
        // `check_not_blocked`, on what they would read.
        let roster = self.roster(r).await?;
        let (conversation, members) = (&roster.conversation, &roster.members);
        policy::require_member(members, actor.id())?;
        if conversation.kind == crate::core::ConversationKind::Direct && members.len() == 2 {
            policy::may_message(conversation.kind, roster.friendship.as_ref())?;
        }
        let urls: Vec<String> = msg.attachments.iter().map(|a| a.url.clone()).collect();
        // A video's still is held to the same rule as the files.
        let thumbnails: Vec<String> = msg
            .attachments
            .iter()
            .filter_map(|a| a.meta.thumbnail.clone())
            .collect();
        self.check_attachments(actor, conversation, &urls).await?;
        self.check_attachments(actor, conversation, &thumbnails)
            .await?;
        if let Err(wait) = self.rate.check(actor.id()).await {
            return Err(CoreError::RateLimited {
                retry_after_ms: wait.as_millis() as u64,
            });
        }
        let kind = self.message_kind(msg.kind, &urls).await?;
        let inserted = self
            .store
            .insert_message(NewMessage {
                conversation_id: conversation.id,
                sender_id: actor.id().clone(),
                kind,
                declared_kind: msg.declared_kind,
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
        let members = user_ids(members);
        let (message, created) = match inserted {
            Inserted::New(message) => {
                self.typing.stop(conversation.id, actor.id());
                self.publisher.publish(DomainEvent::MessageCreated {
                    conversation: conversation.into(),
                    message: message.clone(),
                    sender: actor.user.clone(),
                    members: members.clone(),
                    department: conversation.department_id,
                    muted,
                    from_socket: from_socket.map(str::to_owned),
                });
                (message, true)
            }
            Inserted::Duplicate(message) => (message, false),
        };
        Ok(Sent {
            message,
            created,
            conversation: conversation.into(),
            members,
        })
    }

    /// Sends a message to the conversation a client named, through the
    /// socket `from_socket` if it came through one.
    pub(super) async fn send_to(
        &self,
        actor: &Actor,
        target: ConversationTarget,
        message: SendMessage,
        from_socket: Option<&str>,
    ) -> Result<Outcome> {
        let r = self.resolve(actor, target).await?;
        let sent = self.send_from(actor, r, message, from_socket).await?;
        Ok(Outcome::Sent {
            message: sent.message,
            sender: actor.user.clone(),
            created: sent.created,
            conversation: sent.conversation,
            members: sent.members,
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
            sender: actor.user.clone(),
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
                let covered = self
                    .read_covers(&message, actor.id(), previous, up_to_seq)
                    .await;
                self.publisher.publish(DomainEvent::MessagesRead {
                    conversation: (&conversation).into(),
                    reader: actor.id().clone(),
                    up_to_seq,
                    message: message.clone(),
                    at: now_millis(),
                    members: user_ids(&members),
                    covered,
                });
                Ok((message, up_to_seq))
            }
            None => Ok((message, previous)),
        }
    }

    /// The messages of others that a read moving `reader`'s watermark from
    /// `from` to `to` covers (oldest first, the newest [`MAX_READ_COVERED`]
    /// at most); `marked` is the message the reader marked. A read of one
    /// message needs no lookup. Should the lookup fail (the read is stored
    /// already), the read still tells of the marked message.
    async fn read_covers(
        &self,
        marked: &Message,
        reader: &UserId,
        from: i64,
        to: i64,
    ) -> Vec<Uuid> {
        let of_others = |m: &Message| (&m.sender_id != reader).then_some(m.uuid);
        if to - from == 1 && marked.seq == to {
            return of_others(marked).into_iter().collect();
        }
        let page = Page {
            before_seq: Some(to.saturating_add(1)),
            after_seq: Some(from),
            limit: MAX_READ_COVERED,
        };
        match self.store.messages(marked.conversation_id, page).await {
            Ok(messages) => messages.iter().filter_map(of_others).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not list the messages a read covers");
                of_others(marked).into_iter().collect()
            }
        }
    }

    /// Marks everything up to and including `r` read, with the reader's
    /// watermark after it.
    pub(super) async fn read_up_to(&self, actor: &Actor, r: MessageRef) -> Result<Outcome> {
        let (message, up_to_seq) = self.mark_read(actor, r).await?;
        Ok(Outcome::Read { message, up_to_seq })
    }

    /// Marks the conversation a client named read up to the newest of
    /// `refs`, which must all be messages of it (else `NOT_FOUND`); none
    /// marks it read up to its newest message.
    pub(super) async fn read_messages(
        &self,
        actor: &Actor,
        target: ConversationTarget,
        refs: &[MessageRef],
    ) -> Result<Outcome> {
        let r = self.resolve(actor, target).await?;
        let (conversation, up_to_seq) = if refs.is_empty() {
            self.mark_conversation_read(actor, r).await?
        } else {
            self.mark_read_newest_of(actor, r, refs).await?
        };
        Ok(Outcome::ConversationRead {
            conversation,
            up_to_seq,
        })
    }

    async fn mark_read_newest_of(
        &self,
        actor: &Actor,
        r: ConversationRef,
        refs: &[MessageRef],
    ) -> Result<(Conversation, i64)> {
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

    /// Marks everything in the conversation read.
    pub async fn mark_conversation_read(
        &self,
        actor: &Actor,
        r: ConversationRef,
    ) -> Result<(Conversation, i64)> {
        let summary = self.conversation(actor, r).await?;
        let me = policy::require_member(&summary.members, actor.id())?;
        let current = me.last_read_seq;
        match summary.last_message {
            Some(last) => {
                let (_, up_to) = self.mark_read(actor, MessageRef::Id(last.id)).await?;
                Ok((summary.conversation, up_to))
            }
            None => Ok((summary.conversation, current)),
        }
    }

    /// Deletes several messages of one conversation: all are checked first,
    /// then deleted, so a refusal deletes none.
    pub async fn delete_many(
        &self,
        actor: &Actor,
        conversation: ConversationRef,
        refs: &[MessageRef],
    ) -> Result<Vec<Message>> {
        if refs.is_empty() || refs.len() > self.limits.history_page_max as usize {
            return Err(CoreError::invalid(format!(
                "between 1 and {} message ids at once",
                self.limits.history_page_max
            )));
        }
        let summary = self.conversation(actor, conversation).await?;
        let me = policy::require_member(&summary.members, actor.id())?;
        let mut found = Vec::with_capacity(refs.len());
        for r in refs {
            let m = self
                .store
                .message(*r)
                .await?
                .filter(|m| m.conversation_id == summary.conversation.id)
                .ok_or(CoreError::NotFound("message"))?;
            policy::may_delete(&m, me, summary.conversation.kind)?;
            found.push(m);
        }
        let mut deleted = Vec::with_capacity(found.len());
        for m in found {
            deleted.push(self.delete(actor, MessageRef::Id(m.id)).await?);
        }
        Ok(deleted)
    }

    /// Records that `message` (and so everything before it) reached a
    /// socket of each of `recipients`: one write and one event for them all,
    /// however large the conversation; `members` (the conversation's when
    /// the message was sent) hear of it.
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
}

/// An attachment: its URL (as [`validate_attachment_url`]) and what its
/// sender said of it: a name of 1 to 255 characters without control
/// characters, a media type `type/subtype` of at most 127 visible ASCII
/// characters.
fn validate_attachment(a: &Attachment) -> Result<()> {
    validate_attachment_url(&a.url)?;
    if let Some(still) = &a.meta.thumbnail {
        validate_attachment_url(still)?;
    }
    if let Some(name) = &a.meta.name
        && (name.trim().is_empty()
            || name.chars().count() > 255
            || name.chars().any(char::is_control))
    {
        return Err(CoreError::invalid(
            "an attachment's name must be 1 to 255 characters without control characters",
        ));
    }
    if let Some(t) = &a.meta.content_type {
        let ok = t.len() <= 127
            && t.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
            && t.split_once('/')
                .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty());
        if !ok {
            return Err(CoreError::invalid(
                "an attachment's content type must be a media type such as image/jpeg",
            ));
        }
    }
    Ok(())
}

/// What a client gave in one field that is either a file or text, as the
/// message it is: an attachment URL is the file (of `kind`, captioned);
/// anything else is a text message, with the kind the client declared
/// beside it.
pub(super) fn file_or_text(
    body: String,
    kind: MessageKind,
    caption: Option<String>,
) -> SendMessage {
    if kind == MessageKind::Text || !is_attachment_url(&body) {
        return SendMessage {
            text: Some(body),
            kind: Some(MessageKind::Text),
            declared_kind: (kind != MessageKind::Text).then_some(kind),
            ..SendMessage::default()
        };
    }
    SendMessage {
        text: caption.filter(|c| !c.trim().is_empty()),
        attachments: vec![body.into()],
        kind: Some(kind),
        ..SendMessage::default()
    }
}
