//! Who is calling: the `Authorization` extractor, and confab's own accounts
//! (register / login, each answered with a token).
//!
//! Decisions:
//! - `Authorization: Bearer <jwt>` is the documented form; a raw token without
//!   the scheme (as V Chat's clients send it) is accepted as well.
//! - A verified token names a user by its user id claim (`auth.user_id_claims`,
//!   or those of the listener's dialect: `AppState::keys`). A user not seen
//!   yet, or known only as a placeholder (named as a member before their
//!   first token), is provisioned from the token's name, avatar and email
//!   claims.
//!   A known user's profile is not rewritten on every request.
//! - The user row read here anyway says whether the token still counts: a
//!   disabled or deleted user's tokens, and tokens issued (`iat`) before
//!   the user's `tokens_valid_after`, are refused (401). No cache: the row
//!   is read per request already, so a change applies at once.
//! - Tokens issued here are HS256 with `sub`, `name` (display name, else
//!   username), `iat` and `exp = now + auth.token_ttl`. A disabled user's
//!   correct password is answered 403.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::UserDto;
use super::error::{ApiError, ErrorBody, Json};
use crate::auth::AuthError;
use crate::core::command::Actor;
use crate::core::{CoreError, Profile, User, UserId, UserSummary};
use crate::state::AppState;

/// The address of the client that sent a request: the last address in
/// `auth.client_ip_header` when that is set (behind a reverse proxy) and the
/// request has one, else the connection's peer; `None` when neither is
/// known. Used to throttle failed logins per address.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .config
            .auth
            .client_ip_header
            .as_deref()
            .and_then(|name| parts.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(forwarded.or(peer)))
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Actor);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(AuthError::MissingToken)?;
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        authenticate(state, value).await.map(CurrentUser)
    }
}

/// The user a token names: verified, provisioned on first sight, and
/// refused if disabled, deleted or issued before a revocation.
async fn authenticate(state: &AppState, token: &str) -> Result<Actor, ApiError> {
    let identity = state.keys.verify(token)?;
    let id = UserId::parse(&identity.user_id).map_err(|_| AuthError::InvalidSubject)?;
    let user = match state.service.user(&id).await {
        Ok(user) if !user.placeholder => user,
        Ok(_) | Err(CoreError::NotFound(_)) => {
            let profile = Profile {
                display_name: identity.name,
                avatar_url: identity.avatar_url,
                email: identity.email,
            };
            state.service.provision(&id, profile).await?
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(why) = user.token_refusal(identity.issued_at) {
        return Err(CoreError::TokenRefused(why.to_owned()).into());
    }
    Ok(Actor {
        user: UserSummary::from(&user),
    })
}

/// A caller allowed to operate confab over HTTP (the admin API, the
/// operator console, provisioning and import): the app backend with the
/// service credential (`admin.token`), or a user of `admin.users` with
/// their own token. Anyone else: 401 without a valid credential, 403 with
/// a valid user token that is not an operator's.
#[derive(Debug, Clone)]
pub enum Operator {
    /// `Authorization: Bearer <admin.token>`.
    Service,
    /// A user listed in `admin.users`.
    User(Actor),
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(AuthError::MissingToken)?;
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        if let Some(service) = state.config.admin.service_token() {
            let given = value.strip_prefix("Bearer ").unwrap_or(value).trim();
            if constant_time_eq(given.as_bytes(), service.as_bytes()) {
                return Ok(Operator::Service);
            }
        }
        let actor = authenticate(state, value).await?;
        if state.config.admin.is_operator(&actor.user.id) {
            Ok(Operator::User(actor))
        } else {
            Err(CoreError::Forbidden("only an operator (admin.users) may do this").into())
        }
    }
}

/// Compares two secrets in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    /// 3 to 64 characters of letters, digits, `.`, `_`, `-`, `+` and `@`; unique
    /// (case-insensitive).
    pub username: String,
    pub password: String,
    /// 1 to 100 characters.
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A token and the user it names.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// An HS256 JWT; send it as `Authorization: Bearer <token>` (HTTP) or
    /// in the Socket.IO handshake.
    pub token: String,
    pub user: UserDto,
}

fn respond(state: &AppState, user: &User) -> Result<axum::Json<AuthResponse>, ApiError> {
    let token = state.keys.issue(
        user.id.as_str(),
        Some(user.name()),
        state.config.auth.token_ttl.as_duration(),
    )?;
    Ok(axum::Json(AuthResponse {
        token,
        user: UserDto::from(user),
    }))
}

/// Create a password account and get a token for it.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Created", body = AuthResponse),
        (status = 400, description = "Invalid username, password or display name", body = ErrorBody),
        (status = 403, description = "Registration is closed (`auth.registration`)", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, axum::Json<AuthResponse>), ApiError> {
    let profile = Profile {
        display_name: body.display_name,
        ..Profile::default()
    };
    let user = state
        .service
        .sign_up(&body.username, &body.password, profile)
        .await?;
    Ok((StatusCode::CREATED, respond(&state, &user)?))
}

/// Log in with a username and password and get a token.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "OK", body = AuthResponse),
        (status = 400, description = "Malformed payload", body = ErrorBody),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many failed logins of this account or from this address; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    Json(body): Json<LoginRequest>,
) -> Result<axum::Json<AuthResponse>, ApiError> {
    let user = state
        .service
        .login(&body.username, &body.password, from)
        .await
        .map_err(|e| match e {
            CoreError::Unauthenticated => ApiError::WrongCredentials,
            other => other.into(),
        })?;
    respond(&state, &user)
}

/// The caller.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = UserDto),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn me(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<UserDto>, ApiError> {
    let user = state.service.user(actor.id()).await?;
    Ok(axum::Json(UserDto::from(&user)))
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn secrets_compare_equal_only_when_every_byte_is() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
