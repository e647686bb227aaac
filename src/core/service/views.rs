//! Building the read models of [`crate::core::views`]: a room with its
//! members' profiles, a conversation list with online state and offline
//! catch-up, a page of history counted from the newest message, a friend
//! list. Built from the store and the live state; every one is checked
//! against membership. Opening a room also tells its other viewers who
//! came in.

use std::collections::HashMap;

use super::{Result, Service, user_ids};
use crate::core::command::{Actor, Outcome, RoomTarget};
use crate::core::event::DomainEvent;
use crate::core::views::{ConversationView, FriendView, HistoryPage};
use crate::core::{
    Conversation, ConversationKind, ConversationRef, ConversationSummary, CoreError, Message,
    MessageRef, Page, User, UserId,
};

/// Messages returned per room by an offline catch-up.
const CATCH_UP_MAX: u32 = 100;

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
    /// given one (at most `CATCH_UP_MAX`).
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
            let after = match self.store.message(*message).await? {
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
        let users = self.store.users(&ids).await?;
        let online_now = self.presence.online_among(&ids).await;
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
                        Some(peer) => self.store.friendship(actor.id(), &peer.user_id).await?,
                        None => None,
                    }
                }
                ConversationKind::Group => None,
            };
            let catch_up = match cursors.get(&summary.conversation.id) {
                Some(after) => {
                    self.store
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
    /// before `before`), then `limit` older ones, deleted ones included;
    /// its total is the conversation's message count.
    pub async fn history_page(
        &self,
        actor: &Actor,
        r: ConversationRef,
        before: Option<MessageRef>,
        skip: u32,
        limit: u32,
    ) -> Result<HistoryPage> {
        self.check_page_limit(limit)?;
        let conversation = self.conversation(actor, r).await?.conversation;
        let top = match before {
            Some(m) => self.page_cursor(&conversation, m).await?,
            None => conversation.last_seq + 1,
        };
        let before_seq = top.saturating_sub(i64::from(skip));
        let messages = if before_seq <= 1 {
            Vec::new()
        } else {
            self.store
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
        let senders = self.senders(&messages).await?;
        Ok(HistoryPage {
            total: conversation.last_seq,
            conversation,
            messages,
            senders,
        })
    }

    /// A page of the messages that are not deleted: `skip` of them back
    /// from the newest (or from before `before`), then `limit` older ones;
    /// its total is how many there are to page through (those older than
    /// `before` when given).
    pub async fn live_history_page(
        &self,
        actor: &Actor,
        r: ConversationRef,
        before: Option<MessageRef>,
        skip: u32,
        limit: u32,
    ) -> Result<HistoryPage> {
        self.check_page_limit(limit)?;
        let conversation = self.conversation(actor, r).await?.conversation;
        let before_seq = match before {
            Some(m) => Some(self.page_cursor(&conversation, m).await?),
            None => None,
        };
        let (messages, total) = self
            .store
            .live_messages(conversation.id, before_seq, skip, limit)
            .await?;
        let senders = self.senders(&messages).await?;
        Ok(HistoryPage {
            total,
            conversation,
            messages,
            senders,
        })
    }

    fn check_page_limit(&self, limit: u32) -> Result<()> {
        if limit == 0 || limit > self.limits.history_page_max {
            return Err(CoreError::invalid(format!(
                "maxResultCount must be between 1 and {}",
                self.limits.history_page_max
            )));
        }
        Ok(())
    }

    /// The sequence number of `m`, which must be a message of `conversation`.
    async fn page_cursor(&self, conversation: &Conversation, m: MessageRef) -> Result<i64> {
        match self.store.message(m).await? {
            Some(m) if m.conversation_id == conversation.id => Ok(m.seq),
            _ => Err(CoreError::invalid(
                "lastMessageId is not a message of this chat",
            )),
        }
    }

    /// The profiles of the senders of `messages`.
    async fn senders(&self, messages: &[Message]) -> Result<Vec<User>> {
        let mut ids: Vec<UserId> = messages.iter().map(|m| m.sender_id.clone()).collect();
        ids.sort();
        ids.dedup();
        Ok(self.store.users(&ids).await?)
    }

    /// The actor's accepted friends, with their direct conversation if any.
    pub async fn friends(&self, actor: &Actor) -> Result<Vec<FriendView>> {
        let friends = self.friends_with_chats(actor).await?;
        let ids: Vec<UserId> = friends.iter().map(|(_, user, _)| user.id.clone()).collect();
        let online_now = self.presence.online_among(&ids).await;
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

    /// Joins a conversation's room and gets it whole: by id, or the direct
    /// conversation with a peer (created on first use). The room's other
    /// viewers hear who came in.
    pub(super) async fn open_room(&self, actor: &Actor, target: RoomTarget) -> Result<Outcome> {
        let (r, created) = match target {
            RoomTarget::Conversation(r) => (r, false),
            RoomTarget::Peer(peer) => {
                let c = self
                    .create_conversation(actor, ConversationKind::Direct, vec![peer], None)
                    .await?;
                (ConversationRef::Id(c.summary.conversation.id), c.created)
            }
        };
        let view = self.conversation_view(actor, r).await?;
        let members = &view.summary.members;
        if let Some(me) = members.iter().find(|m| &m.user_id == actor.id()) {
            self.publisher.publish(DomainEvent::RoomEntered {
                conversation: (&view.summary.conversation).into(),
                member: me.clone(),
                user: actor.user.clone(),
                members: user_ids(members),
            });
        }
        Ok(Outcome::RoomOpened {
            me: actor.id().clone(),
            view: Box::new(view),
            created,
        })
    }

    /// A page of the actor's conversations (see
    /// [`Service::conversation_views`]).
    pub(super) async fn conversation_list(
        &self,
        actor: &Actor,
        catch_up: &[(ConversationRef, MessageRef)],
        direct_only: bool,
        skip: u32,
        limit: u32,
    ) -> Result<Outcome> {
        let (views, total) = self
            .conversation_views(actor, catch_up, direct_only, skip as usize, limit as usize)
            .await?;
        Ok(Outcome::Conversations {
            me: actor.id().clone(),
            views,
            total,
            direct_only,
        })
    }

    /// One conversation as the actor sees it.
    pub(super) async fn room(&self, actor: &Actor, r: ConversationRef) -> Result<Outcome> {
        let view = self.conversation_view(actor, r).await?;
        Ok(Outcome::Room(Box::new(view)))
    }

    /// The actor's direct conversation with `peer`, if there is one (it is
    /// not created).
    pub(super) async fn direct_room_with(&self, actor: &Actor, peer: &UserId) -> Result<Outcome> {
        let conversation = self
            .store
            .direct_conversation_between(actor.id(), peer)
            .await?
            .ok_or(CoreError::NotFound("conversation"))?;
        self.room(actor, ConversationRef::Id(conversation.id)).await
    }

    /// Opens a conversation to show it: everything in it becomes read, and
    /// its newest `limit` messages are returned.
    pub(super) async fn view_room(
        &self,
        actor: &Actor,
        r: ConversationRef,
        limit: u32,
    ) -> Result<Outcome> {
        self.mark_conversation_read(actor, r).await?;
        let page = self.history_page(actor, r, None, 0, limit).await?;
        Ok(Outcome::History(page))
    }

    /// The ids of the actor's conversations and its departments: the rooms
    /// a socket joins on connect.
    pub(super) async fn rooms(&self, actor: &Actor) -> Result<Outcome> {
        Ok(Outcome::Rooms {
            conversations: self.store.conversation_ids_of(actor.id()).await?,
            departments: self.departments(actor).await?,
        })
    }
}

fn matches_ref(c: &Conversation, r: ConversationRef) -> bool {
    match r {
        ConversationRef::Id(id) => c.id == id,
        ConversationRef::Uuid(u) => c.uuid == u,
        ConversationRef::External(e) => c.external_id.as_deref() == Some(e.as_str()),
    }
}
