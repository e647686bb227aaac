//! The HTTP API's one error type, mapped once to status codes, and the
//! extractors whose rejections are turned into it.
//!
//! Every error body is `{"error": {"code": "...", "message": "..."}}` with the
//! core's stable codes:
//!
//! | code | status | notes |
//! |---|---|---|
//! | `UNAUTHENTICATED` | 401 | with `WWW-Authenticate: Bearer` |
//! | `FORBIDDEN` | 403 | |
//! | `NOT_FOUND` | 404 | also unknown routes under `/api`; 405 (with `Allow`) for a known route and the wrong method |
//! | `INVALID_PAYLOAD` | 400 | also malformed JSON, wrong types, missing fields, wrong content type, bad path or query; 413 for a body over `limits.http_body_bytes` |
//! | `RATE_LIMITED` | 429 | with `Retry-After` in whole seconds |
//! | `CONFLICT` | 409 | |
//! | `UNAVAILABLE` | 503 | |
//! | `INTERNAL` | 500 | details are logged, the client sees only "internal error" |

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::core::{CoreError, ErrorCode};
use crate::telemetry::names;

/// Everything a handler of the HTTP API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// An error of the core (authorization, validation, storage, ...).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A missing, invalid or expired token (401), or a key problem on the
    /// server's side (500).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A username/password pair that does not match (401).
    #[error("wrong username or password")]
    WrongCredentials,
    /// A request the HTTP layer could not decode: bad JSON, wrong types,
    /// missing fields, wrong content type, bad path or query (400), or a body
    /// over the size limit (413).
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
    /// No route under `/api` has this path.
    #[error("no such API route")]
    NoRoute,
    /// The route exists but not for this method.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// One of UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_PAYLOAD,
    /// RATE_LIMITED, CONFLICT, UNAVAILABLE, INTERNAL.
    #[schema(example = "NOT_FOUND")]
    pub code: String,
    /// A short human-readable explanation.
    #[schema(example = "conversation not found")]
    pub message: String,
}

impl ApiError {
    /// A 400 with this message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::Rejected {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// The code, the status and the message shown to the client.
    pub(crate) fn parts(&self) -> (ErrorCode, StatusCode, String) {
        match self {
            ApiError::Core(e) => {
                let code = e.code();
                let message = match e {
                    // Never show internal details.
                    CoreError::Internal(_) => "internal error".to_owned(),
                    other => other.to_string(),
                };
                (code, status_of(code), message)
            }
            ApiError::Auth(e) if e.is_setup_error() => (
                ErrorCode::Internal,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".to_owned(),
            ),
            ApiError::Auth(e) => (
                ErrorCode::Unauthenticated,
                StatusCode::UNAUTHORIZED,
                e.to_string(),
            ),
            ApiError::WrongCredentials => (
                ErrorCode::Unauthenticated,
                StatusCode::UNAUTHORIZED,
                self.to_string(),
            ),
            ApiError::Rejected { status, message } if status.is_server_error() => {
                tracing::error!(%status, %message, "request extraction failed on the server side");
                (
                    ErrorCode::Internal,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_owned(),
                )
            }
            ApiError::Rejected { status, message } => {
                let status = if *status == StatusCode::PAYLOAD_TOO_LARGE {
                    *status
                } else {
                    StatusCode::BAD_REQUEST
                };
                (ErrorCode::InvalidPayload, status, message.clone())
            }
            ApiError::NoRoute => (ErrorCode::NotFound, StatusCode::NOT_FOUND, self.to_string()),
            ApiError::MethodNotAllowed => (
                ErrorCode::NotFound,
                StatusCode::METHOD_NOT_ALLOWED,
                self.to_string(),
            ),
        }
    }

    fn log(&self) {
        match self {
            ApiError::Core(CoreError::Internal(details)) => {
                tracing::error!(%details, "internal error in an HTTP request");
            }
            ApiError::Core(e @ CoreError::Unavailable(source)) => {
                tracing::warn!(error = %e, %source, "storage unavailable in an HTTP request");
            }
            ApiError::Auth(e) if e.is_setup_error() => {
                tracing::error!(error = %e, "authentication setup error in an HTTP request");
            }
            _ => {}
        }
    }
}

/// The one mapping of the core's codes to HTTP statuses.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::InvalidPayload => StatusCode::BAD_REQUEST,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let (code, status, message) = self.parts();
        let label = code.as_str();
        metrics::counter!(names::ERRORS, "dialect" => "rest", "code" => label).increment(1);
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.as_str().to_owned(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::Core(CoreError::RateLimited { retry_after_ms }) = &self {
            let secs = retry_after_ms.div_ceil(1000).max(1);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

/// `axum::Json` for request bodies, rejecting with [`ApiError`].
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// `axum::extract::Path`, rejecting with [`ApiError`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query`, rejecting with [`ApiError`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Fallback for unknown paths under `/api`.
pub async fn no_route() -> ApiError {
    ApiError::NoRoute
}

/// Fallback for a known `/api` path and a method it does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::StoreError;

    async fn body_of(e: ApiError) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
        let response = e.into_response();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (
            status,
            headers,
            serde_json::from_slice(&bytes).expect("json body"),
        )
    }

    #[tokio::test]
    async fn every_core_code_maps_to_its_status() {
        let cases: Vec<(CoreError, u16, &str)> = vec![
            (CoreError::Unauthenticated, 401, "UNAUTHENTICATED"),
            (CoreError::Forbidden("no"), 403, "FORBIDDEN"),
            (CoreError::NotFound("conversation"), 404, "NOT_FOUND"),
            (CoreError::invalid("bad"), 400, "INVALID_PAYLOAD"),
            (
                CoreError::RateLimited {
                    retry_after_ms: 1500,
                },
                429,
                "RATE_LIMITED",
            ),
            (CoreError::Conflict("taken"), 409, "CONFLICT"),
            (
                CoreError::Unavailable(StoreError::Unavailable("down".into())),
                503,
                "UNAVAILABLE",
            ),
            (CoreError::Internal("secret detail".into()), 500, "INTERNAL"),
        ];
        for (e, status, code) in cases {
            let (s, _, body) = body_of(ApiError::Core(e)).await;
            assert_eq!(s.as_u16(), status);
            assert_eq!(body["error"]["code"], code);
        }
    }

    #[tokio::test]
    async fn internal_errors_hide_their_details() {
        let (_, _, body) = body_of(CoreError::Internal("secret detail".into()).into()).await;
        assert_eq!(body["error"]["message"], "internal error");
        let (s, _, body) = body_of(AuthError::Signing("key detail".into()).into()).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["message"], "internal error");
    }

    #[tokio::test]
    async fn unauthenticated_answers_carry_a_bearer_challenge() {
        let (s, h, body) = body_of(AuthError::Expired.into()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(body["error"]["message"], "token expired");
    }

    #[tokio::test]
    async fn rate_limited_answers_say_when_to_retry_in_whole_seconds() {
        let (_, h, _) = body_of(
            CoreError::RateLimited {
                retry_after_ms: 1500,
            }
            .into(),
        )
        .await;
        assert_eq!(h[header::RETRY_AFTER], "2");
        let (_, h, _) = body_of(CoreError::RateLimited { retry_after_ms: 0 }.into()).await;
        assert_eq!(h[header::RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn rejections_are_bad_requests_except_oversized_bodies() {
        let (s, _, body) = body_of(ApiError::Rejected {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "no content type".into(),
        })
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "INVALID_PAYLOAD");
        let (s, _, _) = body_of(ApiError::Rejected {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: "too big".into(),
        })
        .await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
