//! A client's handshake, as its dialect's [`Handshake`] describes it: the
//! token is verified and its user provisioned (and a dialect's admission
//! command run) before the client hears it is connected; a client that only
//! claims a user keeps the claim for a token inside a later event.

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use crate::core::command::Actor;
use crate::core::{Profile, UserId};
use crate::dialects::{Dialect, Handshake, Out, identified_rooms};
use crate::state::AppState;

/// The user a dialect's client only claimed to be, before any token proved it.
#[derive(Clone)]
pub(super) struct Claimed(pub(super) Option<UserId>);

/// Checks the handshake and provisions the user; the message of a refusal
/// is what the client's `connect_error` shows, in its language if its
/// dialect has one.
pub(super) async fn authenticate<D: Dialect, A: Adapter>(
    s: &SocketRef<A>,
    auth: Option<Value>,
    dialect: &D,
    state: &AppState,
) -> Result<(), String> {
    let handshake = dialect.handshake();
    check(s, auth, dialect, &handshake, state)
        .await
        .map_err(|message| match handshake.language {
            Some(language) => (language.refusal)(s.req_parts(), message),
            None => message,
        })
}

/// The checks of [`authenticate`], refusals in English. A client that
/// claims a user may connect without a token.
async fn check<D: Dialect, A: Adapter>(
    s: &SocketRef<A>,
    auth: Option<Value>,
    dialect: &D,
    handshake: &Handshake,
    state: &AppState,
) -> Result<(), String> {
    let parts = s.req_parts();
    let claimed = handshake
        .claim
        .and_then(|claim| (claim.user)(parts))
        .map(|c| UserId::parse(&c).map_err(|e| format!("userId: {e}")))
        .transpose()?;
    match (handshake.token)(parts, auth.as_ref()) {
        Some(token) => {
            let (actor, issued_at) = verify(&token, claimed.as_ref(), state).await?;
            s.extensions.insert(IssuedAt(issued_at));
            // The user's room first: what changes after this reaches it.
            s.join(identified_rooms(actor.id()));
            if let Some(admission) = handshake.admission {
                let command = (admission.command)(parts, auth.as_ref())?;
                let outcome = state
                    .service
                    .execute(&actor, command)
                    .await
                    .map_err(|e| (admission.refusal)(&e))?;
                // Admissions put the socket in rooms; nothing may be emitted
                // before the client is told it is connected.
                for out in dialect.encode(&actor, "connect", &outcome) {
                    match out {
                        Out::Join(room) => s.join(room),
                        other => tracing::warn!(?other, "an admission may only join rooms"),
                    }
                }
            }
            s.extensions.insert(actor);
        }
        None if handshake.claim.is_some() => {
            if claimed.is_none() {
                return Err(format!(
                    "the userId query parameter is required, or a token: send it as {}",
                    handshake.token_places
                ));
            }
        }
        None => {
            return Err(crate::auth::AuthError::MissingHandshakeToken {
                places: handshake.token_places,
            }
            .to_string());
        }
    }
    s.extensions.insert(Claimed(claimed));
    Ok(())
}

/// The `iat` of the token a socket proved itself with.
#[derive(Clone, Copy)]
pub(super) struct IssuedAt(pub(super) Option<u64>);

/// The user a token names, provisioned, and the token's `iat`; it must be
/// the user the client claimed to be, if it claimed one. A token the user's
/// row refuses (disabled, deleted, revoked) is refused.
pub(super) async fn verify(
    token: &str,
    claimed: Option<&UserId>,
    state: &AppState,
) -> Result<(Actor, Option<u64>), String> {
    let identity = state.keys.verify(token).map_err(|e| e.to_string())?;
    let issued_at = identity.issued_at;
    let id = UserId::parse(&identity.user_id).map_err(|e| e.to_string())?;
    if claimed.is_some_and(|c| c != &id) {
        return Err("userId does not match the access token".to_owned());
    }
    // Refused before provisioning: a deleted user's row is not refilled.
    match state.service.user(&id).await {
        Ok(known) => {
            if let Some(why) = known.token_refusal(identity.issued_at) {
                return Err(format!("access token refused: {why}"));
            }
        }
        Err(crate::core::CoreError::NotFound(_)) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not read user");
            return Err("server unavailable, try again".to_owned());
        }
    }
    let profile = Profile {
        display_name: identity.name,
        avatar_url: identity.avatar_url,
        email: identity.email,
    };
    let user = state.service.provision(&id, profile).await.map_err(|e| {
        tracing::warn!(error = %e, "could not provision user");
        "server unavailable, try again".to_owned()
    })?;
    // A user new here may be born revoked (`revoke-tokens --all`).
    if let Some(why) = user.token_refusal(issued_at) {
        return Err(format!("access token refused: {why}"));
    }
    Ok((
        Actor {
            user: (&user).into(),
        },
        issued_at,
    ))
}
