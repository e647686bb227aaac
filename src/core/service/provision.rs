//! The app backend's provisioning (the admin API, behind the service
//! credential or an operator): users, conversations under the ids the app's
//! clients already hold, their members and roles, and push devices, each
//! an idempotent "make it so". A change to an existing conversation (a
//! member added or removed, a role or the title) is published as the same
//! domain event the users' own calls publish, so the members' sockets hear
//! it and every node's membership cache drops what it kept; a conversation
//! created here is not announced (the app moves its data in before its
//! clients switch over).

use super::{Result, Service, user_ids};
use crate::core::event::DomainEvent;
use crate::core::import::{ImportConversation, ImportItem, ImportMember, ImportOutcome};
use crate::core::{
    Conversation, ConversationKind, CoreError, Device, DevicePlatform, Member, Profile, Role,
    RowRef, User, UserId, now_millis,
};

impl Service {
    /// Creates the user or updates its profile (fields left out stay as
    /// they are) and, when given, whether it is disabled.
    pub async fn provision_user(
        &self,
        id: &UserId,
        profile: &Profile,
        disabled: Option<bool>,
    ) -> Result<User> {
        for (field, value, max) in [
            ("name", &profile.display_name, 200),
            ("email", &profile.email, 320),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                return Err(CoreError::invalid(format!(
                    "{field} is longer than {max} characters"
                )));
            }
        }
        if let Some(a) = &profile.avatar_url {
            crate::core::ids::validate_attachment_url(a)?;
        }
        self.store.upsert_user(id, profile, now_millis()).await?;
        if let Some(disabled) = disabled {
            self.store.set_disabled(id, disabled).await?;
        }
        self.store
            .user(id)
            .await?
            .ok_or(CoreError::NotFound("user"))
    }

    /// Creates the conversation under `id` (the id the app's clients
    /// know) with `members`, or, when it exists, adds the members it lacks,
    /// gives the listed ones their role and sets the title. Whether it was
    /// created.
    pub async fn provision_conversation(
        &self,
        id: RowRef,
        kind: ConversationKind,
        title: Option<String>,
        members: Vec<ImportMember>,
    ) -> Result<(Conversation, bool)> {
        if title.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err(CoreError::invalid("title is longer than 200 characters"));
        }
        for (i, m) in members.iter().enumerate() {
            if members[..i].iter().any(|o| o.user_id == m.user_id) {
                return Err(CoreError::invalid(format!(
                    "member {} is listed twice",
                    m.user_id
                )));
            }
        }
        if kind == ConversationKind::Direct && members.len() != 2 {
            return Err(CoreError::invalid(
                "a direct conversation has exactly two members",
            ));
        }
        let now = now_millis();
        let created_by = members
            .iter()
            .find(|m| m.role == Role::Owner)
            .or(members.first())
            .map(|m| m.user_id.clone())
            .ok_or_else(|| CoreError::invalid("a conversation has at least one member"))?;
        let item = ImportItem::Conversation(ImportConversation {
            id,
            kind,
            title: title.clone(),
            created_by,
            created_at: now,
            members: members.clone(),
        });
        let outcome = self.store.import(&[item], now).await?;
        let created = match outcome.into_iter().next() {
            Some(ImportOutcome::Created) => true,
            Some(ImportOutcome::Skipped) => false,
            Some(ImportOutcome::Refused(reason)) => return Err(CoreError::invalid(reason)),
            None => return Err(CoreError::Internal("no import outcome".into())),
        };
        let conversation = self
            .store
            .conversation(id)
            .await?
            .ok_or(CoreError::NotFound("conversation"))?;
        if !created {
            if conversation.kind != kind {
                return Err(CoreError::Conflict(
                    "the conversation exists with another kind",
                ));
            }
            if let Some(t) = &title
                && self.store.set_title(conversation.id, t).await?
            {
                let members = self.store.members(conversation.id).await?;
                self.publisher.publish(DomainEvent::RoomChanged {
                    conversation: (&conversation).into(),
                    audience: user_ids(&members),
                });
            }
            for m in &members {
                self.put_member_in(&conversation, &m.user_id, m.role)
                    .await?;
            }
        }
        let conversation = self
            .store
            .conversation(RowRef::Id(conversation.id))
            .await?
            .ok_or(CoreError::NotFound("conversation"))?;
        Ok((conversation, created))
    }

    /// Makes `user` a member of the conversation with `role`.
    pub async fn provision_member(
        &self,
        conversation: RowRef,
        user: &UserId,
        role: Role,
    ) -> Result<Member> {
        let c = self
            .store
            .conversation(conversation)
            .await?
            .ok_or(CoreError::NotFound("conversation"))?;
        if c.kind == ConversationKind::Direct && self.store.member(c.id, user).await?.is_none() {
            return Err(CoreError::invalid(
                "a direct conversation keeps its two members",
            ));
        }
        self.put_member_in(&c, user, role).await?;
        self.store
            .member(c.id, user)
            .await?
            .ok_or(CoreError::NotFound("member"))
    }

    async fn put_member_in(&self, c: &Conversation, user: &UserId, role: Role) -> Result<()> {
        let now = now_millis();
        self.store
            .ensure_users(std::slice::from_ref(user), now)
            .await?;
        if self.store.add_member(c.id, user, role, now).await? {
            let members = self.store.members(c.id).await?;
            self.publisher.publish(DomainEvent::MemberAdded {
                conversation: c.into(),
                user: user.clone(),
                members: user_ids(&members),
            });
        } else if self.store.set_role(c.id, user, role).await? {
            self.publisher.publish(DomainEvent::RoomChanged {
                conversation: c.into(),
                audience: vec![user.clone()],
            });
        }
        Ok(())
    }

    /// Removes a member; false if `user` was not one.
    pub async fn unprovision_member(&self, conversation: RowRef, user: &UserId) -> Result<bool> {
        let c = self
            .store
            .conversation(conversation)
            .await?
            .ok_or(CoreError::NotFound("conversation"))?;
        if c.kind == ConversationKind::Direct {
            return Err(CoreError::invalid(
                "a direct conversation keeps its two members",
            ));
        }
        let members = self.store.members(c.id).await?;
        if !self.store.remove_member(c.id, user).await? {
            return Ok(false);
        }
        self.typing.stop(c.id, user);
        self.publisher.publish(DomainEvent::MemberRemoved {
            conversation: (&c).into(),
            user: user.clone(),
            members: user_ids(&members),
        });
        Ok(true)
    }

    /// Registers a push token for `user` (who must exist).
    pub async fn provision_device(
        &self,
        user: &UserId,
        token: &str,
        platform: DevicePlatform,
    ) -> Result<Device> {
        if !(1..=4096).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CoreError::invalid(
                "token must be 1 to 4096 visible ASCII characters",
            ));
        }
        if self.store.user(user).await?.is_none() {
            return Err(CoreError::NotFound("user"));
        }
        let device = Device {
            user_id: user.clone(),
            token: token.to_owned(),
            platform,
            created_at: now_millis(),
            push_format: None,
        };
        self.store.add_device(&device).await?;
        Ok(device)
    }
}
