//! Connections: sockets opening and closing bring users online and take
//! them offline (on this node, and in a cluster on any node; offline only
//! once the grace of [`crate::core::presence`] is over), who hears of it and
//! what each actor may see of who is online ([`Visibility`]), and typing
//! indicators.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Result, Service, user_ids, validate_name};
use crate::core::command::{Actor, ConversationTarget, Outcome};
use crate::core::ports::Change;
use crate::core::presence::announce::{self, Change as PresenceChange};
use crate::core::presence::{self, Closed, Visibility};
use crate::core::{CoreError, Millis, PresenceStatus, UserId, now_millis};

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
                            this.went_offline(&user, now_millis()).await;
                        }
                    }
                    Change::Claimed(key) => {
                        if let Some(user) = presence::claimed_user(&key) {
                            this.publish_presence(&user, true, now_millis()).await;
                        }
                    }
                }
            }
        });
    }

    /// A socket of `actor` opened; the first one brings the user online
    /// (one within the grace of the user's departure does not: the user
    /// never went offline).
    pub async fn connected(&self, actor: &Actor) {
        if self.presence.connect(actor.id()).await {
            self.publish_presence(actor.id(), true, now_millis()).await;
        }
    }

    /// A socket of `actor` closed: the user's last one on this node ends
    /// their typing here at once; if no socket of the user comes back
    /// within the grace (`limits.offline_grace`), and none is open on
    /// another node, the user goes offline, last seen when this socket
    /// closed. Returns once that is settled.
    pub async fn disconnected(&self, actor: &Actor) {
        if let Closed::Last(departure) = self.presence.disconnect(actor.id()) {
            self.typing.stop_all(actor.id());
            if let Some(since) = self.presence.settle(&departure).await {
                self.went_offline(actor.id(), since).await;
            }
        }
    }

    /// This node is stopping: its users who have no socket elsewhere go
    /// offline now, and those who may see it are told.
    pub async fn leave_cluster(&self) {
        for (user, since) in self.presence.leave().await {
            self.went_offline(&user, since).await;
        }
        self.flush_presence().await;
    }

    async fn went_offline(&self, user: &UserId, since: Millis) {
        if let Err(e) = self.store.set_last_seen(user, since).await {
            tracing::warn!(error = %e, "could not store last-seen time");
        }
        self.publish_presence(user, false, since).await;
    }

    /// Tells of `user` coming online or going offline at `at`: to everyone,
    /// or to the user's contacts, as `limits.presence` says, with the other
    /// changes of its window (`limits.presence_window`). The contacts are
    /// the event's audience either way (V Chat tells them in their rooms).
    async fn publish_presence(&self, user: &UserId, online: bool, at: Millis) {
        let change = PresenceChange {
            user: user.clone(),
            online,
            at,
        };
        self.announcer.tell(change).await;
    }

    /// Tells the presence changes gathered so far at once, rather than at
    /// the end of their window.
    pub async fn flush_presence(&self) {
        self.announcer.flush().await;
    }

    /// A user's contacts: the users who share a conversation with the user
    /// and the user's accepted friends, sorted.
    async fn contacts(&self, user: &UserId) -> Result<Vec<UserId>> {
        Ok(announce::contacts(&self.store, user).await?)
    }

    /// Online state of `users` as `actor` may see it (`limits.presence`):
    /// real for the actor and those it may see, offline with no last-seen
    /// time for the others.
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
        let contacts = match self.limits.presence {
            Visibility::Everyone => vec![],
            Visibility::Contacts => self.contacts(actor.id()).await?,
        };
        let visible: Vec<UserId> = users
            .iter()
            .filter(|u| self.limits.presence.allows(actor.id(), u, &contacts))
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
