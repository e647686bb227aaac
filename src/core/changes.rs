//! The change feed's model: what changed in a conversation, in the order
//! the changes committed, as the store keeps it for `GET /api/sync`.
//!
//! The store writes one change row in the transaction of each change
//! (persist, then publish: a change is in the feed before any socket hears
//! of it) and answers the rows a user may see after a cursor. What a row
//! names (a message, a conversation) is read in its current state, not as
//! it was at the change: a message created and then deleted shows as
//! deleted in both of its changes.

use uuid::Uuid;

use super::{Message, Millis, Role, UserId};

/// The position of a change in the feed: the changes of every user are
/// numbered in one sequence, in the order they committed.
pub type ChangeCursor = i64;

/// One change of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub cursor: ChangeCursor,
    pub conversation_id: i64,
    pub conversation_uuid: Uuid,
    /// When it happened.
    pub at: Millis,
    pub kind: ChangeKind,
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new message (shown in its current state).
    MessageCreated(Message),
    /// A message's text was edited.
    MessageEdited(Message),
    /// A message was deleted.
    MessageDeleted(Message),
    /// A member's read watermark moved forward to `seq`.
    Read { user: UserId, seq: i64 },
    /// A member's delivery watermark moved forward to `seq`.
    Delivered { user: UserId, seq: i64 },
    /// A member joined (also each member of a new conversation).
    MemberAdded { user: UserId, role: Role },
    /// A member left or was removed.
    MemberRemoved { user: UserId },
    /// The conversation was created.
    ConversationCreated,
    /// The conversation's title, or a member's role, changed.
    ConversationUpdated,
}

impl ChangeKind {
    /// The name of the kind, as the feed shows it and the store keeps it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeKind::MessageCreated(_) => "message.created",
            ChangeKind::MessageEdited(_) => "message.edited",
            ChangeKind::MessageDeleted(_) => "message.deleted",
            ChangeKind::Read { .. } => "read",
            ChangeKind::Delivered { .. } => "delivered",
            ChangeKind::MemberAdded { .. } => "member.added",
            ChangeKind::MemberRemoved { .. } => "member.removed",
            ChangeKind::ConversationCreated => "conversation.created",
            ChangeKind::ConversationUpdated => "conversation.updated",
        }
    }
}

/// A page of a user's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePage {
    /// At most the limit asked for, oldest first.
    pub changes: Vec<Change>,
    /// Whether more changes follow the last one.
    pub has_more: bool,
}
