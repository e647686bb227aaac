//! A fake FCM on port 0: the OAuth token endpoint, which checks the service
//! account's signed assertion, and `messages:send`; it records what it was
//! sent and fails on demand.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::helpers::now_secs;

/// A 2048-bit RSA key made for these tests with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` (PKCS#8),
/// playing the service account's private key.
pub const TEST_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDGNpRrjJnK3vj1
gD8Hr8HMYchn+BgEcegw0Bv4JRZwIpd0N2fT5J58wQfVYucV2SZ+wtwRx398q/JG
WhV1PMMUt2S/05WFJ4CWjdv/hAkZnM+VcpOkIa4ZcthF8e4Bx26uAGfVCI5Edl1X
KwrMmcvITXj5k3Hs7MvvfSlvCQg9ujVaRgjPAqXZW5r57CfftRFAZv0e2A/dnFfE
Yzb1xbevdgQuOqn8AWF+OJDh4/4zaOdVKdGIrSi/ScG+RihSt0gCXNN+jKNlVcpA
xK3uL/PrwDQaqaMI+ncLPxfC9auMXWFIMW2KahkPaK0/weaiSnWjHuKB/G7iUmpW
3nmEhxDrAgMBAAECggEAFVpD2uImnyguAaRzJczVP8M455peW/w5WyjQGodER4gy
cJ6XXMhAGohg46fn5P6jmvw64N9w6GlNjC6gKSUGjvDCtbeBX/rFa3KUxI3gvRWb
dyoEpaXLL4qjqcVKMn7deXkptlVZnh5yJ7XHUAsxXL6bzacImtFXltEQ6Zk7fgqk
pmKVeKF8kVHuatx1Sn6wonXahRoLnp5zqBnlcTWKWQRxfQhof0Dr9/IHZNilIbMa
wJfb8rFEa7SqHzfW+0ljYxR3sw5pcCMjBBDZM958p1CNzvL7mtPlC8d+5KH4mzoQ
VOMZEfrNrN1GpBm23S8Giw6vlgUMFQdUBJIQbFcggQKBgQDsH0vWtSDp2LyXReZg
j/topwBYp6km6jsnDx2Lr86fs+FuU+AEj0gETJckWWRExmxQc8Zq/oVg34O8rX0P
WevqN3Lu5R1PFivQmSI/iisGVo6pGuA6Rp/yyMkDAF4lZZhVQXrqZ/vfwoytygwF
vwgbNiF+gKFtBPyAPXmE7XvlEQKBgQDW5kzgCRg6Fm6UbUhY+NhwbRKglljNFBWK
ZZZm2H65d6K1ay7JspVG02zxSbGxN+R+9Zl7VVDcJRCBXwmPyxe08jm16bY8uEyG
qkAL4X4FA6wQKousbaq6zrKcqQh3mo/VF9lAYDkmmg9cYdOmVJ0o5AZutn2Yoi39
ZL2vdmzmOwKBgQCBMEpdKfLdHzFoDt2SPZTPWHfvCaSZ3xQINdPzhnglltSjeY6a
0A4WFBWp1KLwoiPHDOElzyYIr6IzTDSdfpR+LGJc5MxZZgcI9Y/wddc+e4NIcKT4
HYYL3uFkHAJmsaRcGRx4PfZoIdi4iVB0oGV+BerjfNtVe6HvRDNFkG32EQKBgCRZ
LdWTFDr3AlsupNcPuCRD/quU4o5FgGM5TZg1tDGQr7+50l8hSqiBKGMjkN+l0Ys7
5Wr8AkJKLqGDPq3Ir0jW07YWQtHAZok8kLqxuEwG0/qkB53xqrgQMBvZZ2o7hWqI
ryF5ZRFHa6O3lEIE+9QnxYLCcTn47Ih4mrDr+f1zAoGBAOgHjyierMPn20DY5QyX
CyFfOC1rncXlS3hVngh+8x8HM7XCKUP9CeibZIkSP4KI32SO95CbaL1aitke+aUp
E69XQhM1MfDgBrRbN2F/S3anKdrrzpXznF0cblL8s9Q7Jjh5MWUik2p+jjz7hhkp
w4+7tMq7u3TcJGx/Dj3A/Dk0
-----END PRIVATE KEY-----
";

/// Its public half, with which the fake token endpoint checks assertions.
const TEST_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxjaUa4yZyt749YA/B6/B
zGHIZ/gYBHHoMNAb+CUWcCKXdDdn0+SefMEH1WLnFdkmfsLcEcd/fKvyRloVdTzD
FLdkv9OVhSeAlo3b/4QJGZzPlXKTpCGuGXLYRfHuAcdurgBn1QiORHZdVysKzJnL
yE14+ZNx7OzL730pbwkIPbo1WkYIzwKl2Vua+ewn37URQGb9HtgP3ZxXxGM29cW3
r3YELjqp/AFhfjiQ4eP+M2jnVSnRiK0ov0nBvkYoUrdIAlzTfoyjZVXKQMSt7i/z
68A0GqmjCPp3Cz8XwvWrjF1hSDFtimoZD2itP8Hmokp1ox7igfxu4lJqVt55hIcQ
6wIDAQAB
-----END PUBLIC KEY-----
";

pub const CLIENT_EMAIL: &str = "confab-push@confab-test.iam.gserviceaccount.com";
pub const PROJECT_ID: &str = "confab-test";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The fake's routes: `/token` and `/v1/projects/{project}/messages:send`.
pub fn router(fake: Arc<FakeFcm>) -> Router {
    Router::new()
        .route("/token", post(token))
        .route("/v1/projects/{project}/messages:send", post(send))
        .with_state(fake)
}

/// One `messages:send` request as FCM received it.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub bearer: String,
    pub token: String,
    pub message: Value,
}

#[derive(Default)]
pub struct FakeFcm {
    /// Its own token URI, the audience an assertion must name.
    pub token_uri: Mutex<String>,
    pub token_requests: AtomicUsize,
    /// Why assertions were refused (none in a passing test).
    pub bad_assertions: Mutex<Vec<String>>,
    issued: AtomicUsize,
    /// Every `messages:send` request, answered 200 or not.
    pub attempts: Mutex<Vec<SendRequest>>,
    /// The requests answered 200.
    pub delivered: Mutex<Vec<SendRequest>>,
    /// Device tokens answered 404 UNREGISTERED.
    pub unregistered: Mutex<HashSet<String>>,
    /// This many next sends are answered 503.
    pub fail_next: AtomicUsize,
    /// Refuse the first access token issued (as if revoked), once.
    pub refuse_first_token: AtomicBool,
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: String,
    scope: String,
    aud: String,
    iat: u64,
    exp: u64,
}

impl FakeFcm {
    fn check_assertion(&self, form: &HashMap<String, String>) -> Result<(), String> {
        if form.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return Err(format!("grant_type {:?}", form.get("grant_type")));
        }
        let assertion = form.get("assertion").ok_or("no assertion")?;
        let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
        if header.alg != Algorithm::RS256 {
            return Err(format!("alg {:?}", header.alg));
        }
        let key =
            DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()).map_err(|e| e.to_string())?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[self.token_uri.lock().clone()]);
        v.set_issuer(&[CLIENT_EMAIL]);
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Claims>(assertion, &key, &v)
            .map_err(|e| e.to_string())?
            .claims;
        let now = now_secs();
        if claims.scope != SCOPE {
            return Err(format!("scope {}", claims.scope));
        }
        if claims.iss != CLIENT_EMAIL || claims.aud != *self.token_uri.lock() {
            return Err("iss/aud".into());
        }
        if claims.iat.abs_diff(now) > 60 || claims.exp != claims.iat + 3600 {
            return Err(format!("iat {} exp {} now {now}", claims.iat, claims.exp));
        }
        Ok(())
    }

    fn issued_token(&self, bearer: &str) -> bool {
        let n = self.issued.load(Ordering::SeqCst);
        (1..=n).any(|i| bearer == format!("access-{i}"))
    }
}

async fn token(
    State(fake): State<Arc<FakeFcm>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    fake.token_requests.fetch_add(1, Ordering::SeqCst);
    if let Err(why) = fake.check_assertion(&form) {
        fake.bad_assertions.lock().push(why);
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "bad assertion"})),
        )
            .into_response();
    }
    let n = fake.issued.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({"access_token": format!("access-{n}"), "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

async fn send(
    State(fake): State<Arc<FakeFcm>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let request = SendRequest {
        bearer: bearer.clone(),
        token: body["message"]["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        message: body["message"].clone(),
    };
    fake.attempts.lock().push(request.clone());
    let unauthenticated = || {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})),
        )
            .into_response()
    };
    if project != PROJECT_ID || !fake.issued_token(&bearer) {
        return unauthenticated();
    }
    if bearer == "access-1" && fake.refuse_first_token.load(Ordering::SeqCst) {
        return unauthenticated();
    }
    if fake
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            Json(json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}})),
        )
            .into_response();
    }
    if fake.unregistered.lock().contains(&request.token) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})),
        )
            .into_response();
    }
    let n = {
        let mut delivered = fake.delivered.lock();
        delivered.push(request);
        delivered.len()
    };
    Json(json!({"name": format!("projects/{PROJECT_ID}/messages/{n}")})).into_response()
}
