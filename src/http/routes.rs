//! Every documented route of the HTTP side, listed once: the list makes
//! both the router ([`super::router`]) and the OpenAPI document
//! ([`super::openapi::document`]), so a route cannot be served without being
//! documented nor documented without being served. Each handler's
//! `#[utoipa::path]` gives its method and path; `utoipa_axum`'s `routes!`
//! routes it there.
//!
//! Not in the document: `/openapi.json` itself and the `/api` fallbacks
//! (404 and 405 in the error shape).

use axum::routing::any;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::documented::map_router;
use super::{
    admin, api, auth, departments, error, health, jobspare, provision, syarah, uploads, vchat,
};
use crate::state::AppState;

/// The probes, outside `/api` (no CORS, no error-shaped fallbacks).
pub fn probes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
}

/// The routes under `/api` and `/uploads`, with the `/api` fallbacks.
/// `upload_limit` is the body limit of the routes that take a file
/// ([`uploads::body_limit`]); it does not change the document.
pub fn api(upload_limit: usize) -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::new()
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::session_login, auth::session_logout))
        .routes(routes!(auth::session_register))
        .routes(routes!(auth::me))
        .routes(routes!(admin::overview))
        .routes(routes!(admin::users))
        .routes(routes!(admin::disable_user))
        .routes(routes!(admin::enable_user))
        .routes(routes!(admin::revoke_tokens))
        .merge(api::conversations::routes())
        .merge(api::messages::routes())
        .merge(api::sync::routes())
        .merge(api::friendships::routes())
        .merge(api::devices::routes())
        .merge(api::users::routes())
        .merge(departments::routes())
        .merge(provision::routes())
        .merge(vchat::routes(upload_limit))
        .merge(jobspare::routes(upload_limit))
        .routes(routes!(syarah::get_chat_header));
    let api = map_router(api, |r| {
        r.method_not_allowed_fallback(error::method_not_allowed)
            .route("/api", any(error::no_route))
            .route("/api/", any(error::no_route))
            .route("/api/{*rest}", any(error::no_route))
    });
    api.merge(uploads::routes(upload_limit))
}

/// Probes and API: every documented route.
pub fn all(upload_limit: usize) -> OpenApiRouter<AppState> {
    probes().merge(api(upload_limit))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// What serves a route without documenting it.
    const UNDOCUMENTED: [&str; 4] = [".route(", ".route_service(", ".nest(", ".nest_service("];

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// A route added with axum's own `.route` would be served and not
    /// documented: only this file (the `/api` fallbacks), the catch-all
    /// helper, `/openapi.json` in the router and the admin listener's
    /// `/metrics` (another listener, not the public API) may add one.
    #[test]
    fn routes_are_added_only_through_the_documented_list() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(files.len() > 50, "{} files", files.len());
        for file in files {
            let rel = file
                .strip_prefix(&src)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "http/routes.rs" || rel == "http/documented.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let found: usize = UNDOCUMENTED.iter().map(|p| text.matches(p).count()).sum();
            let allowed = usize::from(rel == "http/mod.rs" || rel == "telemetry/admin.rs");
            assert_eq!(found, allowed, "{rel} routes outside src/http/routes.rs");
        }
    }
}
