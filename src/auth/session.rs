//! The web client's session: a confab JWT in an `HttpOnly` cookie, so that
//! no script of the page (nor one injected through a message) can read it.
//! The REST API ([`crate::http::auth`]) and the Dozaar handshake read it
//! from here; the cookie is set by `POST /api/auth/session`.
//!
//! Decisions:
//! - The cookie is `confab_session`, `HttpOnly; SameSite=Strict; Path=/`,
//!   `Secure` when the request came over https (`X-Forwarded-Proto: https`
//!   from a reverse proxy). SameSite=Strict keeps other sites' pages from
//!   sending it; the request checks below are a second fence.
//! - A cookie counts only from the page's own origin: a request that
//!   carries an `Origin` must name the host it was sent to (`Host`), and a
//!   cookie-authenticated unsafe HTTP method must also carry
//!   `X-Confab-Csrf: 1`, a header no other site's page can add without a
//!   CORS preflight that confab does not grant.

use http::HeaderMap;
use http::header::{COOKIE, HOST, ORIGIN};

/// The name of the session cookie.
pub const COOKIE_NAME: &str = "confab_session";

/// The header (and its value) a cookie-authenticated unsafe request must
/// carry.
pub const CSRF_HEADER: &str = "x-confab-csrf";

/// The session cookie's token, if the request carries one.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            let value = value.trim().trim_matches('"');
            (name.trim() == COOKIE_NAME && !value.is_empty()).then(|| value.to_owned())
        })
}

/// Whether the request's `Origin`, if it has one, is the origin it was sent
/// to: `scheme://host[:port]` whose `host[:port]` is the `Host` header. A
/// request without `Origin` (a same-origin GET, a non-browser client)
/// passes; `Origin: null` does not.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (
        origin.to_str(),
        headers.get(HOST).and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host.trim()))
}

/// Whether a cookie-authenticated unsafe request may go on: the CSRF
/// header is `1` and the origin is the server's own.
pub fn csrf_ok(headers: &HeaderMap) -> bool {
    headers
        .get(CSRF_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1")
        && same_origin(headers)
}

/// Whether the request reached confab over https (directly, or as a reverse
/// proxy says with `X-Forwarded-Proto` or `Forwarded: proto=https`).
pub fn over_https(headers: &HeaderMap, scheme: Option<&str>) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get("forwarded")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split([';', ','])
                .any(|kv| kv.trim().eq_ignore_ascii_case("proto=https"))
        });
    forwarded_proto || forwarded || scheme.is_some_and(|s| s.eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value that keeps `token` for `max_age_secs`.
pub fn set_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; confab_session=abc.def.ghi; b=2")]);
        assert_eq!(cookie_token(&h).as_deref(), Some("abc.def.ghi"));
        let h = headers(&[("cookie", "a=1"), ("cookie", "confab_session=x")]);
        assert_eq!(cookie_token(&h).as_deref(), Some("x"));
        assert_eq!(
            cookie_token(&headers(&[("cookie", "confab_session=")])),
            None
        );
        assert_eq!(
            cookie_token(&headers(&[("cookie", "xconfab_session=1")])),
            None
        );
        assert_eq!(cookie_token(&HeaderMap::new()), None);
    }

    #[test]
    fn only_the_servers_own_origin_is_same_origin() {
        assert!(same_origin(&headers(&[("host", "localhost:3001")])));
        assert!(same_origin(&headers(&[
            ("host", "localhost:3001"),
            ("origin", "http://localhost:3001")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "chat.example.com"),
            ("origin", "https://chat.example.com")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "localhost:3001"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "localhost:3001"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[(
            "origin",
            "http://localhost:3001"
        )])));
    }

    #[test]
    fn an_unsafe_cookie_request_needs_the_csrf_header_and_its_own_origin() {
        assert!(csrf_ok(&headers(&[("x-confab-csrf", "1"), ("host", "h")])));
        assert!(!csrf_ok(&headers(&[("host", "h")])));
        assert!(!csrf_ok(&headers(&[
            ("x-confab-csrf", "yes"),
            ("host", "h")
        ])));
        assert!(!csrf_ok(&headers(&[
            ("x-confab-csrf", "1"),
            ("host", "h"),
            ("origin", "http://other")
        ])));
    }

    #[test]
    fn the_cookie_is_secure_only_over_https() {
        assert!(over_https(
            &headers(&[("x-forwarded-proto", "https")]),
            None
        ));
        assert!(over_https(
            &headers(&[("forwarded", "for=1.2.3.4;proto=https")]),
            None
        ));
        assert!(!over_https(
            &headers(&[("x-forwarded-proto", "http")]),
            None
        ));
        assert!(over_https(&HeaderMap::new(), Some("https")));
        let c = set_cookie("t", 60, true);
        assert_eq!(
            c,
            "confab_session=t; HttpOnly; SameSite=Strict; Path=/; Max-Age=60; Secure"
        );
        assert!(!clear_cookie(false).contains("Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }
}
