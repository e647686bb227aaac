//! The OpenAPI 3.1 document of the HTTP API, served at `GET /openapi.json`:
//! the paths come from the routes the router serves ([`super::routes`],
//! each handler's `#[utoipa::path]`), the shared parts (schemas, security
//! scheme, tags) from [`ApiDoc`].

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, ErrorDetail};
use super::{api, auth, departments, dto, health, jobspare, routes, uploads, vchat};

#[derive(OpenApi)]
#[openapi(
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
        (name = "auth", description = "Accounts, tokens and the web client's session cookie"),
        (name = "admin", description = "The operator console's API: operators (`admin.users`) and the service credential (`admin.token`) only"),
        (name = "users", description = "Finding a user by username or id"),
        (name = "conversations", description = "Conversations and their members"),
        (name = "messages", description = "Messages, history and read state"),
        (name = "sync", description = "The change feed: what changed in the caller's conversations since a cursor"),
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

/// The document, with confab's name and version. The upload body limit
/// given to the routes does not show in it.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(routes::all(0).into_openapi());
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

    /// Every operation of the document as (path, method, operation).
    fn operations(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
            for (method, op) in item.as_object().cloned().unwrap_or_default() {
                if op["responses"].is_object() {
                    out.push((path.clone(), method, op));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_names_confab_and_holds_the_routes() {
        let doc = serde_json::to_value(document()).expect("serializes");
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "confab");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        let ops = operations(&doc);
        // The routes the issue found missing, and one of each family.
        for (path, method) in [
            ("/api/chat/getChatHeaderAsync", "get"),
            ("/uploads/{key}", "get"),
            ("/api/v1/public/messages/{key}", "get"),
            ("/api/v1/public/profile/{key}", "get"),
            ("/api/auth/login", "post"),
            ("/api/conversations/{id}/messages", "post"),
            (
                "/api/departments/{id}/conversations/{conversationId}/claim",
                "post",
            ),
            ("/api/v1/rooms/{roomId}/messages", "get"),
            ("/api/v1/message/group", "post"),
            ("/api/chat/upload", "post"),
            ("/healthz", "get"),
        ] {
            assert!(
                ops.iter().any(|(p, m, _)| p == path && m == method),
                "{method} {path} missing"
            );
        }
        assert!(ops.len() >= 70, "{} operations", ops.len());
        // axum's catch-all syntax stays out of the document.
        assert!(ops.iter().all(|(p, _, _)| !p.contains("{*")));
    }

    #[test]
    fn every_operation_id_is_unique() {
        let doc = serde_json::to_value(document()).expect("serializes");
        let mut seen = std::collections::BTreeMap::new();
        for (path, method, op) in operations(&doc) {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(!id.is_empty(), "{method} {path} has no operationId");
            if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id} of {method} {path} is also {other}'s");
            }
        }
    }

    #[test]
    fn path_parameters_are_exactly_the_paths_placeholders() {
        let doc = serde_json::to_value(document()).expect("serializes");
        for (path, method, op) in operations(&doc) {
            let mut in_path: Vec<&str> = path
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split('}').next())
                .collect();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut declared: Vec<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            in_path.sort_unstable();
            declared.sort_unstable();
            assert_eq!(declared, in_path, "path parameters of {method} {path}");
            for p in params.iter().filter(|p| p["in"] == "path") {
                assert_eq!(p["required"], true, "{method} {path} {}", p["name"]);
            }
        }
        let messages = &doc["paths"]["/api/v1/rooms/{roomId}/messages"]["get"]["parameters"];
        let query: Vec<&str> = messages
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(query, ["before", "limit"]);
    }

    /// Statuses answered without a body.
    const NO_BODY: [&str; 3] = ["204", "304", "416"];

    #[test]
    fn every_response_with_a_body_has_a_schema() {
        let doc = serde_json::to_value(document()).expect("serializes");
        for (path, method, op) in operations(&doc) {
            for (status, r) in op["responses"].as_object().cloned().unwrap_or_default() {
                if NO_BODY.contains(&status.as_str()) {
                    assert!(
                        r["content"].is_null(),
                        "{method} {path} {status} has a body"
                    );
                    continue;
                }
                let content = r["content"].as_object().cloned().unwrap_or_default();
                assert!(
                    !content.is_empty(),
                    "{method} {path} {status} has no content"
                );
                for (media_type, c) in content {
                    assert!(
                        c["schema"].is_object(),
                        "{method} {path} {status} {media_type} has no schema"
                    );
                }
            }
        }
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
