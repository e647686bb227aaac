//! Tokens of existing issuers: each listener reads the user id, the profile
//! and `exp` by its dialect's claims (`dialects.<name>.auth`, else
//! `[auth]`), on its sockets and on the REST calls it serves; a token with
//! none of the claims is refused naming them.

use confab::config::{Config, DialectAuthConfig};
use serde_json::{Value, json};

use crate::helpers::http::Reply;
use crate::helpers::{Auth, TestServer, now_secs, socket_client, spawn_server_with};

const SECRET: &str = "an-existing-backends-hs256-secret-of-32-bytes";

/// An HS256 token with `claims`, signed with the server's secret.
fn signed(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign")
}

fn claims(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|c| c.to_string()).collect())
}

/// A server whose secret is the issuers' and whose dialects map the claims
/// of the seed apps' backends; `[auth]` keeps the defaults (`sub`, exp
/// required), so the Dozaar listener reads confab's own tokens only.
async fn spawn() -> TestServer {
    spawn_server_with(|c: &mut Config| {
        c.auth.jwt_secret = Some(SECRET.into());
        // The Voxora backend: {userId, email, activeOrganizationId, type}.
        c.dialects.voxora.auth = DialectAuthConfig {
            user_id_claims: claims(&["sub", "userId"]),
            ..DialectAuthConfig::INHERIT
        };
        // A V Chat-style backend: {_id} without exp.
        c.dialects.vchat.auth = DialectAuthConfig {
            user_id_claims: claims(&["sub", "_id"]),
            name_claims: claims(&["fullName", "name"]),
            require_exp: Some(false),
            ..DialectAuthConfig::INHERIT
        };
        // An Express backend: {id, name, email}, without exp.
        c.dialects.jobspare.auth = DialectAuthConfig {
            user_id_claims: claims(&["id"]),
            require_exp: Some(false),
            ..DialectAuthConfig::INHERIT
        };
        // A .NET backend: {UserId} (a GUID).
        c.dialects.syarah.auth = DialectAuthConfig {
            user_id_claims: claims(&["UserId"]),
            ..DialectAuthConfig::INHERIT
        };
    })
    .await
}

async fn get(base: &str, path: &str, authorization: &str) -> Reply {
    Reply::of(
        reqwest::Client::new()
            .get(format!("{base}{path}"))
            .header("authorization", authorization),
    )
    .await
}

#[tokio::test]
async fn a_voxora_token_works_on_the_voxora_listener_and_is_refused_clearly_elsewhere() {
    let server = spawn().await;
    let voxora = server.voxora_url.clone().expect("voxora listens");
    let token = signed(json!({
        "userId": "665f1c2e9b1d8a0012345678", "email": "agent@example.com",
        "activeOrganizationId": "665f1c2e9b1d8a0012340000", "type": "access",
        "iat": now_secs(), "exp": now_secs() + 900
    }));

    let agent = socket_client(&voxora, "/", Auth::Token(&token)).await;
    assert!(agent.refused.is_none(), "{:?}", agent.refused);
    let me = get(&voxora, "/api/me", &format!("Bearer {token}")).await;
    let me = me.assert_status(200);
    assert_eq!(me["id"], "665f1c2e9b1d8a0012345678");
    assert_eq!(me["email"], "agent@example.com");

    // The Dozaar listener reads `sub` only: refused, naming it.
    let refused = socket_client(&server.url, "/chat", Auth::Token(&token)).await;
    let message = refused.refused.expect("refused on dozaar");
    assert!(message.contains("none of the claims `sub`"), "{message}");
    let reply = get(&server.url, "/api/me", &format!("Bearer {token}")).await;
    let message = reply.assert_error(401, "UNAUTHENTICATED");
    assert!(message.contains("none of the claims `sub`"), "{message}");

    // confab's own tokens still work on the Voxora listener (`sub` is listed).
    let own = server.token_for("alice");
    let alice = socket_client(&voxora, "/", Auth::Token(&own)).await;
    assert!(alice.refused.is_none(), "{:?}", alice.refused);
}

#[tokio::test]
async fn a_vchat_token_without_exp_works_on_the_vchat_listener_only() {
    let server = spawn().await;
    let vchat = server.vchat_url.clone().expect("vchat listens");
    let voxora = server.voxora_url.clone().expect("voxora listens");
    let token = signed(json!({"_id": "61cd92223bd8731be040e11e", "fullName": "Hatem"}));

    // The SDK sends the raw token in `Authorization`.
    let rooms = socket_client(&vchat, "/", Auth::RawHeader(&token)).await;
    assert!(rooms.refused.is_none(), "{:?}", rooms.refused);
    let me = get(&vchat, "/api/v1/user/me", &token).await;
    let me = me.assert_status(200);
    assert_eq!(me["data"]["_id"], "61cd92223bd8731be040e11e");
    assert_eq!(me["data"]["fullName"], "Hatem");

    // Where exp is required, the same token is refused for that, in the
    // V Chat envelope on the V Chat routes.
    let reply = get(&voxora, "/api/v1/user/me", &token).await;
    assert_eq!(reply.status.as_u16(), 401, "{}", reply.body);
    assert_eq!(reply.body["success"], false);
    let text = reply.body["error"].as_str().unwrap_or_default();
    assert!(text.contains("`exp`"), "{text}");

    // With an exp, it is refused on Voxora for having none of its claims.
    let with_exp = signed(json!({"_id": "61cd92223bd8731be040e11e", "exp": now_secs() + 60}));
    let refused = socket_client(&voxora, "/", Auth::Token(&with_exp)).await;
    let message = refused.refused.expect("refused on voxora");
    assert!(
        message.contains("none of the claims `sub`, `userId`"),
        "{message}"
    );
    let reply = get(&voxora, "/api/v1/user/me", &with_exp).await;
    assert_eq!(reply.status.as_u16(), 401, "{}", reply.body);
    let text = reply.body["error"].as_str().unwrap_or_default();
    assert!(text.contains("`sub`, `userId`"), "{text}");
}

#[tokio::test]
async fn an_express_token_with_a_numeric_id_and_no_exp_works_on_jobspare() {
    let server = spawn().await;
    let jobspare = server.jobspare_url.clone().expect("jobspare listens");
    let token =
        signed(json!({"id": 1234, "name": "Ada", "email": "ada@example.com", "iat": now_secs()}));

    let mut ada = socket_client(&jobspare, "/", Auth::Token(&token)).await;
    assert!(ada.refused.is_none(), "{:?}", ada.refused);
    let hello = ada.expect("authenticated").await;
    assert_eq!(hello["userId"], "1234");
    let me = get(&jobspare, "/api/me", &format!("Bearer {token}")).await;
    let me = me.assert_status(200);
    assert_eq!(me["id"], "1234");
    assert_eq!(me["displayName"], "Ada");

    // An id that is an object (a serialised ObjectId) is refused, naming it.
    let bad = signed(json!({"id": {"$oid": "507f1f77bcf86cd799439011"}}));
    let refused = socket_client(&jobspare, "/", Auth::Token(&bad)).await;
    let message = refused.refused.expect("refused");
    assert!(
        message.contains("token claim `id` is not a valid user id: an object"),
        "{message}"
    );
    let reply = get(&jobspare, "/api/me", &format!("Bearer {bad}")).await;
    let message = reply.assert_error(401, "UNAUTHENTICATED");
    assert!(message.contains("`id`"), "{message}");
}

#[tokio::test]
async fn a_syarah_connection_is_matched_against_the_mapped_user_id() {
    let server = spawn().await;
    let syarah = server.syarah_url.clone().expect("syarah listens");
    let guid = "550e8400-e29b-41d4-a716-446655440000";
    let token = signed(json!({"UserId": guid, "exp": now_secs() + 600}));
    let url = format!("{syarah}/?userId={guid}");

    let ok = socket_client(&url, "/", Auth::Token(&token)).await;
    assert!(ok.refused.is_none(), "{:?}", ok.refused);
    let other = format!("{syarah}/?userId=someone-else");
    let refused = socket_client(&other, "/", Auth::Token(&token)).await;
    let message = refused.refused.expect("refused");
    assert!(message.contains("does not match"), "{message}");
    // A token without the claim: refused, naming it.
    let sub_only = signed(json!({"sub": guid, "exp": now_secs() + 600}));
    let refused = socket_client(&url, "/", Auth::Token(&sub_only)).await;
    let message = refused.refused.expect("refused");
    assert!(message.contains("none of the claims `UserId`"), "{message}");
}

#[tokio::test]
async fn a_handshake_without_a_token_is_told_every_place_its_dialect_reads_one() {
    let server = spawn().await;
    let url = |u: &Option<String>| u.clone().expect("listens");
    // Every listener takes `?token=` from a Socket.IO v2 client, and the
    // header and `auth.token` from the others.
    let common = [
        "missing token: send it as",
        "`Authorization: Bearer <jwt>`",
        "`auth.token`",
        "`?token=<jwt>`",
        "Socket.IO v2",
    ];
    for (dialect, base, namespace) in [
        ("dozaar", server.url.clone(), "/chat"),
        ("jobspare", url(&server.jobspare_url), "/"),
        ("voxora", url(&server.voxora_url), "/"),
        ("voxora", url(&server.voxora_url), "/department"),
        ("vchat", url(&server.vchat_url), "/"),
        ("vchat", url(&server.vchat_url), "/message"),
    ] {
        let c = socket_client(&base, namespace, Auth::None).await;
        let refused = c.refused.clone().unwrap_or_else(|| "connected".into());
        for place in common {
            assert!(
                refused.contains(place),
                "{dialect}{namespace}: {place} in {refused}"
            );
        }
    }
    // Syarah connects on `userId` alone; without either it names both, and
    // its own token names.
    let syarah = url(&server.syarah_url);
    let c = socket_client(&syarah, "/", Auth::None).await;
    let refused = c.refused.clone().unwrap_or_else(|| "connected".into());
    for place in [
        "the userId query parameter is required, or a token: send it as",
        "`auth.accessToken`",
        "`?accessToken=<jwt>`",
        "`?token=`",
        "Socket.IO v2",
        "`Authorization: Bearer <jwt>`",
    ] {
        assert!(refused.contains(place), "syarah: {place} in {refused}");
    }
}
