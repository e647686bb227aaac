//! What a history import writes, record by record, once each record is
//! parsed and validated (by `crate::import`): the items the store's
//! `import` applies in one transaction per batch, and what became of each.
//!
//! Every item names its rows by the ids of the system it comes from (a
//! [`RowRef`]): a positive integer becomes the row's numeric id, a UUID its
//! uuid, anything else its external id. An item whose row exists already is
//! skipped, so an import run twice (or run again after a crash) changes
//! nothing the first run wrote.

use super::{Attachment, ConversationKind, MessageKind, Millis, Profile, Role, RowRef, UserId};

/// A user, created unless it exists (a placeholder, known only by id so
/// far, gets the profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportUser {
    pub id: UserId,
    pub profile: Profile,
    pub disabled: bool,
    pub created_at: Millis,
}

/// A member of an imported conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportMember {
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: Millis,
}

/// A conversation under its foreign id, with its members. A direct
/// conversation has exactly two distinct members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportConversation {
    pub id: RowRef,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub created_by: UserId,
    pub created_at: Millis,
    pub members: Vec<ImportMember>,
}

/// A message under its foreign id. It gets the next sequence number of its
/// conversation; one older than the newest of its conversation has the
/// conversation's sequence numbers put back in time order by
/// `import_finish`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportMessage {
    pub id: RowRef,
    pub conversation: RowRef,
    pub sender: UserId,
    pub created_at: Millis,
    pub kind: MessageKind,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    pub edited_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
}

/// Which watermark a [`ImportWatermark`] moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatermarkKind {
    Read,
    Delivered,
}

/// A member has read (or received) the messages of a conversation up to
/// and including `up_to`. Watermarks only move forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportWatermark {
    pub kind: WatermarkKind,
    pub conversation: RowRef,
    pub user_id: UserId,
    pub up_to: RowRef,
}

/// One validated record of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportItem {
    User(ImportUser),
    Conversation(ImportConversation),
    /// A member added to an existing conversation.
    Member {
        conversation: RowRef,
        member: ImportMember,
    },
    Message(ImportMessage),
    Watermark(ImportWatermark),
}

/// What the store did with an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Created,
    /// Its row was there already: nothing changed.
    Skipped,
    /// Not stored, for this reason (an unknown conversation, a clash with
    /// a row that is not the same one); the rest of the batch goes on.
    Refused(String),
}

/// The kind of a message from what it carries: text, or the kind of its
/// first attachment by its content type (image, audio, video, else file).
pub fn kind_of(attachments: &[Attachment]) -> MessageKind {
    let Some(first) = attachments.first() else {
        return MessageKind::Text;
    };
    let mime = first.meta.content_type.as_deref().unwrap_or("");
    let by_name = first.meta.name.as_deref().unwrap_or(first.url.as_str());
    let ext = by_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if mime.starts_with("image/") || matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "gif" | "webp")
    {
        MessageKind::Image
    } else if mime.starts_with("audio/")
        || matches!(ext.as_str(), "mp3" | "m4a" | "aac" | "ogg" | "wav")
    {
        MessageKind::Audio
    } else if mime.starts_with("video/") || matches!(ext.as_str(), "mp4" | "mov" | "webm") {
        MessageKind::Video
    } else {
        MessageKind::File
    }
}
