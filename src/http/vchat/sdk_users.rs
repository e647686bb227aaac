//! The account calls of the V Chat SDK v1 (`AuthProvider`,
//! `VChatProvider`, `NotificationService`): `user/register` and
//! `user/login` answer the `VChatUser` the SDK keeps (`{_id, name,
//! imageThumb, email, accessToken}`), and register the device's push token
//! they carry; `PATCH user` changes the name, the picture or the push
//! token; `GET user/{id}` shows a contact.

use axum::extract::{DefaultBodyLimit, Request, State};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::answers::{VOkSdkSession, VOkSdkUser, VOkText};
use super::{Answer, SdkForm, VError, VFail, access_token, caller, created, ok};
use crate::core::command::Actor;
use crate::core::{CoreError, DevicePlatform, MessageKind, Profile, User};
use crate::dialects::vchat::push::PUSH_FORMAT;
use crate::dialects::vchat::{Lang, profile_image};
use crate::http::api::user_id;
use crate::http::auth::{ClientAddr, CurrentUser};
use crate::http::error::{ApiError, Path};
use crate::http::uploads::UploadError;
use crate::media::Received;
use crate::state::AppState;

/// The SDK's user routes; `uploads` is the body limit of those that take
/// a picture.
pub fn routes(uploads: DefaultBodyLimit) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register).layer(uploads))
        .routes(routes!(login))
        .routes(routes!(update).layer(uploads))
        .routes(routes!(user))
}

/// `VChatUser.fromMap`'s fields but the token (every one a string).
fn user_json(u: &User) -> Value {
    json!({
        "_id": u.id,
        "name": u.name(),
        "imageThumb": profile_image(u.avatar_url.as_deref()),
        "email": u.email.as_deref().or(u.username.as_deref()).unwrap_or(""),
    })
}

/// The user with a raw access token, as register and login answer.
fn session_json(state: &AppState, lang: Lang, u: &User) -> Result<Value, VError> {
    let mut data = user_json(u);
    data["accessToken"] = Value::String(access_token(state, lang, u)?);
    Ok(data)
}

/// The push token in an SDK call: none when empty, `null`, `Out` (the log
/// out marker) or text with spaces (the SDK's "you don't use firebase on
/// flutter app" when the app has no Firebase).
fn push_token(token: Option<&str>) -> Option<&str> {
    token.map(str::trim).filter(|t| {
        !t.is_empty() && *t != "null" && *t != "Out" && !t.contains(char::is_whitespace)
    })
}

/// `Android`, `ios`, `Ios`, `web` (any case); FCM tokens work the same on
/// each, so anything else (or nothing) is `android`.
fn platform(p: Option<&str>) -> DevicePlatform {
    p.map(|p| p.trim().to_ascii_lowercase())
        .and_then(|p| DevicePlatform::parse(&p))
        .unwrap_or(DevicePlatform::Android)
}

/// Registers the push token of the call, if it carries one.
async fn register_push(
    state: &AppState,
    lang: Lang,
    actor: &Actor,
    token: Option<&str>,
    p: Option<&str>,
) -> Result<(), VError> {
    if let Some(token) = push_token(token) {
        try_core!(
            lang,
            state
                .service
                .register_device(actor, token, platform(p), Some(PUSH_FORMAT))
                .await
        );
    }
    Ok(())
}

fn actor_of(u: &User) -> Actor {
    Actor { user: u.into() }
}

/// Keeps a picture as an upload of `actor`; its server path.
async fn keep_picture(
    state: &AppState,
    lang: Lang,
    actor: &Actor,
    file: Received,
) -> Result<String, VError> {
    let (stored, _) = state
        .media
        .keep(&state.service, actor.id(), file, MessageKind::Image)
        .await
        .map_err(|e| VError(lang, UploadError::from(e).into_api()))?;
    Ok(stored.path())
}

// ---------------------------------------------------------------- register

/// `user/register`: JSON, or a form with the picture as `file` (the SDK
/// sends no `platform` then).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkRegister {
    pub name: String,
    /// The login name (an email, or any username of 3 to 64 characters).
    pub email: String,
    /// The SDK sends `sha512("<passwordHashKey>_<email>")` in hex.
    pub password: String,
    /// The device's FCM token (see the dialect's page for what is ignored).
    #[serde(default)]
    pub fcm_token: Option<String>,
    /// `Android` or `ios`.
    #[serde(default)]
    pub platform: Option<String>,
}

/// Register (the SDK's `VChatController.register`).
#[utoipa::path(post, path = "/api/v1/user/register", tag = "vchat", operation_id = "vchat_sdk_register", request_body = SdkRegister,
    responses((status = 201, description = "`{success, data: {_id, name, imageThumb, email, accessToken}}`", body = VOkSdkSession),
              (status = 400, description = "Invalid email, name or password: `data` says why", body = VFail),
              (status = 403, description = "Registration is closed (`auth.registration`)", body = VFail),
              (status = 409, description = "Email taken", body = VFail)))]
pub async fn register(State(state): State<AppState>, lang: Lang, req: Request) -> Answer {
    // Refused before the form (and a picture in it) is read.
    try_core!(lang, state.service.registration_open());
    let mut form = SdkForm::read(&state, lang, req, 1).await?;
    let b: SdkRegister = form.parse(lang)?;
    let profile = Profile {
        display_name: Some(b.name),
        email: Some(b.email.clone()),
        avatar_url: None,
    };
    let mut user = try_core!(
        lang,
        state.service.sign_up(&b.email, &b.password, profile).await
    );
    let actor = actor_of(&user);
    if let Some(file) = form.files.pop().map(|f| f.received) {
        // The account exists: a picture the pipeline refuses leaves the
        // default one rather than failing the registration.
        match keep_picture(&state, lang, &actor, file).await {
            Ok(path) => {
                let picture = Profile {
                    avatar_url: Some(path),
                    ..Profile::default()
                };
                user = try_core!(lang, state.service.update_profile(&actor, picture).await);
            }
            Err(VError(_, e)) => {
                tracing::warn!(user = %user.id, error = %e, "registration picture refused");
            }
        }
    }
    register_push(
        &state,
        lang,
        &actor,
        b.fcm_token.as_deref(),
        b.platform.as_deref(),
    )
    .await?;
    created(session_json(&state, lang, &user)?)
}

// ------------------------------------------------------------------- login

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkLogin {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub fcm_token: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
}

/// Log in (the SDK's `VChatController.login`).
#[utoipa::path(post, path = "/api/v1/user/login", tag = "vchat", operation_id = "vchat_sdk_login", request_body = SdkLogin,
    responses((status = 200, description = "`{success, data: {_id, name, imageThumb, email, accessToken}}`", body = VOkSdkSession),
              (status = 401, description = "Wrong email or password", body = VFail),
              (status = 429, description = "Too many failed logins; see Retry-After", body = VFail)))]
pub async fn login(
    State(state): State<AppState>,
    lang: Lang,
    ClientAddr(from): ClientAddr,
    req: Request,
) -> Answer {
    let b: SdkLogin = SdkForm::read(&state, lang, req, 0).await?.parse(lang)?;
    let user = state
        .service
        .login(&b.email, &b.password, from)
        .await
        .map_err(|e| match e {
            CoreError::Unauthenticated => VError(lang, ApiError::WrongCredentials),
            other => VError(lang, other.into()),
        })?;
    register_push(
        &state,
        lang,
        &actor_of(&user),
        b.fcm_token.as_deref(),
        b.platform.as_deref(),
    )
    .await?;
    ok(session_json(&state, lang, &user)?)
}

// ------------------------------------------------------------------ update

/// `PATCH user`: any of these (JSON), or a form with a new picture as
/// `file`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkUpdate {
    /// A new push token; `Out` removes every push token of the caller.
    #[serde(default)]
    pub fcm_token: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    /// Accepted and not kept: error texts follow each request's
    /// `accept-language`.
    #[serde(default)]
    pub app_language: Option<String>,
}

/// Change the caller's push token, name or picture.
#[utoipa::path(patch, path = "/api/v1/user", tag = "vchat", operation_id = "vchat_sdk_update", request_body = SdkUpdate, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data}`: the new picture's name if a file was sent, else the caller's name", body = VOkText),
              (status = 400, description = "Invalid name or picture", body = VFail), (status = 401, description = "No valid token", body = VFail)))]
pub async fn update(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    req: Request,
) -> Answer {
    let actor = caller(lang, user)?;
    let mut form = SdkForm::read(&state, lang, req, 1).await?;
    let b: SdkUpdate = form.parse(lang)?;
    let _ = b.app_language;
    if b.fcm_token.as_deref().map(str::trim) == Some("Out") {
        try_core!(lang, state.service.remove_devices(&actor).await);
    } else {
        register_push(
            &state,
            lang,
            &actor,
            b.fcm_token.as_deref(),
            b.platform.as_deref(),
        )
        .await?;
    }
    let picture = match form.files.pop().map(|f| f.received) {
        Some(file) => Some(keep_picture(&state, lang, &actor, file).await?),
        None => None,
    };
    let sent_picture = picture.is_some();
    let profile = Profile {
        display_name: b.name,
        avatar_url: picture,
        email: None,
    };
    let user = try_core!(lang, state.service.update_profile(&actor, profile).await);
    if sent_picture {
        ok(Value::String(profile_image(user.avatar_url.as_deref())))
    } else {
        ok(Value::String(user.name().to_owned()))
    }
}

// -------------------------------------------------------------------- user

/// A user: the caller, or someone who shares a room with the caller.
#[utoipa::path(get, path = "/api/v1/user/{id}", tag = "vchat", operation_id = "vchat_sdk_user", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "`{success, data: {_id, name, imageThumb, email}}`", body = VOkSdkUser),
              (status = 404, description = "Not a contact of the caller", body = VFail)))]
pub async fn user(
    State(state): State<AppState>,
    lang: Lang,
    me: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
) -> Answer {
    let actor = caller(lang, me)?;
    let id = user_id(&id).map_err(|e| VError(lang, e))?;
    let user = try_core!(lang, state.service.contact(&actor, &id).await);
    ok(user_json(&user))
}
