//! The shapes of V Chat's answers about users and sessions, as the OpenAPI
//! document shows them (the handlers build them as JSON; the black-box
//! tests check real answers against these). Rooms and messages are
//! documented as `data` of [`super::VOk`].

use utoipa::ToSchema;

/// A user, as the seed's routes answer it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VSeedUser {
    #[schema(rename = "_id")]
    id: String,
    #[schema(rename = "fullName")]
    full_name: String,
    /// The email, or the username of an account without one.
    email: Option<String>,
    /// The picture's key under `/api/v1/public/profile/`.
    #[schema(rename = "userImage")]
    user_image: String,
}

/// The seed's register and login answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VSeedSession {
    /// The raw access token (sent as `Authorization` as it is).
    #[schema(rename = "accessToken")]
    access_token: String,
    user: VSeedUser,
}

/// A user, as the SDK's routes answer it (`VChatUser.fromMap`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VSdkUser {
    #[schema(rename = "_id")]
    id: String,
    name: String,
    /// The picture's key under `/api/v1/public/profile/`.
    #[schema(rename = "imageThumb")]
    image_thumb: String,
    /// The email, or the username of an account without one.
    email: String,
}

/// The SDK's register and login answer: the user and its access token.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VSdkSession {
    #[schema(rename = "_id")]
    id: String,
    name: String,
    #[schema(rename = "imageThumb")]
    image_thumb: String,
    email: String,
    /// The raw access token.
    #[schema(rename = "accessToken")]
    access_token: String,
}

/// `{success: true, data: user}` of the seed.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VOkSeedUser {
    success: bool,
    data: VSeedUser,
}

/// `{success: true, data: {accessToken, user}}` of the seed.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VOkSeedSession {
    success: bool,
    data: VSeedSession,
}

/// `{success: true, data: user}` of the SDK.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VOkSdkUser {
    success: bool,
    data: VSdkUser,
}

/// `{success: true, data: user with accessToken}` of the SDK.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VOkSdkSession {
    success: bool,
    data: VSdkSession,
}

/// `{success: true, data: text}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VOkText {
    success: bool,
    data: String,
}
