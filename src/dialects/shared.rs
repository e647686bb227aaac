//! What several dialects share beyond the table: the names of the rooms the
//! runtime keeps (a user's, a socket's, a conversation's, everyone's),
//! reading a token or a query parameter out of a handshake (wherever a
//! Socket.IO v2, v3 or v4 client can put it), and the timestamp format most
//! seeds show.

use serde_json::Value;

use crate::core::UserId;

/// The room of every socket of one user, in each dialect's namespace.
pub fn user_room(user: &UserId) -> String {
    format!("u:{user}")
}

/// The room of every socket whose user is known (a token proved it), in
/// each dialect's namespace: presence goes there when everyone may see it.
pub const EVERYONE_ROOM: &str = "everyone";

/// The rooms a socket joins once its user is known: the user's own and
/// [`EVERYONE_ROOM`].
pub fn identified_rooms(user: &UserId) -> Vec<String> {
    vec![user_room(user), EVERYONE_ROOM.to_owned()]
}

/// The personal rooms of `users`, but for `except`.
pub fn user_rooms(users: &[UserId], except: Option<&UserId>) -> Vec<String> {
    users
        .iter()
        .filter(|u| Some(*u) != except)
        .map(user_room)
        .collect()
}

/// The room of one socket alone, by its runtime key (the key a domain
/// event names the socket by).
pub fn socket_room(socket_key: &str) -> String {
    format!("s:{socket_key}")
}

/// The room of the sockets that joined (are viewing) a conversation.
pub fn conversation_room(conversation_id: i64) -> String {
    format!("c:{conversation_id}")
}

/// The conversation whose room `room` is (see [`conversation_room`]).
pub fn room_conversation(room: &str) -> Option<i64> {
    room.strip_prefix("c:")?.parse().ok()
}

/// The token in an `Authorization` header, with or without `Bearer `.
pub fn authorization_header(parts: &http::request::Parts) -> Option<String> {
    let v = parts
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let token = match v.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ if v.eq_ignore_ascii_case("bearer") => "",
        _ => v,
    };
    (!token.is_empty()).then(|| token.to_owned())
}

/// Where [`header_auth_or_query_token`] looks, as a handshake without a
/// token is told.
pub const HEADER_AUTH_OR_QUERY: &str = "the header `Authorization: Bearer <jwt>` (or the bare \
     token), as `auth.token` (Socket.IO v3/v4: `io(url, { auth: { token } })`), or as \
     `?token=<jwt>` in the URL (Socket.IO v2: `io(url, { query: { token } })`)";

/// Where [`auth_header_or_query_token`] looks, as a handshake without a
/// token is told.
pub const AUTH_HEADER_OR_QUERY: &str = "`auth.token` (Socket.IO v3/v4: `io(url, { auth: { \
     token } })`), as the header `Authorization: Bearer <jwt>` (or the bare token), or as \
     `?token=<jwt>` in the URL (Socket.IO v2: `io(url, { query: { token } })`)";

/// The token in the `Authorization` header, else in `auth.token`, else in
/// the query's `token`.
pub fn header_auth_or_query_token(
    parts: &http::request::Parts,
    auth: Option<&Value>,
) -> Option<String> {
    authorization_header(parts)
        .or_else(|| auth_token(auth))
        .or_else(|| query_token(parts))
}

/// Where [`header_auth_query_or_session`] looks, as a handshake without a
/// token is told.
pub const HEADER_AUTH_QUERY_OR_SESSION: &str = "the header `Authorization: Bearer <jwt>` (or \
     the bare token), as `auth.token` (Socket.IO v3/v4: `io(url, { auth: { token } })`), as \
     `?token=<jwt>` in the URL (Socket.IO v2: `io(url, { query: { token } })`), or sign in \
     the browser (`POST /api/auth/session`: the session cookie)";

/// As [`header_auth_or_query_token`], then the web client's session cookie
/// (`crate::auth::session`), which counts only from the server's own
/// origin: a page of another site cannot open a socket as the user.
pub fn header_auth_query_or_session(
    parts: &http::request::Parts,
    auth: Option<&Value>,
) -> Option<String> {
    header_auth_or_query_token(parts, auth).or_else(|| {
        crate::auth::session::same_origin(&parts.headers)
            .then(|| crate::auth::session::cookie_token(&parts.headers))
            .flatten()
    })
}

/// The token in `auth.token`, else in the `Authorization` header, else in
/// the query's `token`.
pub fn auth_header_or_query_token(
    parts: &http::request::Parts,
    auth: Option<&Value>,
) -> Option<String> {
    auth_token(auth)
        .or_else(|| authorization_header(parts))
        .or_else(|| query_token(parts))
}

/// `token` of the handshake's auth object (`io(url, { auth: { token } })`).
/// A Socket.IO v2 client has no auth object: the query it gives a namespace
/// other than `/` (`io(url + '/chat', { query: { token } })`) arrives here
/// instead.
pub fn auth_token(auth: Option<&Value>) -> Option<String> {
    token_value(auth?.get("token"))
}

/// `?token=` of the handshake request: where a Socket.IO v2 client (which
/// has no auth object, and in a browser cannot set a WebSocket's headers)
/// puts its token (`io(url, { query: { token } })`).
pub fn query_token(parts: &http::request::Parts) -> Option<String> {
    bare_token(&query_param(parts, "token")?)
}

/// A token given as a JSON string (handshake auth object or event payload),
/// with or without `Bearer ` in front.
pub fn token_value(v: Option<&Value>) -> Option<String> {
    bare_token(v?.as_str()?)
}

/// `t` trimmed, without `Bearer ` in front; `None` if nothing is left.
fn bare_token(t: &str) -> Option<String> {
    let t = t.trim();
    let t = t
        .strip_prefix("Bearer ")
        .or_else(|| t.strip_prefix("bearer "))
        .unwrap_or(t)
        .trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A query parameter of the handshake request, percent-decoded.
pub fn query_param(parts: &http::request::Parts, name: &str) -> Option<String> {
    parts.uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v)).flatten()
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Milliseconds as an RFC 3339 UTC timestamp (`2024-01-02T03:04:05.678Z`).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn authorization_header_takes_bearer_or_raw() {
        let mk = |v: &str| {
            let (parts, _) = http::Request::builder()
                .header("authorization", v)
                .body(())
                .unwrap()
                .into_parts();
            authorization_header(&parts)
        };
        assert_eq!(mk("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(mk("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(mk("abc").as_deref(), Some("abc"));
        assert_eq!(mk("Bearer ").as_deref(), None);
    }

    #[test]
    fn the_query_token_is_bare_and_percent_decoded() {
        let mk = |uri: &str| {
            let (parts, _) = http::Request::builder()
                .uri(uri)
                .body(())
                .unwrap()
                .into_parts();
            query_token(&parts)
        };
        assert_eq!(
            mk("/socket.io/?EIO=3&token=a.b.c").as_deref(),
            Some("a.b.c")
        );
        assert_eq!(mk("/socket.io/?token=Bearer%20abc").as_deref(), Some("abc"));
        assert_eq!(mk("/socket.io/?token=Bearer+abc").as_deref(), Some("abc"));
        assert_eq!(mk("/socket.io/?token=%20"), None);
        assert_eq!(mk("/socket.io/?access_token=x"), None);
        assert_eq!(mk("/socket.io/"), None);
    }

    #[test]
    fn the_combined_readers_look_in_their_order() {
        let (parts, _) = http::Request::builder()
            .uri("/socket.io/?EIO=3&transport=websocket&token=q")
            .header("authorization", "Bearer h")
            .body(())
            .unwrap()
            .into_parts();
        let (query_only, _) = http::Request::builder()
            .uri("/socket.io/?EIO=3&token=q")
            .body(())
            .unwrap()
            .into_parts();
        let auth = serde_json::json!({ "token": "a" });
        assert_eq!(
            header_auth_or_query_token(&parts, Some(&auth)).as_deref(),
            Some("h")
        );
        assert_eq!(
            auth_header_or_query_token(&parts, Some(&auth)).as_deref(),
            Some("a")
        );
        assert_eq!(
            auth_header_or_query_token(&parts, None).as_deref(),
            Some("h")
        );
        for read in [header_auth_or_query_token, auth_header_or_query_token] {
            assert_eq!(read(&query_only, None).as_deref(), Some("q"));
            assert_eq!(
                read(&query_only, Some(&serde_json::json!({}))).as_deref(),
                Some("q")
            );
        }
    }

    #[test]
    fn query_params_are_percent_decoded() {
        let (parts, _) = http::Request::builder()
            .uri("/socket.io/?EIO=4&userId=a%40b+c&bad=%zz")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(query_param(&parts, "userId").as_deref(), Some("a@b c"));
        assert_eq!(query_param(&parts, "bad"), None);
        assert_eq!(query_param(&parts, "missing"), None);
    }
}
