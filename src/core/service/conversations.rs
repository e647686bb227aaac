//! Conversations: direct ones (one per pair of users, created on first use)
//! and groups; who is a member and may add or remove one; muting; roles
//! and titles; and how a client names a conversation.

use super::{Result, Service, user_ids, validate_title};
use crate::core::command::{Actor, ConversationTarget, Outcome};
use crate::core::event::DomainEvent;
use crate::core::{
    Conversation, ConversationKind, ConversationRef, ConversationSummary, CoreError, Member, Page,
    Role, UserId, now_millis, policy,
};

/// A conversation with its members, as returned when one is created.
#[derive(Debug, Clone)]
pub struct Created {
    pub summary: ConversationSummary,
    /// False when an existing direct conversation was returned.
    pub created: bool,
}

impl Service {
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
    pub(super) async fn membership(
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

    /// Mutes the conversation for the actor if it was not, else unmutes it;
    /// returns whether it is muted now.
    pub async fn toggle_muted(&self, actor: &Actor, r: ConversationRef) -> Result<bool> {
        let (_, members) = self.membership(actor, r).await?;
        let muted = !policy::require_member(&members, actor.id())?.muted;
        self.set_muted(actor, r, muted).await?;
        Ok(muted)
    }

    /// Makes a group member an admin or a plain member (see
    /// [`policy::may_set_role`]); the member's view of the group changes.
    pub async fn set_role(
        &self,
        actor: &Actor,
        r: ConversationRef,
        user: &UserId,
        role: Role,
    ) -> Result<()> {
        let (conversation, members) = self.membership(actor, r).await?;
        let me = policy::require_member(&members, actor.id())?;
        let target = members
            .iter()
            .find(|m| &m.user_id == user)
            .ok_or(CoreError::NotFound("member"))?;
        policy::may_set_role(conversation.kind, me, target, role)?;
        if self.store.set_role(conversation.id, user, role).await? {
            self.publisher.publish(DomainEvent::RoomChanged {
                conversation: (&conversation).into(),
                audience: vec![user.clone()],
            });
        }
        Ok(())
    }

    /// Changes a group's title (an owner or admin); every member's view of
    /// the group changes.
    pub async fn set_title(&self, actor: &Actor, r: ConversationRef, title: &str) -> Result<()> {
        let (conversation, members) = self.membership(actor, r).await?;
        let me = policy::require_member(&members, actor.id())?;
        policy::may_rename(conversation.kind, me)?;
        let title = validate_title(title)?;
        if self.store.set_title(conversation.id, &title).await? {
            self.publisher.publish(DomainEvent::RoomChanged {
                conversation: (&conversation).into(),
                audience: user_ids(&members),
            });
        }
        Ok(())
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

    /// Starts receiving a conversation's events: the conversation and its
    /// members (see [`Service::join`]).
    pub(super) async fn join_conversation(
        &self,
        actor: &Actor,
        target: ConversationTarget,
    ) -> Result<Outcome> {
        let r = self.resolve(actor, target).await?;
        let (conversation, members) = self.join(actor, r).await?;
        Ok(Outcome::Joined {
            conversation,
            members,
        })
    }

    /// Stops receiving a conversation's events (a member's only).
    pub(super) async fn leave_conversation(
        &self,
        actor: &Actor,
        target: ConversationTarget,
    ) -> Result<Outcome> {
        let r = self.resolve(actor, target).await?;
        Ok(Outcome::Left(self.membership(actor, r).await?.0))
    }
}

/// The other user of a `<userA>_<userB>` pair id in which `me` is one half.
fn pair_peer(pair: &str, me: &UserId) -> Option<UserId> {
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
