//! Tests of verifying, issuing and loading keys, with test-only key pairs.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::issue::now_secs;
use super::*;
use crate::auth::AuthError;

// Test-only key pairs, generated with openssl for these tests and used nowhere else.
const RSA_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIIEuwIBADANBgkqhkiG9w0BAQEFAASCBKUwggShAgEAAoIBAQC9GEMhbjmRed4Y
lXVhXfshob/3+Qx9zNL5K5xWY3I8Rk/mJTNOSB5ru1zqZFrjnVt5Qfp4hbuJMYhQ
C5rjSozVBW1rn27boX+aU443ViO/0pECn/yaYe4ykGKi0l/orw44Ps3z0JXh7Fh5
/f9JorPDTrRb5vuIw2I/SV1NZUMcgjDxeC5Iz1oodyAC/Z4j7+5jePwtVWTEVhW/
xsStVwQ9PKRawC/r4Vl2C/i8LMnviAfcWaXtIZJwatSxxBml13fKCQq34i/ZQmBD
kAsU/4pfsUZYFg77wzU1I68xha4276MNajqGFj9ZUhvIfJvFr+3hJRefxvhc51am
1ifJOlrBAgMBAAECgf9c4k4XXc1paDNwX/oImeGB47IoXG2GXdZEDuf8h1zVvrQA
mMVa7pIC2UYK3MDIjcMhDQe7q/UyruIGb6zlePk0qjXVZ7tMp0fGxsRU6jslPol8
gJnUO8aFj+bjk/MImPSjLDZ+TTdSgoXzZpC/2uvyQ/bULeHgjBj2fVMXcWZF2dUb
yXwtlRW2/YJe0RYIUvPlCJpUjSaZ1hJ0GVTSSivwEoee4kR+JR2LjYPxnW+nTIxu
pXC06alZJq1YWByPjoQgIa0okhNF83cbh/j/NQqWS4w+u1/KCBQZqdkKaY6yRu22
92igfl62YrN5ai/6MrvovPkVLc3WAdLn1SEsTpECgYEA6lqwWkHhzU4oaKT48MCV
05A1KupmrtHcKw5nEio5WW1541n2joIhnws4Fkfu9zfKopIGwHdh/7c0F/37PQTv
IG0tIo8AMJZCN5r5migh3XRaxCYnQVD3XaOGxkO/WyqBtTO9u13g9oWpyaHJZsbp
iTN6i/8Uxf/b3k4B/aknKQkCgYEAzo9pe4qblWio2kJhZOpn4FwzBvpZHnrmeqTP
mDWCc+Qhe+cB15zSVskmNe2dPY8N6CCz2xJLSvCPwEXPDrLjGGQxTd4S45ZqCwU5
JARrl/Zb1RJRS9fGg1MHYqkL2bKu0d/+sdyS79nA7Sf9sWXQpp946J7cKSwPuat3
+UFJKfkCgYEA0rptbRtkoSmwaDg/qKxjjPNU+5v+bSBDq2ut/sV9AA7S1T5l18rn
1I1QB6jzFdVTHk/URmiS9E+WRiSZL0sqgqvpM/QGJapXLIzr+FQx72Ha5Bmynqbh
Z4/NdqYggSd9rqQx7TMDQGj8PVR/Ny2RfU+O2CesVEY3PHREkgTyM5ECgYAkPh+I
8LIJzhpKaXlDRqnBQQwm/kgiw/eqrz5Je6IPCYkif07gcQCq/5I3xiBfy7jp8Mr9
9kDFvl3Ko7UH5DVac0H/Yqa3zg1/L4RuIGRsfmpwgU1IXGzVX/0cv4J3yRVJd97t
gEE72l4yfmDR/oZUpgiF8FG626NKtZ5QWrcmqQKBgGTAT7mzy61vraLcXnLSwprB
8oCJhpRs1ymlchUMde7YP/5DuLOrN9/l4If+m+SASH4PEyWAkKSPFSlpRXZ0xmnW
kP/ZwfgrS8FNfv2EWMWctZFjh7KoHrM6mvLQNtK6W2q3A89shaHB90+Yjcl+4AzN
pSMX2naak1wjfcg229Ny
-----END PRIVATE KEY-----
";
const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvRhDIW45kXneGJV1YV37
IaG/9/kMfczS+SucVmNyPEZP5iUzTkgea7tc6mRa451beUH6eIW7iTGIUAua40qM
1QVta59u26F/mlOON1Yjv9KRAp/8mmHuMpBiotJf6K8OOD7N89CV4exYef3/SaKz
w060W+b7iMNiP0ldTWVDHIIw8XguSM9aKHcgAv2eI+/uY3j8LVVkxFYVv8bErVcE
PTykWsAv6+FZdgv4vCzJ74gH3Fml7SGScGrUscQZpdd3ygkKt+Iv2UJgQ5ALFP+K
X7FGWBYO+8M1NSOvMYWuNu+jDWo6hhY/WVIbyHybxa/t4SUXn8b4XOdWptYnyTpa
wQIDAQAB
-----END PUBLIC KEY-----
";
const EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgN2uQc2g1FoLH/md9
aI7fN4Jm/FS5O8lzgDw8LxEcad2hRANCAAQMDx4jQuh6ZOwXRfP5+623mZqa82OH
yguQwhUHOQZKYYd40IHhoP4z9q7kJPInLa4W9RJ/OxbVUA8P4ZUHQJ+A
-----END PRIVATE KEY-----
";
const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDA8eI0LoemTsF0Xz+futt5mamvNj
h8oLkMIVBzkGSmGHeNCB4aD+M/au5CTyJy2uFvUSfzsW1VAPD+GVB0CfgA==
-----END PUBLIC KEY-----
";
const EC_P384_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAETa/VVtE0UYM1clXXbrVJaq9fZotEkJie
DMnnvGHstmVcTnNZXhXkEizT3GfNtO0EbIHDaixqKMMeBm4T3X4tWr744M0qVUVF
OcLA8mID4KxBwcsqDrPuGU7SZ3kv85XY
-----END PUBLIC KEY-----
";

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn auth() -> AuthConfig {
    AuthConfig::default()
}

fn keys() -> JwtKeys {
    JwtKeys::from_secret(SECRET, &auth())
}

fn sign(alg: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).expect("test token signs")
}

fn hs(claims: &Value) -> String {
    sign(Algorithm::HS256, &EncodingKey::from_secret(SECRET), claims)
}

fn now() -> u64 {
    now_secs()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[test]
fn an_issued_token_verifies_and_carries_the_name() {
    let k = keys();
    let token = k
        .issue("user-1", Some("Ada"), Duration::from_secs(3600))
        .expect("issue");
    let id = k.verify(&token).expect("verify");
    assert_eq!(id.user_id, "user-1");
    assert_eq!(id.name.as_deref(), Some("Ada"));
    assert_eq!(id.avatar_url, None);
    assert_eq!(id.email, None);
    let iat = id.issued_at.expect("iat");
    assert!(iat.abs_diff(now()) <= 2, "{iat}");
}

#[test]
fn iat_is_read_whole_or_fractional_and_may_be_missing() {
    let exp = now() + 60;
    let t = hs(&json!({"sub": "u", "exp": exp, "iat": 1000.7}));
    assert_eq!(keys().verify(&t).expect("verify").issued_at, Some(1000));
    let t = hs(&json!({"sub": "u", "exp": exp}));
    assert_eq!(keys().verify(&t).expect("verify").issued_at, None);
    let t = hs(&json!({"sub": "u", "exp": exp, "iat": "yesterday"}));
    assert_eq!(keys().verify(&t).expect("verify").issued_at, None);
}

#[test]
fn issue_refuses_an_invalid_user_id() {
    let err = keys().issue("bad id", None, Duration::from_secs(60));
    assert!(matches!(err, Err(AuthError::InvalidSubject)));
}

#[test]
fn bearer_prefix_and_whitespace_are_accepted() {
    let k = keys();
    let token = k.issue("u", None, Duration::from_secs(60)).expect("issue");
    for form in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("  BEARER   {token}  "),
        format!("\t{token}\n"),
    ] {
        assert_eq!(k.verify(&form).expect("verify").user_id, "u", "{form}");
    }
}

#[test]
fn an_empty_token_is_missing() {
    assert!(matches!(keys().verify(""), Err(AuthError::MissingToken)));
    assert!(matches!(
        keys().verify("Bearer   "),
        Err(AuthError::MissingToken)
    ));
}

#[test]
fn an_expired_token_is_refused() {
    let t = hs(&json!({"sub": "u", "exp": now() - 3600}));
    assert!(matches!(keys().verify(&t), Err(AuthError::Expired)));
}

#[test]
fn expiry_within_the_leeway_is_accepted() {
    let t = hs(&json!({"sub": "u", "exp": now() - 5}));
    assert!(keys().verify(&t).is_ok());
    let strict = JwtKeys::from_secret(
        SECRET,
        &AuthConfig {
            leeway_secs: 0,
            ..auth()
        },
    );
    let t = hs(&json!({"sub": "u", "exp": now() - 5}));
    assert!(matches!(strict.verify(&t), Err(AuthError::Expired)));
}

#[test]
fn a_token_not_yet_valid_is_refused() {
    let t = hs(&json!({"sub": "u", "exp": now() + 7200, "nbf": now() + 3600}));
    assert!(matches!(keys().verify(&t), Err(AuthError::NotYetValid)));
}

#[test]
fn a_token_without_exp_or_with_a_string_exp_is_refused() {
    let t = hs(&json!({"sub": "u"}));
    assert!(matches!(keys().verify(&t), Err(AuthError::InvalidClaim(c)) if c == "exp"));
    let t = hs(&json!({"sub": "u", "exp": (now() + 3600).to_string()}));
    assert!(matches!(keys().verify(&t), Err(AuthError::InvalidClaim(c)) if c == "exp"));
    let t = hs(&json!({"sub": "u", "exp": now() + 3600, "nbf": "0"}));
    assert!(matches!(keys().verify(&t), Err(AuthError::InvalidClaim(c)) if c == "nbf"));
}

#[test]
fn a_token_signed_with_another_secret_is_refused() {
    let other = JwtKeys::from_secret(b"another secret, also 32 bytes long", &auth());
    let t = other
        .issue("u", None, Duration::from_secs(60))
        .expect("issue");
    assert!(matches!(
        keys().verify(&t),
        Err(AuthError::InvalidSignature)
    ));
}

#[test]
fn alg_none_is_refused() {
    let header = b64(&json!({"alg": "none", "typ": "JWT"}));
    let claims = b64(&json!({"sub": "u", "exp": now() + 3600}));
    for t in [
        format!("{header}.{claims}."),
        format!("{header}.{claims}.AAAA"),
    ] {
        assert!(matches!(
            keys().verify(&t),
            Err(AuthError::AlgorithmNotAccepted)
        ));
    }
}

#[test]
fn other_hmac_algorithms_are_refused() {
    let t = sign(
        Algorithm::HS512,
        &EncodingKey::from_secret(SECRET),
        &json!({"sub": "u", "exp": now() + 60}),
    );
    assert!(matches!(
        keys().verify(&t),
        Err(AuthError::AlgorithmNotAccepted)
    ));
}

#[test]
fn garbage_is_malformed() {
    for t in ["abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.sig"] {
        let r = keys().verify(t);
        assert!(matches!(r, Err(AuthError::Malformed)), "{t}: {r:?}");
    }
    let header = b64(&json!({"alg": "HS256"}));
    let t = format!("{header}.bm90IGpzb24.c2ln");
    assert!(keys().verify(&t).is_err());
    let long = "a".repeat(MAX_TOKEN_BYTES + 1);
    assert!(matches!(keys().verify(&long), Err(AuthError::Malformed)));
}

#[test]
fn a_bad_subject_is_refused() {
    for sub in [
        json!(""),
        json!("has space"),
        json!("é"),
        json!("x".repeat(129)),
        json!(-1),
    ] {
        let t = hs(&json!({"sub": sub, "exp": now() + 60}));
        assert!(
            matches!(keys().verify(&t), Err(AuthError::InvalidUserId { claim, .. }) if claim == "sub"),
            "{sub}"
        );
    }
    // jsonwebtoken itself chokes on a non-string `sub` object: refused either way.
    let t = hs(&json!({"sub": {"a": 1}, "exp": now() + 60}));
    assert!(keys().verify(&t).is_err());
    let t = hs(&json!({"exp": now() + 60}));
    assert!(matches!(keys().verify(&t), Err(AuthError::NoUserIdClaim(c)) if c == ["sub"]));
    let ok = "x".repeat(128);
    let t = hs(&json!({"sub": ok, "exp": now() + 60}));
    assert!(keys().verify(&t).is_ok());
    let t = hs(&json!({"sub": "a.b_c:d@e-F9", "exp": now() + 60}));
    assert!(keys().verify(&t).is_ok());
}

#[test]
fn a_numeric_subject_becomes_its_decimal_string() {
    let t = hs(&json!({"sub": 42, "exp": now() + 60}));
    assert_eq!(keys().verify(&t).expect("verify").user_id, "42");
}

#[test]
fn profile_claims_are_read_when_they_are_strings() {
    let t = hs(&json!({
        "sub": "u", "exp": now() + 60,
        "name": "Ada", "avatar": "https://x/a.png", "email": "ada@example.com"
    }));
    let id = keys().verify(&t).expect("verify");
    assert_eq!(id.name.as_deref(), Some("Ada"));
    assert_eq!(id.avatar_url.as_deref(), Some("https://x/a.png"));
    assert_eq!(id.email.as_deref(), Some("ada@example.com"));

    let t = hs(&json!({
        "sub": "u", "exp": now() + 60,
        "name": 5, "picture": "https://x/p.png", "avatar": "https://x/a.png", "email": ["x"]
    }));
    let id = keys().verify(&t).expect("verify");
    assert_eq!(id.name, None);
    assert_eq!(id.avatar_url.as_deref(), Some("https://x/p.png"));
    assert_eq!(id.email, None);
}

#[test]
fn issuer_and_audience_are_checked_when_configured() {
    let cfg = AuthConfig {
        issuer: Some("confab".into()),
        audience: Some("chat".into()),
        ..auth()
    };
    let k = JwtKeys::from_secret(SECRET, &cfg);
    let t = k.issue("u", None, Duration::from_secs(60)).expect("issue");
    assert!(k.verify(&t).is_ok());

    let exp = now() + 60;
    let t = hs(&json!({"sub": "u", "exp": exp, "iss": "other", "aud": "chat"}));
    assert!(matches!(k.verify(&t), Err(AuthError::IssuerNotAccepted)));
    let t = hs(&json!({"sub": "u", "exp": exp, "iss": "confab", "aud": "other"}));
    assert!(matches!(k.verify(&t), Err(AuthError::AudienceNotAccepted)));
    let t = hs(&json!({"sub": "u", "exp": exp, "iss": "confab", "aud": ["x", "chat"]}));
    assert!(k.verify(&t).is_ok());
    let t = hs(&json!({"sub": "u", "exp": exp, "aud": "chat"}));
    assert!(matches!(k.verify(&t), Err(AuthError::InvalidClaim(c)) if c == "iss"));
    let t = hs(&json!({"sub": "u", "exp": exp, "iss": "confab"}));
    assert!(matches!(k.verify(&t), Err(AuthError::InvalidClaim(c)) if c == "aud"));

    // Not configured: iss/aud are ignored.
    let t = hs(&json!({"sub": "u", "exp": exp, "iss": "other", "aud": "other"}));
    assert!(keys().verify(&t).is_ok());
}

#[test]
fn rs256_tokens_verify_with_a_configured_rsa_public_key() {
    let mut k = keys();
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa key");
    let t = sign(
        Algorithm::RS256,
        &rsa,
        &json!({"sub": "ext-7", "exp": now() + 60}),
    );
    // Without the key, RS256 is not accepted at all.
    assert!(matches!(k.verify(&t), Err(AuthError::AlgorithmNotAccepted)));
    k.add_public_key_pem("rsa.pub", RSA_PUBLIC.as_bytes())
        .expect("rsa public key");
    assert_eq!(k.verify(&t).expect("verify").user_id, "ext-7");

    // A tampered payload fails the signature.
    let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
    parts[1] = b64(&json!({"sub": "admin", "exp": now() + 60}));
    let forged = parts.join(".");
    assert!(matches!(
        k.verify(&forged),
        Err(AuthError::InvalidSignature)
    ));
}

#[test]
fn an_hs256_token_signed_with_the_rsa_public_key_is_refused() {
    // Classic algorithm confusion: HMAC keyed with the public key PEM.
    let mut k = keys();
    k.add_public_key_pem("rsa.pub", RSA_PUBLIC.as_bytes())
        .expect("rsa public key");
    let t = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
        &json!({"sub": "u", "exp": now() + 60}),
    );
    assert!(matches!(k.verify(&t), Err(AuthError::InvalidSignature)));
}

#[test]
fn es256_tokens_verify_with_a_configured_p256_key() {
    let mut k = keys();
    k.add_public_key_pem("ec.pub", EC_PUBLIC.as_bytes())
        .expect("ec public key");
    let ec = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).expect("ec key");
    let t = sign(
        Algorithm::ES256,
        &ec,
        &json!({"sub": "u", "exp": now() + 60}),
    );
    assert_eq!(k.verify(&t).expect("verify").user_id, "u");
}

#[test]
fn unusable_public_keys_are_refused_at_setup() {
    let mut k = keys();
    let err = k.add_public_key_pem("p384", EC_P384_PUBLIC.as_bytes());
    assert!(matches!(err, Err(AuthError::InvalidKey { .. })));
    let err = k.add_public_key_pem("priv", RSA_PRIVATE.as_bytes());
    assert!(
        matches!(err, Err(AuthError::InvalidKey { ref reason, .. }) if reason.contains("private"))
    );
    let err = k.add_public_key_pem("junk", b"not a pem");
    assert!(matches!(err, Err(AuthError::InvalidKey { .. })));
}

#[test]
fn load_generates_a_private_secret_file_once_and_reuses_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let a = JwtKeys::load(&auth(), &data).expect("first load");
    let path = data.join(SECRET_FILE_NAME);
    let first = std::fs::read_to_string(&path).expect("secret file");
    assert!(first.trim().len() >= 43, "32 bytes base64url");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let b = JwtKeys::load(&auth(), &data).expect("second load");
    assert_eq!(std::fs::read_to_string(&path).expect("secret file"), first);
    let t = a.issue("u", None, Duration::from_secs(60)).expect("issue");
    assert!(b.verify(&t).is_ok(), "the same secret is reused");
}

#[cfg(unix)]
#[test]
fn load_tightens_a_generated_secret_file_left_world_readable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(SECRET_FILE_NAME);
    std::fs::write(&path, "s3cret-s3cret-s3cret-s3cret-s3cret\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    JwtKeys::load(&auth(), dir.path()).expect("load");
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn load_prefers_the_inline_secret_then_the_secret_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secret");
    std::fs::write(&file, "from-the-file-from-the-file-from-the-file\n").expect("write");
    let inline = AuthConfig {
        jwt_secret: Some("inline-inline-inline-inline-inline".into()),
        jwt_secret_file: Some(file.clone()),
        ..auth()
    };
    let k = JwtKeys::load(&inline, dir.path()).expect("load");
    let t = JwtKeys::from_secret(b"inline-inline-inline-inline-inline", &auth())
        .issue("u", None, Duration::from_secs(60))
        .expect("issue");
    assert!(k.verify(&t).is_ok());
    assert!(!dir.path().join(SECRET_FILE_NAME).exists());

    let from_file = AuthConfig {
        jwt_secret_file: Some(file),
        ..auth()
    };
    let k = JwtKeys::load(&from_file, dir.path()).expect("load");
    let t = JwtKeys::from_secret(b"from-the-file-from-the-file-from-the-file", &auth())
        .issue("u", None, Duration::from_secs(60))
        .expect("issue");
    assert!(k.verify(&t).is_ok());
}

#[test]
fn load_fails_clearly_on_a_missing_secret_file_or_key_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = AuthConfig {
        jwt_secret_file: Some(dir.path().join("nope")),
        ..auth()
    };
    let err = JwtKeys::load(&missing, dir.path()).expect_err("missing file");
    assert!(matches!(err, AuthError::KeyIo { .. }));
    assert!(err.to_string().contains("nope"));

    let pub_file = dir.path().join("rsa.pub");
    std::fs::write(&pub_file, RSA_PUBLIC).expect("write");
    let with_key = AuthConfig {
        public_key_files: vec![pub_file],
        jwt_secret: Some("inline-inline-inline-inline-inline".into()),
        ..auth()
    };
    let k = JwtKeys::load(&with_key, dir.path()).expect("load with key");
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa key");
    let t = sign(
        Algorithm::RS256,
        &rsa,
        &json!({"sub": "u", "exp": now() + 60}),
    );
    assert!(k.verify(&t).is_ok());
}

#[test]
fn user_ids_are_validated() {
    assert!(is_valid_user_id("507f1f77bcf86cd799439011"));
    assert!(is_valid_user_id("a@b.c"));
    assert!(!is_valid_user_id(""));
    assert!(!is_valid_user_id("a/b"));
    assert!(!is_valid_user_id(&"a".repeat(129)));
}

// ---- which claims name the user (auth.*_claims, require_exp, per dialect)

/// Keys reading the user id from `claims`, in order.
fn keys_with_ids(claims: &[&str]) -> JwtKeys {
    let cfg = AuthConfig {
        user_id_claims: claims.iter().map(|c| c.to_string()).collect(),
        ..auth()
    };
    JwtKeys::from_secret(SECRET, &cfg)
}

fn strings(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|c| c.to_string()).collect())
}

#[test]
fn the_first_user_id_claim_the_token_has_names_the_user() {
    let k = keys_with_ids(&["sub", "userId", "id", "_id"]);
    let exp = now() + 60;
    for (claims, expected) in [
        (
            json!({"sub": "s", "userId": "u", "id": "i", "_id": "o", "exp": exp}),
            "s",
        ),
        (json!({"userId": "u", "id": "i", "exp": exp}), "u"),
        (json!({"id": "i", "_id": "o", "exp": exp}), "i"),
        (
            json!({"_id": "507f1f77bcf86cd799439011", "exp": exp}),
            "507f1f77bcf86cd799439011",
        ),
        // A null claim counts as absent.
        (json!({"sub": null, "userId": "u", "exp": exp}), "u"),
    ] {
        let id = k.verify(&hs(&claims)).expect("verify");
        assert_eq!(id.user_id, expected, "{claims}");
    }
    // The order is the configured one, not the token's.
    let k = keys_with_ids(&["id", "sub"]);
    let t = hs(&json!({"sub": "s", "id": "i", "exp": exp}));
    assert_eq!(k.verify(&t).expect("verify").user_id, "i");
}

#[test]
fn a_numeric_user_id_claim_becomes_its_decimal_string() {
    let k = keys_with_ids(&["id"]);
    for (value, expected) in [
        (json!(42), "42"),
        (json!(0), "0"),
        (json!(u64::MAX), "18446744073709551615"),
    ] {
        let t = hs(&json!({"id": value, "exp": now() + 60}));
        assert_eq!(k.verify(&t).expect("verify").user_id, expected);
    }
}

#[test]
fn a_user_id_claim_that_is_no_user_id_is_refused_naming_it() {
    let k = keys_with_ids(&["userId", "id"]);
    for (value, reason) in [
        (json!({"$oid": "507f1f77bcf86cd799439011"}), "an object"),
        (json!(["a"]), "an array"),
        (json!(true), "a boolean"),
        (json!(-7), "a number that is not a non-negative integer"),
        (json!(1.5), "a number that is not a non-negative integer"),
        (json!("has space"), "expected 1 to 128"),
        (json!(""), "expected 1 to 128"),
    ] {
        // The next claim is not tried: the token's user id claim is broken.
        let t = hs(&json!({"userId": value, "id": "fine", "exp": now() + 60}));
        let err = k.verify(&t).expect_err("refused");
        assert!(
            matches!(&err, AuthError::InvalidUserId { claim, .. } if claim == "userId"),
            "{value}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("`userId`") && text.contains(reason), "{text}");
    }
}

#[test]
fn a_token_with_none_of_the_user_id_claims_is_refused_naming_them() {
    let k = keys_with_ids(&["sub", "userId"]);
    let t = hs(&json!({"id": "i", "_id": "o", "exp": now() + 60}));
    let err = k.verify(&t).expect_err("refused");
    assert!(matches!(&err, AuthError::NoUserIdClaim(c) if c == &["sub", "userId"]));
    assert!(err.to_string().contains("`sub`, `userId`"), "{err}");
    // The default looks for `sub` only: a Voxora token is refused, clearly.
    let t = hs(&json!({"userId": "u", "exp": now() + 60}));
    let err = keys().verify(&t).expect_err("refused");
    assert!(
        err.to_string().contains("none of the claims `sub`"),
        "{err}"
    );
}

#[test]
fn profile_claims_are_read_in_the_configured_order() {
    let cfg = AuthConfig {
        user_id_claims: vec!["id".into()],
        name_claims: vec!["fullName".into(), "name".into(), "username".into()],
        email_claims: vec!["mail".into(), "email".into()],
        avatar_claims: vec!["image".into()],
        ..auth()
    };
    let k = JwtKeys::from_secret(SECRET, &cfg);
    let t = hs(&json!({
        "id": "u", "exp": now() + 60,
        "fullName": "  ", "name": 5, "username": "ada", "mail": "ada@example.com",
        "email": "other@example.com", "image": "https://x/i.png", "picture": "https://x/p.png"
    }));
    let id = k.verify(&t).expect("verify");
    assert_eq!(
        id.name.as_deref(),
        Some("ada"),
        "blank and non-strings are skipped"
    );
    assert_eq!(id.email.as_deref(), Some("ada@example.com"));
    assert_eq!(id.avatar_url.as_deref(), Some("https://x/i.png"));
    // An empty list reads nothing.
    let k = JwtKeys::from_secret(
        SECRET,
        &AuthConfig {
            name_claims: Vec::new(),
            ..auth()
        },
    );
    let t = hs(&json!({"sub": "u", "name": "Ada", "exp": now() + 60}));
    assert_eq!(k.verify(&t).expect("verify").name, None);
}

#[test]
fn with_require_exp_off_a_token_without_exp_is_accepted_and_exp_still_checked() {
    let k = JwtKeys::from_secret(
        SECRET,
        &AuthConfig {
            user_id_claims: vec!["id".into()],
            require_exp: false,
            ..auth()
        },
    );
    // An Express backend's {id, name, email}, signed without expiresIn.
    let t = hs(&json!({"id": "64b7f0", "name": "Ada", "email": "ada@example.com", "iat": now()}));
    let id = k.verify(&t).expect("verify");
    assert_eq!(id.user_id, "64b7f0");
    assert_eq!(id.name.as_deref(), Some("Ada"));
    // Still checked when there: an expired or a string exp, a future nbf.
    let t = hs(&json!({"id": "u", "exp": now() - 3600}));
    assert!(matches!(k.verify(&t), Err(AuthError::Expired)));
    let t = hs(&json!({"id": "u", "exp": "never"}));
    assert!(matches!(k.verify(&t), Err(AuthError::InvalidClaim(c)) if c == "exp"));
    let t = hs(&json!({"id": "u", "nbf": now() + 3600}));
    assert!(matches!(k.verify(&t), Err(AuthError::NotYetValid)));
    // Still signed: alg none and another secret are refused.
    let header = b64(&json!({"alg": "none"}));
    let t = format!("{header}.{}.", b64(&json!({"id": "u"})));
    assert!(matches!(k.verify(&t), Err(AuthError::AlgorithmNotAccepted)));
    let t = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another secret, also 32 bytes long"),
        &json!({"id": "u"}),
    );
    assert!(matches!(k.verify(&t), Err(AuthError::InvalidSignature)));
    // The default requires it.
    let t = hs(&json!({"sub": "u"}));
    assert!(matches!(keys().verify(&t), Err(AuthError::InvalidClaim(c)) if c == "exp"));
}

#[test]
fn a_dialect_override_maps_its_own_claims_and_inherits_the_rest() {
    let base = JwtKeys::from_secret(
        SECRET,
        &AuthConfig {
            name_claims: vec!["fullName".into()],
            ..auth()
        },
    );
    let voxora = base.for_dialect(
        "voxora",
        &DialectAuthConfig {
            user_id_claims: strings(&["sub", "userId"]),
            ..DialectAuthConfig::INHERIT
        },
    );
    let vchat = base.for_dialect(
        "vchat",
        &DialectAuthConfig {
            user_id_claims: strings(&["_id"]),
            name_claims: strings(&["name"]),
            require_exp: Some(false),
            ..DialectAuthConfig::INHERIT
        },
    );
    assert_eq!(
        voxora.claims().name,
        vec!["fullName".to_string()],
        "inherited"
    );
    assert!(voxora.claims().require_exp, "inherited");
    assert_eq!(
        base.claims().user_id,
        vec!["sub".to_string()],
        "base untouched"
    );

    // Voxora's access token: {userId, email, activeOrganizationId, type}.
    let t = hs(&json!({
        "userId": "665f1c2e9b1d8a0012345678", "email": "agent@example.com",
        "activeOrganizationId": "665f1c2e9b1d8a0012340000", "type": "access",
        "iat": now(), "exp": now() + 900
    }));
    let id = voxora.verify(&t).expect("voxora verifies");
    assert_eq!(id.user_id, "665f1c2e9b1d8a0012345678");
    assert_eq!(id.email.as_deref(), Some("agent@example.com"));
    assert!(matches!(base.verify(&t), Err(AuthError::NoUserIdClaim(_))));
    assert!(matches!(vchat.verify(&t), Err(AuthError::NoUserIdClaim(c)) if c == ["_id"]));

    // V Chat's {_id, name} without exp: accepted on vchat only.
    let t = hs(&json!({"_id": "61cd92223bd8731be040e11e", "name": "Hatem"}));
    let id = vchat.verify(&t).expect("vchat verifies");
    assert_eq!(id.user_id, "61cd92223bd8731be040e11e");
    assert_eq!(id.name.as_deref(), Some("Hatem"));
    assert!(matches!(voxora.verify(&t), Err(AuthError::InvalidClaim(c)) if c == "exp"));

    // Tokens confab issues carry `sub`: they verify wherever `sub` is listed.
    let own = base
        .issue("u1", Some("U"), Duration::from_secs(60))
        .expect("issue");
    assert_eq!(voxora.verify(&own).expect("own token").user_id, "u1");
    assert!(matches!(
        vchat.verify(&own),
        Err(AuthError::NoUserIdClaim(_))
    ));
}

#[test]
fn mapped_claims_work_with_rs256_and_es256_keys() {
    let mut k = keys_with_ids(&["uid"]);
    k.add_public_key_pem("rsa.pub", RSA_PUBLIC.as_bytes())
        .expect("rsa public key");
    k.add_public_key_pem("ec.pub", EC_PUBLIC.as_bytes())
        .expect("ec public key");
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa key");
    let t = sign(
        Algorithm::RS256,
        &rsa,
        &json!({"uid": 7, "exp": now() + 60}),
    );
    assert_eq!(k.verify(&t).expect("rs256").user_id, "7");
    let ec = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).expect("ec key");
    let t = sign(
        Algorithm::ES256,
        &ec,
        &json!({"uid": "e-1", "exp": now() + 60}),
    );
    assert_eq!(k.verify(&t).expect("es256").user_id, "e-1");
    // Algorithm confusion is refused whatever the claims.
    let t = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
        &json!({"uid": "u", "exp": now() + 60}),
    );
    assert!(matches!(k.verify(&t), Err(AuthError::InvalidSignature)));
}

#[test]
fn load_existing_never_invents_a_secret_and_says_where_the_server_keeps_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("elsewhere");
    let err = JwtKeys::load_existing(&auth(), &data).expect_err("no secret to use");
    assert!(matches!(err, AuthError::NoSecret { .. }));
    assert!(err.is_setup_error());
    let text = err.to_string();
    assert!(
        text.contains(&data.join(SECRET_FILE_NAME).display().to_string()),
        "{text}"
    );
    for hint in [
        "--data-dir",
        "CONFAB_DATA_DIR",
        "auth.jwt_secret_file",
        "CONFAB_AUTH_JWT_SECRET",
    ] {
        assert!(text.contains(hint), "{hint}: {text}");
    }
    assert!(!data.exists(), "nothing was created");

    // The server's generated secret is used once it exists.
    let server = JwtKeys::load(&auth(), &data).expect("the server generates it");
    let token = JwtKeys::load_existing(&auth(), &data)
        .expect("now it exists")
        .issue("u", None, Duration::from_secs(60))
        .expect("issue");
    assert!(server.verify(&token).is_ok());
    // A configured secret needs no file.
    let inline = AuthConfig {
        jwt_secret: Some("inline-inline-inline-inline-inline".into()),
        ..auth()
    };
    assert!(JwtKeys::load_existing(&inline, &dir.path().join("none")).is_ok());
}
