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
use axum::http::{HeaderMap, StatusCode, Uri, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::UserDto;
use super::error::{ApiError, ErrorBody, Json};
use crate::auth::AuthError;
use crate::auth::session;
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
        let (token, _) = request_token(parts)?;
        authenticate(state, &token).await.map(CurrentUser)
    }
}

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenSource {
    /// `Authorization: Bearer <jwt>` (or the bare token).
    Header,
    /// The web client's session cookie ([`session::COOKIE_NAME`]).
    Cookie,
}

/// The one place a request's token is found: the `Authorization` header
/// first, then the session cookie. A cookie counts for an unsafe method
/// (POST, PATCH, PUT, DELETE) only with `X-Confab-Csrf: 1` and, when the
/// request has an `Origin`, the server's own (403 otherwise); a header
/// token needs neither, as no browser sends one by itself.
fn request_token(parts: &Parts) -> Result<(String, TokenSource), ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        return Ok((value.to_owned(), TokenSource::Header));
    }
    let token = session::cookie_token(&parts.headers).ok_or(AuthError::MissingToken)?;
    if !parts.method.is_safe() && !session::csrf_ok(&parts.headers) {
        return Err(CoreError::Forbidden(CSRF_REFUSAL).into());
    }
    Ok((token, TokenSource::Cookie))
}

/// The answer to a cookie request that fails the CSRF rule.
const CSRF_REFUSAL: &str = "a request signed in with the session cookie must carry the header \
     `X-Confab-Csrf: 1` and come from this server's own origin";

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

impl Operator {
    /// Who acts, for the log: the operator's user id, or `service`.
    pub fn name(&self) -> &str {
        match self {
            Operator::Service => "service",
            Operator::User(actor) => actor.id().as_str(),
        }
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (value, source) = request_token(parts)?;
        if let (Some(service), TokenSource::Header) = (state.config.admin.service_token(), source) {
            let given = value.strip_prefix("Bearer ").unwrap_or(&value).trim();
            if constant_time_eq(given.as_bytes(), service.as_bytes()) {
                return Ok(Operator::Service);
            }
        }
        let actor = authenticate(state, &value).await?;
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

/// Creates a password account (the register routes).
async fn sign_up(state: &AppState, body: RegisterRequest) -> Result<User, ApiError> {
    let profile = Profile {
        display_name: body.display_name,
        ..Profile::default()
    };
    Ok(state
        .service
        .sign_up(&body.username, &body.password, profile)
        .await?)
}

/// Checks a username and password (the login routes); a wrong pair is 401.
async fn sign_in(
    state: &AppState,
    body: LoginRequest,
    from: Option<IpAddr>,
) -> Result<User, ApiError> {
    state
        .service
        .login(&body.username, &body.password, from)
        .await
        .map_err(|e| match e {
            CoreError::Unauthenticated => ApiError::WrongCredentials,
            other => other.into(),
        })
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
    let user = sign_up(&state, body).await?;
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
    let user = sign_in(&state, body, from).await?;
    respond(&state, &user)
}

/// The signed-in user of a session; the token stays in the cookie.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    pub user: UserDto,
}

/// The answer that opens a session for `user`: its token in the
/// `HttpOnly` cookie, only the user in the body.
type SessionAnswer = (
    StatusCode,
    [(header::HeaderName, String); 2],
    axum::Json<SessionResponse>,
);

fn open_session(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    status: StatusCode,
    user: &User,
) -> Result<SessionAnswer, ApiError> {
    let ttl = state.config.auth.token_ttl.as_duration();
    let token = state.keys.issue(user.id.as_str(), Some(user.name()), ttl)?;
    let secure = session::over_https(headers, uri.scheme_str());
    Ok((
        status,
        [
            (
                header::SET_COOKIE,
                session::set_cookie(&token, ttl.as_secs(), secure),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        axum::Json(SessionResponse {
            user: UserDto::from(user),
        }),
    ))
}

/// The session endpoints are called by the web client's own page only.
fn session_request(headers: &HeaderMap) -> Result<(), ApiError> {
    if session::csrf_ok(headers) {
        Ok(())
    } else {
        Err(CoreError::Forbidden(CSRF_REFUSAL).into())
    }
}

/// Sign in the browser: the session cookie (`HttpOnly`, `SameSite=Strict`)
/// holds the token, which the answer does not show.
#[utoipa::path(
    post,
    path = "/api/auth/session",
    tag = "auth",
    request_body = LoginRequest,
    params(("X-Confab-Csrf" = String, Header, description = "`1`")),
    responses(
        (status = 200, description = "Signed in; `Set-Cookie: confab_session=…`", body = SessionResponse),
        (status = 400, description = "Malformed payload", body = ErrorBody),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 403, description = "No `X-Confab-Csrf: 1`, or another origin", body = ErrorBody),
        (status = 429, description = "Too many failed logins; see Retry-After", body = ErrorBody),
    )
)]
pub async fn session_login(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    headers: HeaderMap,
    uri: Uri,
    Json(body): Json<LoginRequest>,
) -> Result<SessionAnswer, ApiError> {
    session_request(&headers)?;
    let user = sign_in(&state, body, from).await?;
    open_session(&state, &headers, &uri, StatusCode::OK, &user)
}

/// Create a password account and sign the browser in with it (as
/// `POST /api/auth/session`).
#[utoipa::path(
    post,
    path = "/api/auth/session/register",
    tag = "auth",
    request_body = RegisterRequest,
    params(("X-Confab-Csrf" = String, Header, description = "`1`")),
    responses(
        (status = 201, description = "Created and signed in; `Set-Cookie: confab_session=…`", body = SessionResponse),
        (status = 400, description = "Invalid username, password or display name", body = ErrorBody),
        (status = 403, description = "Registration is closed, no `X-Confab-Csrf: 1`, or another origin", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
    )
)]
pub async fn session_register(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Json(body): Json<RegisterRequest>,
) -> Result<SessionAnswer, ApiError> {
    session_request(&headers)?;
    let user = sign_up(&state, body).await?;
    open_session(&state, &headers, &uri, StatusCode::CREATED, &user)
}

/// Sign the browser out: the session cookie is removed.
#[utoipa::path(
    delete,
    path = "/api/auth/session",
    tag = "auth",
    params(("X-Confab-Csrf" = String, Header, description = "`1`")),
    responses(
        (status = 204, description = "Signed out; `Set-Cookie: confab_session=; Max-Age=0`"),
        (status = 403, description = "No `X-Confab-Csrf: 1`, or another origin", body = ErrorBody),
    )
)]
pub async fn session_logout(
    headers: HeaderMap,
    uri: Uri,
) -> Result<(StatusCode, [(header::HeaderName, String); 1]), ApiError> {
    session_request(&headers)?;
    let secure = session::over_https(&headers, uri.scheme_str());
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::clear_cookie(secure))],
    ))
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
