//! The HTTP side every listener serves next to its Socket.IO namespaces: the
//! REST API under `/api` (see [`api`], [`auth`], [`departments`], [`uploads`]
//! and the dialects' own [`vchat`], [`syarah`] and [`jobspare`] routes; the JSON shapes
//! they share are in [`dto`]), probes ([`health`]) and the OpenAPI document
//! ([`openapi`]), and on the Dozaar listener the web client ([`web`]).
//!
//! The routes are listed once, in [`routes`]: that list makes both this
//! router and the OpenAPI 3.1 document at `/openapi.json`, so the document
//! is the route table (method, path, parameters, answers).
//!
//! Layers: request bodies are capped at `limits.http_body_bytes` (413 above
//! it); `/api` answers CORS for `socket.allowed_origins`; every request is
//! traced. Errors are `{"error": {"code", "message"}}` (see [`error`]).

pub mod admin;
pub mod api;
pub mod auth;
pub mod departments;
pub mod documented;
pub mod dto;
pub mod error;
pub mod health;
pub mod jobspare;
pub mod openapi;
pub mod provision;
pub mod routes;
pub mod syarah;
pub mod uploads;
pub mod vchat;
pub mod web;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::routing::get;
use axum::{Extension, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::state::AppState;

/// The HTTP router (no fallback of its own, so it merges with others): the
/// routes of [`routes`], which also make the OpenAPI document.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let upload_limit = uploads::body_limit(&state.media);
    let api = Router::from(routes::api(upload_limit))
        .layer(Extension(state.media.clone()))
        .layer(cors(&config));
    Router::from(routes::probes())
        .route("/openapi.json", get(openapi::openapi_json))
        .merge(api)
        .layer(DefaultBodyLimit::max(config.limits.http_body_bytes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// CORS for `/api`: `["*"]` allows any origin, else the listed origins (as
/// `Config::origin_allowed` compares them). Requests without `Origin` are
/// not affected.
fn cors(config: &Config) -> CorsLayer {
    let origins = if config
        .socket
        .allowed_origins
        .iter()
        .any(|o| o.trim() == "*")
    {
        AllowOrigin::any()
    } else {
        let config = config.clone();
        AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|o| config.origin_allowed(Some(o)))
        })
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}
