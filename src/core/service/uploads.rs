//! Uploads: files the upload pipeline stored, and the rule for attaching
//! one to a message, with the allowlist of files kept elsewhere
//! ([`crate::core::allowlist`], `limits.attachments`).

use super::{Result, Service};
use crate::core::allowlist::safe_path;
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

    /// Which attachments `actor` may send in `conversation`:
    /// - a server path under an allowed path prefix, or an http(s) URL
    ///   under an allowed URL prefix: yes, uploaded here or not;
    /// - any other server path under `/uploads/`: an upload of `actor`, or
    ///   one already attached to a message of this conversation
    ///   (forwarding within it);
    /// - any other http(s) URL, or server path: yes while no prefix of its
    ///   kind is set (`attachments.url_prefixes`, `.path_prefixes`), else no.
    pub async fn check_attachments(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        urls: &[String],
    ) -> Result<()> {
        let allowed = &self.limits.attachments;
        for url in urls {
            let Some(path) = server_path(url)? else {
                if allowed.restricts_urls() && !allowed.allows_url(url) {
                    return Err(CoreError::invalid(format!(
                        "attachment {url} is not under an allowed URL prefix; upload the file instead"
                    )));
                }
                continue;
            };
            if allowed.allows_path(path) {
                continue;
            }
            if !path.starts_with(UPLOADS_PREFIX) {
                if allowed.restricts_paths() {
                    return Err(CoreError::invalid(format!(
                        "attachment {path} is not under an allowed path prefix; upload the file instead"
                    )));
                }
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
/// not `//host/...`), refusing dot segments and encoded separators so that
/// a path cannot step into `/uploads/` (or an allowed folder) from
/// elsewhere, or out of it.
fn server_path(url: &str) -> Result<Option<&str>> {
    if !url.starts_with('/') || url.starts_with("//") {
        return Ok(None);
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    if !safe_path(path) {
        return Err(CoreError::invalid(
            "attachment paths must not contain dot segments or encoded separators",
        ));
    }
    Ok(Some(url))
}
