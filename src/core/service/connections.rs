//! Connections: sockets opening and closing bring users online and take
//! them offline (on this node, and in a cluster on any node), what each
//! actor may see of who is online, and typing indicators.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Result, Service, user_ids, validate_name};
use crate::core::command::{Actor, ConversationTarget, Outcome};
use crate::core::event::DomainEvent;
use crate::core::ports::Change;
use crate::core::presence::{self, Closed};
use crate::core::{CoreError, PresenceStatus, UserId, now_millis};

impl Service {
    /// Tells of presence changes the cluster made rather than a socket here:
    /// users of a dead node going offline, this node's users coming back
    /// after the cluster lost them.
    pub(super) fn follow_cluster(self: &Arc<Self>, mut changes: mpsc::UnboundedReceiver<Change>) {
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

    /// Starts or stops the actor's typing indicator in a conversation (it
    /// stops by itself after the TTL). `name` is the name the client gave
    /// for who is typing: blank is none, else 1 to 100 characters.
    pub(super) async fn set_typing(
        &self,
        actor: &Actor,
        target: ConversationTarget,
        typing: bool,
        recording: bool,
        name: Option<String>,
    ) -> Result<Outcome> {
        let name = name
            .filter(|n| !n.trim().is_empty())
            .map(|n| validate_name(&n))
            .transpose()?;
        let r = self.resolve(actor, target).await?;
        let (conversation, members) = self.membership(actor, r).await?;
        if typing {
            self.typing.start(
                (&conversation).into(),
                actor.user.clone(),
                name,
                user_ids(&members),
                recording,
            );
        } else {
            self.typing.stop(conversation.id, actor.id());
        }
        Ok(Outcome::Typing {
            conversation,
            typing,
        })
    }
}
