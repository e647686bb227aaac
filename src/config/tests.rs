//! Loading end to end: the layers and their order, the environment names,
//! the errors and what they name, and the example config files.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::keys::Shape;
use super::load::load_with_default_file;
use super::*;

fn no_file() -> PathBuf {
    PathBuf::from("/nonexistent/confab-test/confab.toml")
}

fn load(
    file: Option<&Path>,
    env: &[(&str, &str)],
    flags: &[(&str, &str)],
) -> Result<Config, ConfigError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let flags: Vec<(String, String)> = flags
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    load_with_default_file(file, &no_file(), env, &flags)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

fn err_text(r: Result<Config, ConfigError>) -> String {
    match r {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn nothing_given_yields_the_defaults() {
    let c = load(None, &[], &[]).expect("load");
    assert_eq!(c, Config::default());
    assert_eq!(c.dialects.dozaar, DialectConfig::new(true, 3001));
    assert_eq!(c.auth.token_ttl.as_secs(), 7 * 86_400);
    assert_eq!(c.socket.allowed_origins, vec!["*".to_string()]);
    assert!(Config::default().validate().is_ok());
}

#[test]
fn layers_apply_in_order_file_env_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        &dir,
        "c.toml",
        "log = \"debug\"\ntyping_ttl_secs = 20\n[limits]\nmax_text_chars = 500\n[dialects.dozaar]\nport = 4001\n",
    );
    let c = load(Some(&file), &[], &[]).expect("file only");
    assert_eq!(c.log, "debug");
    assert_eq!(c.limits.max_text_chars, 500);
    assert_eq!(
        c.limits.messages_per_minute, 50,
        "untouched keys keep defaults"
    );
    assert_eq!(c.dialects.dozaar, DialectConfig::new(true, 4001));

    let env = [
        ("CONFAB_LIMITS_MAX_TEXT_CHARS", "600"),
        ("CONFAB_DIALECTS_DOZAAR_PORT", "5001"),
    ];
    let c = load(Some(&file), &env, &[]).expect("file + env");
    assert_eq!(c.limits.max_text_chars, 600);
    assert_eq!(c.dialects.dozaar.port, 5001);
    assert_eq!(c.typing_ttl_secs, 20);

    let c = load(
        Some(&file),
        &env,
        &[("dialects.dozaar.port", "0"), ("log", "warn")],
    )
    .expect("file + env + flags");
    assert_eq!(c.dialects.dozaar.port, 0);
    assert_eq!(c.log, "warn");
    assert_eq!(c.limits.max_text_chars, 600);

    // Flags may set optional keys too.
    let c = load(
        None,
        &[],
        &[("auth.issuer", "me"), ("database_url", "sqlite::memory:")],
    )
    .expect("optional keys by flag");
    assert_eq!(c.auth.issuer.as_deref(), Some("me"));
    assert_eq!(c.database_url(), "sqlite::memory:");
}

#[test]
fn a_partial_dialect_table_keeps_the_dialects_default_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "c.toml", "[dialects.syarah]\nenabled = true\n");
    let c = load(Some(&file), &[], &[]).expect("load");
    assert_eq!(c.dialects.syarah, DialectConfig::new(true, 3005));
}

#[test]
fn env_names_are_derived_from_every_key() {
    let env = [
        ("CONFAB_BIND", "127.0.0.1"),
        ("CONFAB_DATA_DIR", "/tmp/confab-x"),
        ("CONFAB_AUTH_JWT_SECRET", "s3cret"),
        ("CONFAB_AUTH_LEEWAY_SECS", "5"),
        ("CONFAB_AUTH_TOKEN_TTL", "1h"),
        (
            "CONFAB_SOCKET_ALLOWED_ORIGINS",
            "https://a.example, https://b.example",
        ),
        ("CONFAB_DIALECTS_SYARAH_ENABLED", "yes"),
        ("CONFAB_PRESENCE_TTL_SECS", "60"),
        ("CONFAB_DATABASE_URL", "postgres://u@localhost/confab"),
        ("CONFAB_AUTH_PUBLIC_KEY_FILES", "/k/a.pem,/k/b.pem"),
    ];
    let c = load(None, &env, &[]).expect("load");
    assert_eq!(c.bind, "127.0.0.1".parse::<IpAddr>().expect("ip"));
    assert_eq!(c.data_dir, PathBuf::from("/tmp/confab-x"));
    assert_eq!(c.auth.jwt_secret.as_deref(), Some("s3cret"));
    assert_eq!(c.auth.leeway_secs, 5);
    assert_eq!(c.auth.token_ttl, DurationStr::from_secs(3600));
    assert_eq!(
        c.socket.allowed_origins,
        vec!["https://a.example", "https://b.example"]
    );
    assert!(c.dialects.syarah.enabled);
    assert_eq!(c.presence_ttl_secs, 60);
    assert_eq!(c.database_url(), "postgres://u@localhost/confab");
    assert_eq!(
        c.auth.public_key_files,
        vec![PathBuf::from("/k/a.pem"), PathBuf::from("/k/b.pem")]
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn short_env_aliases_work_and_full_names_win() {
    let c = load(
        None,
        &[
            ("CONFAB_JWT_SECRET", "short"),
            ("CONFAB_DOZAAR_PORT", "7001"),
            ("CONFAB_SYARAH_ENABLED", "true"),
            ("CONFAB_JOBSPARE_PORT", "7002"),
        ],
        &[],
    )
    .expect("load");
    assert_eq!(c.auth.jwt_secret.as_deref(), Some("short"));
    assert_eq!(c.dialects.dozaar.port, 7001);
    assert!(c.dialects.syarah.enabled);
    assert_eq!(c.dialects.jobspare.port, 7002);

    // Full name given before or after the alias: the full name wins.
    for env in [
        [
            ("CONFAB_DIALECTS_DOZAAR_PORT", "7100"),
            ("CONFAB_DOZAAR_PORT", "7200"),
        ],
        [
            ("CONFAB_DOZAAR_PORT", "7200"),
            ("CONFAB_DIALECTS_DOZAAR_PORT", "7100"),
        ],
    ] {
        let c = load(None, &env, &[]).expect("load");
        assert_eq!(c.dialects.dozaar.port, 7100);
    }
}

#[test]
fn an_empty_env_value_unsets_an_optional_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "c.toml", "database_url = \"sqlite://x.db\"\n");
    let c = load(Some(&file), &[("CONFAB_DATABASE_URL", "")], &[]).expect("load");
    assert_eq!(c.database_url, None);
}

#[test]
fn unknown_env_variables_are_reported_not_fatal() {
    let c = load(
        None,
        &[
            ("CONFAB_NOPE", "1"),
            ("CONFAB_AUTH_NOPE", "1"),
            ("CONFAB_CONFIG", ""),
            ("CONFAB_USER_PASSWORD", "x"),
            ("HOME", "/root"),
        ],
        &[],
    )
    .expect("load");
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("CONFAB_NOPE"));
    assert!(c.warnings[1].contains("CONFAB_AUTH_NOPE"));
}

#[test]
fn confab_config_in_env_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "c.toml", "typing_ttl_secs = 3\n");
    let path = file.to_string_lossy().to_string();
    let c = load(None, &[("CONFAB_CONFIG", &path)], &[]).expect("load");
    assert_eq!(c.typing_ttl_secs, 3);
    // An explicit file wins over CONFAB_CONFIG.
    let other = write(&dir, "d.toml", "typing_ttl_secs = 4\n");
    let c = load(Some(&other), &[("CONFAB_CONFIG", &path)], &[]).expect("load");
    assert_eq!(c.typing_ttl_secs, 4);
}

#[test]
fn bad_values_name_the_key() {
    let t = err_text(load(None, &[("CONFAB_LIMITS_MAX_TEXT_CHARS", "lots")], &[]));
    assert!(
        t.contains("CONFAB_LIMITS_MAX_TEXT_CHARS") && t.contains("limits.max_text_chars"),
        "{t}"
    );
    let t = err_text(load(None, &[("CONFAB_BIND", "localhost")], &[]));
    assert!(t.contains("CONFAB_BIND") && t.contains("`bind`"), "{t}");
    let t = err_text(load(None, &[("CONFAB_DOZAAR_PORT", "70000")], &[]));
    assert!(t.contains("dialects.dozaar.port"), "{t}");
    let t = err_text(load(None, &[("CONFAB_DOZAAR_ENABLED", "maybe")], &[]));
    assert!(t.contains("dialects.dozaar.enabled"), "{t}");
    let t = err_text(load(None, &[("CONFAB_TOKEN_TTL", "soon")], &[]));
    assert!(t.contains("auth.token_ttl"), "{t}");
    let t = err_text(load(None, &[], &[("dialects.dozaar.port", "x")]));
    assert!(t.contains("dialects.dozaar.port"), "{t}");
    let t = err_text(load(None, &[], &[("no.such.key", "1")]));
    assert!(t.contains("no.such.key"), "{t}");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "c.toml", "[limits]\nmax_text_chars = \"many\"\n");
    let t = err_text(load(Some(&file), &[], &[]));
    assert!(t.contains("max_text_chars") && t.contains("c.toml"), "{t}");
    let file = write(&dir, "d.toml", "[limits]\nmax_txt_chars = 5\n");
    let t = err_text(load(Some(&file), &[], &[]));
    assert!(t.contains("max_txt_chars"), "{t}");
    let t = err_text(load(Some(&dir.path().join("missing.toml")), &[], &[]));
    assert!(t.contains("missing.toml"), "{t}");
}

#[test]
fn validation_names_the_key() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("socket.ping_interval_secs", "0")],
            "socket.ping_interval_secs",
        ),
        (
            &[("socket.ping_timeout_secs", "25")],
            "socket.ping_timeout_secs",
        ),
        (&[("limits.max_text_chars", "0")], "limits.max_text_chars"),
        (
            &[("limits.ws_max_frame_bytes", "999999999")],
            "limits.ws_max_frame_bytes",
        ),
        (&[("typing_ttl_secs", "0")], "typing_ttl_secs"),
        (
            &[("uploads.max_video_bytes", "0")],
            "uploads.max_video_bytes",
        ),
        (&[("uploads.webp_quality", "101")], "uploads.webp_quality"),
        (
            &[("uploads.image_max_side", "20000")],
            "uploads.image_max_side",
        ),
        (&[("auth.token_ttl", "0s")], "auth.token_ttl"),
        (&[("auth.leeway_secs", "999999")], "auth.leeway_secs"),
        (&[("log", "info,[[[")], "`log`"),
        (
            &[("socket.allowed_origins", "https://a.example/")],
            "socket.allowed_origins",
        ),
        (&[("socket.allowed_origins", "")], "socket.allowed_origins"),
        (
            &[
                ("dialects.syarah.enabled", "true"),
                ("dialects.syarah.port", "3001"),
            ],
            "dialects.syarah.port",
        ),
    ];
    for (flags, key) in cases {
        let t = err_text(load(None, &[], flags));
        assert!(t.contains(key), "{flags:?}: {t}");
    }
    // Port 0 may repeat; disabled dialects may share ports.
    load(
        None,
        &[],
        &[
            ("dialects.syarah.enabled", "true"),
            ("dialects.syarah.port", "0"),
            ("dialects.dozaar.port", "0"),
            ("dialects.vchat.port", "3001"),
        ],
    )
    .expect("valid");
}

#[test]
fn the_default_database_is_sqlite_in_the_data_dir() {
    let mut c = Config {
        data_dir: PathBuf::from("/var/lib/confab"),
        ..Config::default()
    };
    assert_eq!(
        c.database_url(),
        "sqlite:///var/lib/confab/confab.db?mode=rwc"
    );
    c.data_dir = PathBuf::from("/tmp/a?b#c%d");
    assert_eq!(
        c.database_url(),
        "sqlite:///tmp/a%3Fb%23c%25d/confab.db?mode=rwc"
    );
}

#[test]
fn debug_output_hides_the_jwt_secret() {
    let c = Config {
        auth: AuthConfig {
            jwt_secret: Some("super-secret-value".into()),
            ..AuthConfig::default()
        },
        ..Config::default()
    };
    let text = format!("{c:?}");
    assert!(!text.contains("super-secret-value"));
    assert!(text.contains("redacted"));
}

#[test]
fn presence_and_attachment_keys_come_from_the_environment_and_are_checked() {
    let c = load(
        None,
        &[
            ("CONFAB_PRESENCE_VISIBLE_TO", "contacts"),
            ("CONFAB_PRESENCE_OFFLINE_GRACE_MS", "0"),
            (
                "CONFAB_ATTACHMENTS_URL_PREFIXES",
                "https://cdn.example.com, https://old.example.com/files/",
            ),
            ("CONFAB_ATTACHMENTS_PATH_PREFIXES", "/uploads/chat/"),
        ],
        &[],
    )
    .expect("load");
    assert_eq!(c.presence.visible_to, Visibility::Contacts);
    assert_eq!(c.presence.offline_grace_ms, 0);
    assert_eq!(
        c.attachments.url_prefixes,
        ["https://cdn.example.com", "https://old.example.com/files/"]
    );
    let allowed = c.attachments.allowlist().expect("valid prefixes");
    assert!(allowed.allows_url("https://cdn.example.com/a.png"));
    assert!(allowed.allows_path("/uploads/chat/a.png"));
    assert_eq!(PresenceConfig::default().offline_grace_ms, 2000);
    assert_eq!(PresenceConfig::default().visible_to, Visibility::Everyone);

    for (var, value, key) in [
        (
            "CONFAB_PRESENCE_VISIBLE_TO",
            "friends",
            "presence.visible_to",
        ),
        (
            "CONFAB_PRESENCE_OFFLINE_GRACE_MS",
            "60001",
            "presence.offline_grace_ms",
        ),
        (
            "CONFAB_ATTACHMENTS_URL_PREFIXES",
            "cdn.example.com",
            "attachments.url_prefixes",
        ),
        (
            "CONFAB_ATTACHMENTS_PATH_PREFIXES",
            "/uploads/",
            "attachments.path_prefixes",
        ),
    ] {
        let e = err_text(load(None, &[(var, value)], &[]));
        assert!(e.contains(key), "{var}={value}: {e}");
    }
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn leaf_paths(t: &Table) -> Vec<String> {
    let mut out: Vec<String> = Shape::of(t)
        .leaves
        .iter()
        .map(|l| l.path.join("."))
        .collect();
    out.sort();
    out
}

#[test]
fn the_example_config_equals_the_defaults_and_lists_every_key() {
    let path = example("confab.example.toml");
    let c = load(Some(&path), &[], &[]).expect("example loads");
    assert_eq!(
        c,
        Config::default(),
        "confab.example.toml drifted from the defaults"
    );

    let text = std::fs::read_to_string(&path).expect("read example");
    let file: Table = toml::from_str(&text).expect("example parses");
    let defaults = match Value::try_from(Config::default()) {
        Ok(Value::Table(t)) => t,
        other => panic!("defaults: {other:?}"),
    };
    assert_eq!(
        leaf_paths(&file),
        leaf_paths(&defaults),
        "keys missing from the example"
    );
    // Optional keys (None by default) are documented as comments.
    for key in [
        "database_url",
        "redis_url",
        "jwt_secret",
        "jwt_secret_file",
        "issuer",
        "audience",
        "client_ip_header",
        "dir",
    ] {
        assert!(text.contains(&format!("# {key} =")), "{key} not documented");
    }
}

#[test]
fn the_production_example_config_loads() {
    let c = load(Some(&example("confab.production.example.toml")), &[], &[])
        .expect("production example loads");
    assert!(!c.origin_allowed(Some("https://evil.example")));
    assert!(c.origin_allowed(Some("https://chat.example.com")));
    assert!(c.auth.jwt_secret.is_none());
    assert!(c.auth.jwt_secret_file.is_some());
    assert_eq!(c.auth.registration, Registration::Closed);
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.auth.client_ip_header.as_deref(), Some("X-Forwarded-For"));
}

#[test]
fn registration_login_throttle_and_log_format_have_defaults_and_env_names() {
    let c = load(None, &[], &[]).expect("load");
    assert_eq!(c.auth.registration, Registration::Open);
    assert_eq!(c.auth.login_failures_per_account, 5);
    assert_eq!(c.auth.login_failures_per_address, 50);
    assert_eq!(c.auth.login_failure_window.as_secs(), 900);
    assert_eq!(c.log_format, LogFormat::Auto);
    let env = [
        ("CONFAB_AUTH_REGISTRATION", "closed"),
        ("CONFAB_AUTH_LOGIN_FAILURES_PER_ACCOUNT", "3"),
        ("CONFAB_AUTH_LOGIN_FAILURES_PER_ADDRESS", "0"),
        ("CONFAB_AUTH_LOGIN_FAILURE_WINDOW", "2s"),
        ("CONFAB_AUTH_CLIENT_IP_HEADER", "X-Real-IP"),
        ("CONFAB_LOG_FORMAT", "json"),
    ];
    let c = load(None, &env, &[("log_format", "pretty")]).expect("env");
    assert_eq!(c.auth.registration, Registration::Closed);
    assert_eq!(c.auth.login_failures_per_account, 3);
    assert_eq!(c.auth.login_failures_per_address, 0);
    assert_eq!(c.auth.login_failure_window.as_secs(), 2);
    assert_eq!(c.auth.client_ip_header.as_deref(), Some("X-Real-IP"));
    assert_eq!(c.log_format, LogFormat::Pretty, "the flag wins");
    for (var, value, key) in [
        ("CONFAB_AUTH_REGISTRATION", "maybe", "registration"),
        ("CONFAB_LOG_FORMAT", "xml", "log_format"),
        (
            "CONFAB_AUTH_LOGIN_FAILURE_WINDOW",
            "0",
            "auth.login_failure_window",
        ),
        (
            "CONFAB_AUTH_CLIENT_IP_HEADER",
            "not a header",
            "auth.client_ip_header",
        ),
    ] {
        let e = err_text(load(None, &[(var, value)], &[]));
        assert!(e.contains(key), "{var}={value}: {e}");
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

#[test]
fn token_claim_keys_have_defaults_and_env_names() {
    let c = load(None, &[], &[]).expect("load");
    assert_eq!(c.auth.user_id_claims, names(&["sub"]));
    assert_eq!(c.auth.name_claims, names(&["name"]));
    assert_eq!(c.auth.email_claims, names(&["email"]));
    assert_eq!(c.auth.avatar_claims, names(&["picture", "avatar"]));
    assert!(c.auth.require_exp);
    assert_eq!(c.dialects.voxora.auth, DialectAuthConfig::INHERIT);

    let env = [
        ("CONFAB_AUTH_USER_ID_CLAIMS", "sub, userId,id,_id"),
        ("CONFAB_AUTH_NAME_CLAIMS", "name,username,fullName"),
        ("CONFAB_AUTH_AVATAR_CLAIMS", "picture,avatar,image"),
        ("CONFAB_AUTH_REQUIRE_EXP", "false"),
        // Per dialect: optional keys, typed by the config.
        ("CONFAB_DIALECTS_VOXORA_AUTH_USER_ID_CLAIMS", "sub,userId"),
        ("CONFAB_DIALECTS_VOXORA_AUTH_REQUIRE_EXP", "true"),
        ("CONFAB_VCHAT_AUTH_USER_ID_CLAIMS", "_id"),
        ("CONFAB_DIALECTS_JOBSPARE_AUTH_EMAIL_CLAIMS", "1"),
    ];
    let c = load(
        None,
        &env,
        &[("dialects.syarah.auth.name_claims", "fullName")],
    )
    .expect("load");
    assert_eq!(
        c.auth.user_id_claims,
        names(&["sub", "userId", "id", "_id"])
    );
    assert_eq!(c.auth.name_claims, names(&["name", "username", "fullName"]));
    assert_eq!(c.auth.avatar_claims, names(&["picture", "avatar", "image"]));
    assert!(!c.auth.require_exp);
    assert_eq!(
        c.dialects.voxora.auth.user_id_claims,
        Some(names(&["sub", "userId"]))
    );
    assert_eq!(c.dialects.voxora.auth.require_exp, Some(true));
    assert_eq!(c.dialects.vchat.auth.user_id_claims, Some(names(&["_id"])));
    assert_eq!(c.dialects.jobspare.auth.email_claims, Some(names(&["1"])));
    assert_eq!(
        c.dialects.syarah.auth.name_claims,
        Some(names(&["fullName"]))
    );
    assert_eq!(c.dialects.dozaar.auth, DialectAuthConfig::INHERIT);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    let err = err_text(load(
        None,
        &[("CONFAB_DIALECTS_VCHAT_AUTH_REQUIRE_EXP", "maybe")],
        &[],
    ));
    assert!(err.contains("dialects.vchat.auth.require_exp"), "{err}");
}

#[test]
fn a_dialect_auth_table_in_the_file_overrides_only_its_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        &dir,
        "c.toml",
        "[auth]\nuser_id_claims = [\"sub\", \"id\"]\n\
         [dialects.vchat]\nport = 9000\n\
         [dialects.vchat.auth]\nuser_id_claims = [\"_id\"]\nrequire_exp = false\n",
    );
    let c = load(Some(&file), &[], &[]).expect("load");
    assert_eq!(c.dialects.vchat.port, 9000);
    assert_eq!(c.dialects.vchat.auth.user_id_claims, Some(names(&["_id"])));
    assert_eq!(c.dialects.vchat.auth.require_exp, Some(false));
    assert_eq!(c.dialects.vchat.auth.name_claims, None);
    assert_eq!(c.auth.user_id_claims, names(&["sub", "id"]));

    let file = write(
        &dir,
        "bad.toml",
        "[dialects.vchat.auth]\nuser_claims = [\"_id\"]\n",
    );
    let err = err_text(load(Some(&file), &[], &[]));
    assert!(err.contains("user_claims"), "{err}");
}

#[test]
fn claim_lists_are_checked_naming_the_key() {
    for (flags, key) in [
        (vec![("auth.user_id_claims", "")], "auth.user_id_claims"),
        (
            vec![("auth.user_id_claims", "sub,sub")],
            "auth.user_id_claims",
        ),
        (
            vec![("auth.avatar_claims", "picture,picture")],
            "auth.avatar_claims",
        ),
    ] {
        let err = err_text(load(None, &[], &flags));
        assert!(err.contains(key), "{flags:?}: {err}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, key) in [
        (
            "[dialects.voxora.auth]\nuser_id_claims = []\n",
            "dialects.voxora.auth.user_id_claims",
        ),
        (
            "[dialects.vchat.auth]\navatar_claims = [\" image\"]\n",
            "dialects.vchat.auth.avatar_claims",
        ),
        ("[auth]\nemail_claims = [\"\"]\n", "auth.email_claims"),
    ] {
        let file = write(&dir, "c.toml", text);
        let err = err_text(load(Some(&file), &[], &[]));
        assert!(err.contains(key), "{text}: {err}");
    }
    // Empty profile lists are allowed: nothing is read.
    let c = load(None, &[], &[("auth.name_claims", "")]).expect("load");
    assert!(c.auth.name_claims.is_empty());
}

#[test]
fn the_admin_listener_is_off_by_default_and_set_by_its_env_name() {
    let c = load(None, &[], &[]).expect("load");
    assert_eq!(c.admin.listen_addr(), None);
    let c = load(None, &[("CONFAB_ADMIN_LISTEN", "127.0.0.1:9090")], &[]).expect("load");
    assert_eq!(
        c.admin.listen_addr(),
        Some("127.0.0.1:9090".parse().unwrap())
    );
    let e = err_text(load(None, &[("CONFAB_ADMIN_LISTEN", "localhost")], &[]));
    assert!(e.contains("admin.listen"), "{e}");
}

#[test]
fn operators_and_the_service_token_come_from_the_admin_table() {
    let c = load(None, &[], &[]).expect("load");
    assert!(c.admin.users.is_empty());
    assert_eq!(c.admin.service_token(), None);
    let token = "0123456789abcdef0123456789abcdef";
    let c = load(
        None,
        &[
            ("CONFAB_ADMIN_USERS", "alice,ops@example.com"),
            ("CONFAB_ADMIN_TOKEN", token),
        ],
        &[],
    )
    .expect("load");
    assert!(
        c.admin
            .is_operator(&crate::core::UserId::parse("alice").unwrap())
    );
    assert!(
        !c.admin
            .is_operator(&crate::core::UserId::parse("bob").unwrap())
    );
    assert_eq!(c.admin.service_token(), Some(token));
    assert!(
        !format!("{:?}", c.admin).contains(token),
        "the token is redacted"
    );

    let e = err_text(load(None, &[("CONFAB_ADMIN_TOKEN", "short")], &[]));
    assert!(e.contains("admin.token") && e.contains("32"), "{e}");
    let e = err_text(load(None, &[("CONFAB_ADMIN_USERS", "not a user")], &[]));
    assert!(e.contains("admin.users"), "{e}");
}
