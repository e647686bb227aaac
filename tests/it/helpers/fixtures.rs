//! Values the core's commands take, built for tests: user ids, users
//! provisioned through the service (as a first token provisions them), the
//! message to send, a token the server accepts.

use std::time::Duration;

use confab::auth::jwt::JwtKeys;
use confab::core::command::{Actor, SendMessage};
use confab::core::service::Service;
use confab::core::{Profile, UserId, UserSummary};

pub fn user_id(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

pub fn user_ids(ids: &[&str]) -> Vec<UserId> {
    ids.iter().map(|id| user_id(id)).collect()
}

/// `user`, provisioned in `service` with an empty profile, as the actor of
/// commands.
pub async fn provisioned_actor(service: &Service, user: &str) -> Actor {
    provisioned(service, user, Profile::default()).await
}

/// `user`, provisioned in `service` with `display_name`, as the actor of
/// commands.
pub async fn named_actor(service: &Service, user: &str, display_name: &str) -> Actor {
    let profile = Profile {
        display_name: Some(display_name.to_owned()),
        ..Profile::default()
    };
    provisioned(service, user, profile).await
}

async fn provisioned(service: &Service, user: &str, profile: Profile) -> Actor {
    let u = service
        .provision(&user_id(user), profile)
        .await
        .expect("provision");
    Actor {
        user: UserSummary::from(&u),
    }
}

/// A text message to send.
pub fn text_message(text: &str) -> SendMessage {
    SendMessage {
        text: Some(text.to_owned()),
        ..SendMessage::default()
    }
}

/// A token of `user` named "`user` name", valid for an hour.
pub fn token_for(keys: &JwtKeys, user: &str) -> String {
    keys.issue(
        user,
        Some(&format!("{user} name")),
        Duration::from_secs(3600),
    )
    .expect("token")
}
