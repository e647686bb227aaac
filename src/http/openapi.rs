//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers'
//! `#[utoipa::path]` annotations and served at `GET /openapi.json`.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, ErrorDetail};
use super::{api, auth, departments, dto, health, jobspare, uploads, vchat};

#[derive(OpenApi)]
#[openapi(
    paths(
        auth::register,
        auth::login,
        auth::me,
        api::conversations::create_conversation,
        api::conversations::list_conversations,
        api::conversations::get_conversation,
        api::conversations::add_member,
        api::conversations::remove_member,
        api::messages::history,
        api::messages::send_message,
        api::messages::edit_message,
        api::messages::delete_message,
        api::messages::mark_read,
        api::friendships::list_friendships,
        api::friendships::request_friendship,
        api::friendships::accept_friendship,
        api::friendships::reject_friendship,
        api::friendships::block_user,
        api::friendships::unblock_user,
        api::devices::register_device,
        api::devices::remove_device,
        departments::create_department,
        departments::list_departments,
        departments::get_department,
        departments::add_agent,
        departments::remove_agent,
        departments::open_support,
        departments::list_support,
        departments::claim,
        vchat::register,
        vchat::login,
        vchat::me,
        vchat::rooms,
        vchat::create_single,
        vchat::create_group,
        vchat::block,
        vchat::unblock,
        vchat::mute,
        vchat::unmute,
        vchat::leave,
        vchat::messages,
        vchat::send_text,
        vchat::send_attachment,
        vchat::sdk_users::register,
        vchat::sdk_users::login,
        vchat::sdk_users::update,
        vchat::sdk_users::user,
        vchat::sdk_rooms::rooms,
        vchat::sdk_rooms::single,
        vchat::sdk_rooms::group,
        vchat::sdk_rooms::check_room,
        vchat::sdk_rooms::ban,
        vchat::sdk_rooms::leave,
        vchat::sdk_rooms::notifications,
        vchat::sdk_rooms::members,
        vchat::sdk_rooms::kick,
        vchat::sdk_rooms::member_state,
        vchat::sdk_rooms::add_members,
        vchat::sdk_rooms::group_info,
        vchat::sdk_rooms::messages,
        vchat::sdk_rooms::send,
        vchat::sdk_rooms::send_group,
        health::healthz,
        health::readyz,
        uploads::upload_syarah,
        uploads::upload_native,
        jobspare::upload,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        dto::UserDto,
        dto::Kind,
        dto::RoleDto,
        dto::MemberDto,
        dto::MessageKindDto,
        dto::MessageDto,
        dto::DeliveryStatusDto,
        dto::AttachmentDto,
        dto::ConversationDto,
        departments::AgentRoleDto,
        departments::AgentDto,
        departments::DepartmentDto,
        departments::SupportConversationDto,
        departments::CreateDepartment,
        departments::AddAgent,
        departments::OpenSupport,
        vchat::VRegister,
        vchat::VLogin,
        vchat::VSingle,
        vchat::VGroup,
        vchat::VText,
        vchat::sdk_users::SdkRegister,
        vchat::sdk_users::SdkLogin,
        vchat::sdk_users::SdkUpdate,
        vchat::sdk_rooms::SdkSingle,
        vchat::sdk_rooms::SdkGroup,
        vchat::sdk_rooms::SdkPeerEmail,
        vchat::sdk_rooms::SdkPeer,
        vchat::sdk_rooms::SdkGroupId,
        vchat::sdk_rooms::SdkRoomId,
        vchat::sdk_rooms::SdkRoomPeer,
        vchat::sdk_rooms::SdkMemberState,
        vchat::sdk_rooms::SdkAddMembers,
        vchat::sdk_rooms::SdkGroupInfo,
        vchat::sdk_rooms::SdkSend,
        api::messages::MessagePage,
        api::messages::ReadReceipt,
        api::conversations::CreateConversation,
        api::conversations::AddMember,
        api::messages::PostMessage,
        api::messages::EditMessage,
        api::friendships::FriendshipStatusDto,
        api::friendships::FriendshipDto,
        api::friendships::FriendRequest,
        api::devices::DevicePlatformDto,
        api::devices::RegisterDevice,
        api::devices::DeviceDto,
        auth::RegisterRequest,
        auth::LoginRequest,
        auth::AuthResponse,
        health::Health,
        health::Readiness,
        uploads::SyarahEnvelope,
        uploads::UploadDto,
        jobspare::JobSpareUpload,
        jobspare::JobSpareFile,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "conversations", description = "Conversations and their members"),
        (name = "messages", description = "Messages, history and read state"),
        (name = "health", description = "Probes"),
        (name = "uploads", description = "File uploads for chat messages"),
        (name = "friendships", description = "Friend requests and blocks"),
        (name = "devices", description = "Push notification tokens"),
        (name = "departments", description = "Support desk: departments, agents and support conversations"),
        (name = "vchat", description = "V Chat's REST API: `{success, data}` envelopes, raw tokens, error texts in the `accept-language` (English or Arabic)"),
    )
)]
pub struct ApiDoc;

/// Adds the `bearer` security scheme the protected operations refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document, with confab's name and version.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.title = "confab".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description =
        Some("REST API of confab, a real-time chat server that speaks several Socket.IO chat APIs. Errors are `{\"error\": {\"code\", \"message\"}}`; timestamps are milliseconds since the Unix epoch.".into());
    doc
}

static DOCUMENT: LazyLock<Result<String, String>> =
    LazyLock::new(|| document().to_json().map_err(|e| e.to_string()));

/// `GET /openapi.json`.
pub async fn openapi_json() -> Response {
    match &*DOCUMENT {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not serialize the OpenAPI document");
            super::error::ApiError::Core(crate::core::CoreError::Internal(e.clone()))
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_document() {
        let doc = serde_json::to_value(document()).expect("serializes");
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "confab");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        let expected: &[(&str, &[&str])] = &[
            ("/api/auth/register", &["post"]),
            ("/api/auth/login", &["post"]),
            ("/api/me", &["get"]),
            ("/api/conversations", &["get", "post"]),
            ("/api/conversations/{id}", &["get"]),
            ("/api/conversations/{id}/members", &["post"]),
            ("/api/conversations/{id}/members/{userId}", &["delete"]),
            ("/api/conversations/{id}/messages", &["get", "post"]),
            ("/api/messages/{id}", &["patch", "delete"]),
            ("/api/messages/{id}/read", &["post"]),
            ("/api/friendships", &["get", "post"]),
            ("/api/friendships/{userId}/accept", &["post"]),
            ("/api/friendships/{userId}/reject", &["post"]),
            ("/api/friendships/{userId}/block", &["post", "delete"]),
            ("/api/devices", &["post"]),
            ("/api/devices/{token}", &["delete"]),
            ("/healthz", &["get"]),
            ("/readyz", &["get"]),
            ("/api/chat/uploadFile", &["post"]),
            ("/api/uploads", &["post"]),
            ("/api/chat/upload", &["post"]),
            ("/api/departments", &["get", "post"]),
            ("/api/departments/{id}", &["get"]),
            ("/api/departments/{id}/agents", &["post"]),
            ("/api/departments/{id}/agents/{userId}", &["delete"]),
            ("/api/departments/{id}/conversations", &["get", "post"]),
            (
                "/api/departments/{id}/conversations/{conversationId}/claim",
                &["post"],
            ),
            ("/api/v1/auth/register", &["post"]),
            ("/api/v1/auth/login", &["post"]),
            ("/api/v1/user/me", &["get"]),
            ("/api/v1/rooms", &["get"]),
            ("/api/v1/rooms/single", &["post"]),
            ("/api/v1/rooms/group", &["post"]),
            ("/api/v1/rooms/{roomId}/block", &["post"]),
            ("/api/v1/rooms/{roomId}/unblock", &["post"]),
            ("/api/v1/rooms/{roomId}/mute", &["post"]),
            ("/api/v1/rooms/{roomId}/unmute", &["post"]),
            ("/api/v1/rooms/{roomId}/leave", &["post"]),
            ("/api/v1/rooms/{roomId}/messages", &["get", "post"]),
            ("/api/v1/rooms/{roomId}/messages/attachment", &["post"]),
            ("/api/v1/user/register", &["post"]),
            ("/api/v1/user/login", &["post"]),
            ("/api/v1/user", &["patch"]),
            ("/api/v1/user/{id}", &["get"]),
            ("/api/v1/room", &["get"]),
            ("/api/v1/room/single", &["post"]),
            ("/api/v1/room/group", &["post"]),
            ("/api/v1/room/check-if-there-room", &["post"]),
            ("/api/v1/room/ban-chat-user", &["post"]),
            ("/api/v1/room/leave-group-chat", &["post"]),
            ("/api/v1/room/chat-notification", &["post"]),
            ("/api/v1/room/group-members", &["get"]),
            ("/api/v1/room/kick-member", &["post"]),
            ("/api/v1/room/update-member-state", &["post"]),
            ("/api/v1/room/add-member", &["post"]),
            ("/api/v1/room/update-group-info", &["post"]),
            ("/api/v1/message", &["get"]),
            ("/api/v1/message/single", &["post"]),
            ("/api/v1/message/group", &["post"]),
        ];
        for (path, methods) in expected {
            for method in *methods {
                assert!(
                    doc["paths"][path][method].is_object(),
                    "{method} {path} missing from the OpenAPI document"
                );
            }
        }
        assert_eq!(
            doc["paths"].as_object().map(|p| p.len()),
            Some(expected.len()),
            "paths in the document but not in this test"
        );
    }

    #[test]
    fn protected_operations_require_the_bearer_scheme() {
        let doc = serde_json::to_value(document()).expect("serializes");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert!(doc["paths"]["/api/me"]["get"]["security"][0]["bearer"].is_array());
        assert!(doc["paths"]["/api/auth/login"]["post"]["security"].is_null());
    }

    #[test]
    fn every_referenced_schema_is_defined() {
        let text = document().to_json().expect("serializes");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("parses");
        let schemas = &doc["components"]["schemas"];
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(schemas[name].is_object(), "schema {name} is not defined");
        }
    }

    #[test]
    fn every_response_has_a_description() {
        let doc = serde_json::to_value(document()).expect("serializes");
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        for (path, ops) in paths {
            for (method, op) in ops.as_object().cloned().unwrap_or_default() {
                let responses = op["responses"].as_object().cloned().unwrap_or_default();
                assert!(!responses.is_empty(), "{method} {path} has no responses");
                for (status, r) in responses {
                    assert!(
                        r["description"].is_string(),
                        "{method} {path} {status} has no description"
                    );
                }
            }
        }
    }
}
