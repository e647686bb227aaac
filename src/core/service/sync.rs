//! The change feed of a user (`GET /api/sync`): everything that changed in
//! the user's conversations after a cursor, in the order it committed, so
//! that a client that was offline catches up with a few calls and misses
//! nothing, on any node and across restarts (the feed is read from the
//! store; see [`crate::core::changes`]).
//!
//! A page names each change's conversation; each conversation of a page is
//! given once, as it is now (with its members, for the delivery status of
//! the page's messages; with its last message and the caller's unread
//! count when the page holds its `conversation.*` change).

use std::collections::{HashMap, HashSet};

use super::{Result, Service};
use crate::core::command::Actor;
use crate::core::{
    Change, ChangeCursor, ChangeKind, ConversationRef, ConversationSummary, CoreError, Page,
};

/// Changes in a page when the caller asks for no number.
pub const SYNC_LIMIT_DEFAULT: u32 = 100;
/// At most this many changes in a page.
pub const SYNC_LIMIT_MAX: u32 = 500;

/// A page of a user's change feed.
#[derive(Debug, Clone)]
pub struct SyncPage {
    /// Oldest first.
    pub changes: Vec<Change>,
    /// Each conversation the page names, as it is now, by id. Members are
    /// always there; the last message and unread count only for the
    /// conversations the page has a `conversation.*` change of.
    pub conversations: HashMap<i64, ConversationSummary>,
    /// The cursor of the last change of the page, or the one asked after
    /// when there is none (the newest one when none was given).
    pub next: ChangeCursor,
    /// Whether more changes follow `next`.
    pub has_more: bool,
}

/// A cursor as a client sends it back: the decimal number the feed gave.
pub fn parse_cursor(s: &str) -> Result<ChangeCursor> {
    let bad = || CoreError::invalid(format!("malformed sync cursor {s:?}"));
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    s.parse().map_err(|_| bad())
}

impl Service {
    /// The changes the actor may see after `since`, at most `limit` (1 to
    /// [`SYNC_LIMIT_MAX`]). Without `since`: no changes, and the newest
    /// cursor as `next`, where a new client starts.
    pub async fn sync(
        &self,
        actor: &Actor,
        since: Option<ChangeCursor>,
        limit: u32,
    ) -> Result<SyncPage> {
        if !(1..=SYNC_LIMIT_MAX).contains(&limit) {
            return Err(CoreError::invalid(format!(
                "limit must be between 1 and {SYNC_LIMIT_MAX}"
            )));
        }
        let Some(since) = since else {
            return Ok(SyncPage {
                changes: Vec::new(),
                conversations: HashMap::new(),
                next: self.store.change_head().await?,
                has_more: false,
            });
        };
        let page = self.store.changes(actor.id(), since, limit).await?;
        let mut conversations: HashMap<i64, ConversationSummary> = HashMap::new();
        let mut whole_ones = HashSet::new();
        for change in &page.changes {
            let id = change.conversation_id;
            let whole = matches!(
                change.kind,
                ChangeKind::ConversationCreated | ChangeKind::ConversationUpdated
            );
            if whole_ones.contains(&id) || (!whole && conversations.contains_key(&id)) {
                continue;
            }
            if let Some(summary) = self.current(actor, id, whole).await? {
                conversations.insert(id, summary);
            }
            if whole {
                whole_ones.insert(id);
            }
        }
        let next = page.changes.last().map_or(since, |c| c.cursor);
        Ok(SyncPage {
            changes: page.changes,
            conversations,
            next,
            has_more: page.has_more,
        })
    }

    /// A conversation as it is now, with its members; with its last
    /// message and the actor's unread count if `whole` (else none and 0).
    async fn current(
        &self,
        actor: &Actor,
        id: i64,
        whole: bool,
    ) -> Result<Option<ConversationSummary>> {
        let Some(conversation) = self.store.conversation(ConversationRef::Id(id)).await? else {
            return Ok(None);
        };
        let members = self.store.members(id).await?;
        let (last_message, unread_count) = if whole {
            let last = self
                .store
                .messages(
                    id,
                    Page {
                        before_seq: None,
                        after_seq: None,
                        limit: 1,
                    },
                )
                .await?
                .pop();
            (last, self.store.unread_count(id, actor.id()).await?)
        } else {
            (None, 0)
        };
        Ok(Some(ConversationSummary {
            conversation,
            members,
            last_message,
            unread_count,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn a_cursor_is_the_decimal_number_the_feed_gave() {
        assert_eq!(parse_cursor("0").ok(), Some(0));
        assert_eq!(parse_cursor("42").ok(), Some(42));
        assert_eq!(
            parse_cursor("9223372036854775807").ok(),
            Some(i64::MAX),
            "the largest cursor"
        );
    }

    #[test]
    fn a_malformed_cursor_is_refused() {
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1.5",
            "abc",
            "9223372036854775808",
            "99999999999999999999",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
