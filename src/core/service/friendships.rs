//! Friendships: requests, answers, blocks and unblocks (the rules are in
//! [`crate::core::policy`]). The block that stops a direct conversation's
//! messages is checked by a send on the conversation's roster
//! ([`crate::core::rosters`]).

use super::{Result, Service};
use crate::core::command::Actor;
use crate::core::event::DomainEvent;
use crate::core::{Conversation, Friendship, FriendshipStatus, User, UserId, now_millis, policy};

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

    /// Lifts the actor's block of `other` if there is one, else blocks
    /// `other`; returns whether `other` is blocked by the actor now.
    pub async fn toggle_block(&self, actor: &Actor, other: &UserId) -> Result<bool> {
        let existing = self.store.friendship(actor.id(), other).await?;
        let blocked_by_me = existing.is_some_and(|f| {
            f.status == FriendshipStatus::Blocked && f.blocked_by.as_ref() == Some(actor.id())
        });
        if blocked_by_me {
            self.unblock(actor, other).await?;
        } else {
            self.block(actor, other).await?;
        }
        Ok(!blocked_by_me)
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
    ) -> Result<Vec<(Friendship, User, Option<Conversation>)>> {
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
}
