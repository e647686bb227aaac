//! The browser side confab serves: every file of `web/` (embedded in the
//! binary by `build.rs`) by its path, `index.html` standing for its folder:
//! `web/index.html` is `/` (the chat client), `web/admin/index.html` is
//! `/admin` and `/admin/`, `web/app/main.js` is `/app/main.js`. Served on
//! the Dozaar listener when `web.enabled` (the client speaks Dozaar), as
//! the router's fallback: the API, `/uploads`, the probes and Socket.IO
//! come first.
//!
//! Every answer carries a strict Content-Security-Policy (scripts, styles,
//! fonts and connections of this origin only; images also `blob:` and
//! `data:` for previews; no inline script or style, no framing), plus
//! `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.
//! Files are answered `Cache-Control: no-cache` with an `ETag`, so a new
//! binary's pages are picked up at once and unchanged ones are 304.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_files.rs"));
}

/// The Content-Security-Policy of every page and file.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob: data:; connect-src 'self'; font-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `router` with the web files as its fallback.
pub fn serve(router: Router) -> Router {
    router.fallback(handler)
}

/// The embedded file at `path` (under `web/`), if any.
fn file(path: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
}

/// The file a request path names: the file itself, else the folder's
/// `index.html`. Paths with `..`, `\` or empty segments name nothing.
fn lookup(path: &str) -> Option<(&'static str, &'static [u8])> {
    let rel = path.strip_prefix('/')?;
    if rel.split('/').any(|seg| seg == ".." || seg == ".") || rel.contains('\\') {
        return None;
    }
    let trimmed = rel.trim_end_matches('/');
    if trimmed.contains("//") {
        return None;
    }
    let candidates = if trimmed.is_empty() {
        vec!["index.html".to_owned()]
    } else if rel.ends_with('/') {
        vec![format!("{trimmed}/index.html")]
    } else {
        vec![trimmed.to_owned(), format!("{trimmed}/index.html")]
    };
    candidates.into_iter().find_map(|c| {
        embedded::FILES
            .iter()
            .find(|(p, _)| *p == c)
            .map(|(p, bytes)| (*p, *bytes))
    })
}

/// The media type of a file, by its extension.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A weak validator of a file's bytes (FNV-1a, 64 bits).
fn etag(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}-{}\"", bytes.len())
}

/// The headers every answer of this module carries.
fn secure(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

async fn handler(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let mut response = answer(&method, &uri, &headers);
    secure(&mut response);
    response
}

fn answer(method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "method not allowed\n",
        )
            .into_response();
    }
    let Some((path, bytes)) = lookup(uri.path()) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found\n",
        )
            .into_response();
    };
    let tag = etag(bytes);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let common = [
        (header::ETAG, tag),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    (
        StatusCode::OK,
        common,
        [(header::CONTENT_TYPE, content_type(path))],
        body,
    )
        .into_response()
}

/// Whether the client's start page is embedded (a build from a checkout
/// without `web/` has none).
pub fn has_client() -> bool {
    file("index.html").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_and_its_socket_io_bundle_are_embedded() {
        assert!(has_client());
        assert!(file("vendor/socket.io.min.js").is_some());
        assert!(embedded::FILES.iter().all(|(p, _)| !p.starts_with('.')));
    }

    #[test]
    fn a_folder_is_served_by_its_index_and_a_file_by_its_path() {
        assert_eq!(lookup("/").map(|f| f.0), Some("index.html"));
        assert_eq!(lookup("/index.html").map(|f| f.0), Some("index.html"));
        assert_eq!(lookup("/app/main.js").map(|f| f.0), Some("app/main.js"));
        assert_eq!(lookup("/app/nothing.js"), None);
    }

    #[test]
    fn paths_that_climb_out_of_web_name_nothing() {
        for p in [
            "/../Cargo.toml",
            "/app/../index.html",
            "/./index.html",
            "/app\\main.js",
            "//index.html",
            "index.html",
        ] {
            assert!(lookup(p).is_none(), "{p}");
        }
    }

    #[test]
    fn media_types_follow_the_extension() {
        assert_eq!(content_type("a/b.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[test]
    fn the_etag_changes_with_the_bytes() {
        assert_ne!(etag(b"a"), etag(b"b"));
        assert_eq!(etag(b"abc"), etag(b"abc"));
    }
}
