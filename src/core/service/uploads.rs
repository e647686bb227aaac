//! Uploads: files the upload pipeline stored, and the rule for attaching
//! one to a message.

use super::{Result, Service};
use crate::core::command::Actor;
use crate::core::{Conversation, CoreError, Upload};

/// Where uploads live on this server; attachments under it must be uploads
/// the sender may use.
const UPLOADS_PREFIX: &str = "/uploads/";

impl Service {
    /// Records a file the upload handler stored.
    pub async fn record_upload(&self, upload: Upload) -> Result<Upload> {
        self.store.record_upload(&upload).await?;
        Ok(upload)
    }

    /// Attachments that are server paths under `/uploads/` must be uploads
    /// of `actor`, or already attached to a message of this conversation
    /// (forwarding within it). External http(s) URLs are not checked.
    pub async fn check_attachments(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        urls: &[String],
    ) -> Result<()> {
        for url in urls {
            let Some(path) = server_path(url)? else {
                continue;
            };
            if !path.starts_with(UPLOADS_PREFIX) {
                continue;
            }
            match self.store.upload(path).await? {
                Some(u) if &u.owner == actor.id() => {}
                found => {
                    if !self.store.attachment_used_in(conversation.id, path).await? {
                        return Err(match found {
                            Some(_) => {
                                CoreError::Forbidden("an attachment is another user's upload")
                            }
                            None => CoreError::invalid(format!("unknown upload {path}")),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// The path of an attachment that names a file on this server (`/...` but
/// not `//host/...`), refusing dot segments so that a path cannot step into
/// `/uploads/` from elsewhere or out of it.
fn server_path(url: &str) -> Result<Option<&str>> {
    if !url.starts_with('/') || url.starts_with("//") {
        return Ok(None);
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let dotted = path.split('/').any(|seg| {
        let seg = seg.to_ascii_lowercase().replace("%2e", ".");
        seg == "." || seg == ".."
    }) || path.contains('\\')
        || path.to_ascii_lowercase().contains("%2f")
        || path.to_ascii_lowercase().contains("%5c");
    if dotted {
        return Err(CoreError::invalid(
            "attachment paths must not contain dot segments or encoded separators",
        ));
    }
    Ok(Some(url))
}
