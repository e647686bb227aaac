//! Read models that dialects show: a room with its members' profiles, a
//! conversation list with online state and offline catch-up, a page of
//! history counted from the newest message. Built from the store and the
//! live state; every one is checked against membership.

use std::collections::HashMap;

use super::command::Actor;
use super::service::Service;
use super::{
    Conversation, ConversationKind, ConversationRef, ConversationSummary, CoreError, Friendship,
    Message, MessageRef, Page, User, UserId, policy,
};

type Result<T> = std::result::Result<T, CoreError>;

/// Messages returned per room by an offline catch-up.
pub const CATCH_UP_MAX: u32 = 100;

/// A conversation as one member sees it in a list or when opening it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationView {
    pub summary: ConversationSummary,
    /// Profiles of the members (placeholders included).
    pub users: Vec<User>,
    /// Members online now.
    pub online: Vec<UserId>,
    /// For a direct conversation: the friendship with the other member.
    pub friendship: Option<Friendship>,
    /// Messages after the cursor the client named (offline catch-up).
    pub catch_up: Vec<Message>,
}

impl ConversationView {
    /// The other member of a direct conversation.
    pub fn peer(&self, me: &UserId) -> Option<&User> {
        if self.summary.conversation.kind != ConversationKind::Direct {
            return None;
        }
        self.users.iter().find(|u| &u.id != me)
    }

    pub fn user(&self, id: &UserId) -> Option<&User> {
        self.users.iter().find(|u| &u.id == id)
    }

    pub fn is_online(&self, id: &UserId) -> bool {
        self.online.contains(id)
    }
}

/// An accepted friend, for friend lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendView {
    pub user: User,
    pub online: bool,
    pub conversation: Option<Conversation>,
}

/// A page of history counted back from the newest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub conversation: Conversation,
    /// Oldest first.
    pub messages: Vec<Message>,
    /// Messages in the conversation (deleted ones included).
    pub total: i64,
    /// The profiles of the messages' senders.
    pub senders: Vec<User>,
}

impl Service {
    /// One conversation as the actor sees it.
    pub async fn conversation_view(
        &self,
        actor: &Actor,
        r: ConversationRef,
    ) -> Result<ConversationView> {
        let summary = self.conversation(actor, r).await?;
        let mut views = self.views(actor, vec![summary], &HashMap::new()).await?;
        views.pop().ok_or(CoreError::NotFound("conversation"))
    }

    /// The actor's conversations, most recent first, `skip`/`limit` applied;
    /// for each conversation named in `catch_up`, the messages after the
    /// given one (at most [`CATCH_UP_MAX`]).
    pub async fn conversation_views(
        &self,
        actor: &Actor,
        catch_up: &[(ConversationRef, MessageRef)],
        direct_only: bool,
        skip: usize,
        limit: usize,
    ) -> Result<(Vec<ConversationView>, usize)> {
        let all: Vec<ConversationSummary> = self
            .conversations(actor)
            .await?
            .into_iter()
            .filter(|s| !direct_only || s.conversation.kind == ConversationKind::Direct)
            .collect();
        let total = all.len();
        let page: Vec<ConversationSummary> = all.into_iter().skip(skip).take(limit).collect();
        let mut cursors = HashMap::new();
        for (conversation, message) in catch_up {
            let Some(s) = page
                .iter()
                .find(|s| matches_ref(&s.conversation, *conversation))
            else {
                continue;
            };
            let after = match self.store().message(*message).await? {
                Some(m) if m.conversation_id == s.conversation.id => m.seq,
                _ => {
                    return Err(CoreError::invalid(
                        "a catch-up cursor is not a message of its room",
                    ));
                }
            };
            cursors.insert(s.conversation.id, after);
        }
        Ok((self.views(actor, page, &cursors).await?, total))
    }

    async fn views(
        &self,
        actor: &Actor,
        summaries: Vec<ConversationSummary>,
        cursors: &HashMap<i64, i64>,
    ) -> Result<Vec<ConversationView>> {
        let mut ids: Vec<UserId> = summaries
            .iter()
            .flat_map(|s| s.members.iter().map(|m| m.user_id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        let users = self.store().users(&ids).await?;
        let online_now = self.presence().online_among(&ids).await;
        let mut out = Vec::with_capacity(summaries.len());
        for summary in summaries {
            let member_users: Vec<User> = users
                .iter()
                .filter(|u| summary.members.iter().any(|m| m.user_id == u.id))
                .cloned()
                .collect();
            let online = member_users
                .iter()
                .filter(|u| online_now.contains(&u.id))
                .map(|u| u.id.clone())
                .collect();
            let friendship = match summary.conversation.kind {
                ConversationKind::Direct => {
                    match summary.members.iter().find(|m| &m.user_id != actor.id()) {
                        Some(peer) => self.store().friendship(actor.id(), &peer.user_id).await?,
                        None => None,
                    }
                }
                ConversationKind::Group => None,
            };
            let catch_up = match cursors.get(&summary.conversation.id) {
                Some(after) => {
                    self.store()
                        .messages(
                            summary.conversation.id,
                            Page {
                                before_seq: None,
                                after_seq: Some(*after),
                                limit: CATCH_UP_MAX,
                            },
                        )
                        .await?
                }
                None => Vec::new(),
            };
            out.push(ConversationView {
                summary,
                users: member_users,
                online,
                friendship,
                catch_up,
            });
        }
        Ok(out)
    }

    /// A page of history: `skip` messages back from the newest (or from
    /// before `before`), then `limit` older ones.
    pub async fn history_page(
        &self,
        actor: &Actor,
        r: ConversationRef,
        before: Option<MessageRef>,
        skip: u32,
        limit: u32,
    ) -> Result<HistoryPage> {
        if limit == 0 || limit > self.limits().history_page_max {
            return Err(CoreError::invalid(format!(
                "maxResultCount must be between 1 and {}",
                self.limits().history_page_max
            )));
        }
        let summary = self.conversation(actor, r).await?;
        let conversation = summary.conversation;
        let top = match before {
            Some(m) => match self.store().message(m).await? {
                Some(m) if m.conversation_id == conversation.id => m.seq,
                _ => {
                    return Err(CoreError::invalid(
                        "lastMessageId is not a message of this chat",
                    ));
                }
            },
            None => conversation.last_seq + 1,
        };
        let before_seq = top.saturating_sub(i64::from(skip));
        let messages = if before_seq <= 1 {
            Vec::new()
        } else {
            self.store()
                .messages(
                    conversation.id,
                    Page {
                        before_seq: Some(before_seq),
                        after_seq: None,
                        limit,
                    },
                )
                .await?
        };
        let mut ids: Vec<UserId> = messages.iter().map(|m| m.sender_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let senders = self.store().users(&ids).await?;
        Ok(HistoryPage {
            total: conversation.last_seq,
            conversation,
            messages,
            senders,
        })
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
        if refs.is_empty() || refs.len() > self.limits().history_page_max as usize {
            return Err(CoreError::invalid(format!(
                "between 1 and {} message ids at once",
                self.limits().history_page_max
            )));
        }
        let summary = self.conversation(actor, conversation).await?;
        let me = policy::require_member(&summary.members, actor.id())?;
        let mut found = Vec::with_capacity(refs.len());
        for r in refs {
            let m = self
                .store()
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
}

impl Service {
    /// The actor's accepted friends, with their direct conversation if any.
    pub async fn friends(&self, actor: &Actor) -> Result<Vec<FriendView>> {
        let friends = self.friends_with_chats(actor).await?;
        let ids: Vec<UserId> = friends.iter().map(|(_, user, _)| user.id.clone()).collect();
        let online_now = self.presence().online_among(&ids).await;
        let mut out: Vec<FriendView> = friends
            .into_iter()
            .map(|(_, user, conversation)| FriendView {
                online: online_now.contains(&user.id),
                user,
                conversation,
            })
            .collect();
        out.sort_by(|a, b| a.user.name().cmp(b.user.name()));
        Ok(out)
    }
}

fn matches_ref(c: &Conversation, r: ConversationRef) -> bool {
    match r {
        ConversationRef::Id(id) => c.id == id,
        ConversationRef::Uuid(u) => c.uuid == u,
    }
}
