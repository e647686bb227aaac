//! Helpers for declaring a route once, for both the router and the OpenAPI
//! document, around `utoipa_axum`'s [`OpenApiRouter`]: a route whose last
//! path parameter takes the rest of the path, and router-only settings
//! (fallbacks, layers) that keep the routes' document.

use axum::Router;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// Routes `handlers` (one `routes!(…)`) with the last path parameter as a
/// catch-all: documented as `/uploads/{key}`, served as `/uploads/{*key}`,
/// so the key may hold slashes. OpenAPI has no catch-all parameter; the
/// handler's annotation says so in the parameter's description.
pub fn catch_all<S>(router: OpenApiRouter<S>, handlers: UtoipaMethodRouter<S>) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let (schemas, paths, method_router) = handlers;
    let mut router = paths.paths.keys().fold(router, |router, path| {
        router.route(&catch_all_path(path), method_router.clone())
    });
    let doc = router.get_openapi_mut();
    for (path, item) in paths.paths {
        match doc.paths.paths.get_mut(&path) {
            Some(existing) => existing.merge_operations(item),
            None => {
                doc.paths.paths.insert(path, item);
            }
        }
    }
    add_schemas(doc, schemas);
    router
}

fn add_schemas(doc: &mut utoipa::openapi::OpenApi, schemas: Vec<(String, RefOr<Schema>)>) {
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
}

/// `/a/{b}/{c}` → `/a/{b}/{*c}`.
fn catch_all_path(path: &str) -> String {
    match path.rfind('{') {
        Some(i) => format!("{}{{*{}", &path[..i], &path[i + 1..]),
        None => path.to_owned(),
    }
}

/// Applies `f` (a fallback, a layer) to the routes of `router`, keeping
/// their document.
pub fn map_router<S>(
    router: OpenApiRouter<S>,
    f: impl FnOnce(Router<S>) -> Router<S>,
) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let (routes, doc) = router.split_for_parts();
    let mut out = OpenApiRouter::from(f(routes));
    *out.get_openapi_mut() = doc;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_parameter_becomes_the_catch_all() {
        assert_eq!(catch_all_path("/uploads/{key}"), "/uploads/{*key}");
        assert_eq!(catch_all_path("/a/{b}/c/{d}"), "/a/{b}/c/{*d}");
        assert_eq!(catch_all_path("/plain"), "/plain");
    }
}
