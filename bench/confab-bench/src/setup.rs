//! Users and conversations, set up over REST the same way on every server:
//! `POST /api/conversations` `{kind, memberIds, title}` → `{uuid, …}`, and
//! `POST /api/conversations/{uuid}/members` `{userId}` past the 500 member
//! ids one creation takes. Users are made from their tokens on first sight.

use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::error::{BenchError, Result, protocol};
use crate::token::{Signer, now_secs};

/// Most member ids one `POST /api/conversations` takes.
pub const MAX_IDS_PER_CREATE: usize = 500;
/// REST calls in flight during setup.
pub const SETUP_CONCURRENCY: usize = 16;

/// A user of the benchmark and its token.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

/// Makes `count` users named `<prefix><i>`, with tokens valid for a day.
pub fn users(signer: &Signer, prefix: &str, count: usize) -> Vec<User> {
    let exp = now_secs() + 86_400;
    (0..count)
        .map(|i| {
            let id = format!("{prefix}{i}");
            let token = signer.sign(&id, &format!("Bench {id}"), exp);
            User { id, token }
        })
        .collect()
}

#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
}

#[derive(serde::Deserialize)]
struct Created {
    uuid: String,
}

impl Rest {
    pub fn new(http: reqwest::Client, base: String) -> Self {
        Rest { http, base }
    }

    async fn post(
        &self,
        what: &str,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> Result<String> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            return Err(BenchError::Rest {
                what: what.to_owned(),
                status: status.as_u16(),
                body: crate::wire::clip(&text).to_owned(),
            });
        }
        Ok(text)
    }

    /// Creates a conversation as `owner` with `members` (without the owner);
    /// returns its uuid. Past 500 ids, the rest are added one by one.
    pub async fn conversation(
        &self,
        owner: &User,
        members: &[&User],
        title: &str,
    ) -> Result<String> {
        let kind = if members.len() == 1 && title.is_empty() {
            "direct"
        } else {
            "group"
        };
        let first: Vec<&str> = members
            .iter()
            .take(MAX_IDS_PER_CREATE)
            .map(|u| u.id.as_str())
            .collect();
        let mut body = serde_json::json!({ "kind": kind, "memberIds": first });
        if kind == "group" {
            body["title"] = serde_json::Value::String(title.to_owned());
        }
        let text = self
            .post(
                "create conversation",
                "/api/conversations",
                &owner.token,
                body,
            )
            .await?;
        let uuid = serde_json::from_str::<Created>(&text)
            .map_err(|_| protocol(format!("no uuid in {}", crate::wire::clip(&text))))?
            .uuid;
        let path = format!("/api/conversations/{uuid}/members");
        stream::iter(members.iter().skip(MAX_IDS_PER_CREATE))
            .map(|u| {
                let path = &path;
                async move {
                    self.post(
                        "add member",
                        path,
                        &owner.token,
                        serde_json::json!({ "userId": u.id }),
                    )
                    .await
                }
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_for_each(|_| async { Ok(()) })
            .await?;
        Ok(uuid)
    }

    /// Creates many conversations at once: each is (owner, members, title).
    pub async fn conversations(
        &self,
        specs: Vec<(&User, Vec<&User>, String)>,
    ) -> Result<Vec<String>> {
        stream::iter(specs)
            .map(|(owner, members, title)| async move {
                self.conversation(owner, &members, &title).await
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_numbered_and_carry_their_own_tokens() {
        let s = Signer::new("k");
        let u = users(&s, "p", 3);
        assert_eq!(
            u.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
            ["p0", "p1", "p2"]
        );
        assert_eq!(s.verify(&u[2].token, now_secs()).unwrap(), "p2");
    }
}
