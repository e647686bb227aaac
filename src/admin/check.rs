//! `confab check-config`: the configuration as the server would load it,
//! with secrets redacted, and what can be checked of it without starting:
//! the JWT secret (present, long enough), the files it names, the URLs, and
//! with `--connect` whether the database and Redis answer.

use std::path::Path;
use std::time::Duration;

use crate::auth::jwt::{JwtKeys, MIN_SECRET_BYTES, SECRET_FILE_NAME};
use crate::config::{Config, StoreKind};

/// What the checks found: problems make the command fail; warnings and
/// notes do not.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Keys whose values are never printed.
fn is_secret_key(key: &str) -> bool {
    key.contains("secret") || key.contains("password")
}

/// A URL with its password (if any) replaced by `***`.
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

fn redact(value: &mut toml::Value, key: &str) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                redact(v, k);
            }
        }
        toml::Value::String(s) if is_secret_key(key) => *s = "***".to_owned(),
        toml::Value::String(s) if key.ends_with("_url") => *s = redact_url(s),
        _ => {}
    }
}

/// The effective configuration as TOML, secrets redacted.
pub fn effective(config: &Config) -> String {
    let mut value = match toml::Value::try_from(config) {
        Ok(v) => v,
        Err(e) => return format!("# the configuration could not be shown: {e}\n"),
    };
    if let toml::Value::Table(t) = &mut value {
        t.entry("database_url")
            .or_insert_with(|| toml::Value::String(config.database_url()));
    }
    redact(&mut value, "");
    toml::to_string_pretty(&value).unwrap_or_else(|e| format!("# {e}\n"))
}

fn check_file(report: &mut Report, key: &str, path: &Path) {
    if let Err(e) = std::fs::metadata(path) {
        report
            .problems
            .push(format!("{key}: {}: {e}", path.display()));
    }
}

fn check_url(report: &mut Report, key: &str, url: &str, schemes: &[&str]) {
    match reqwest::Url::parse(url) {
        Ok(u) if schemes.contains(&u.scheme()) => {}
        Ok(u) => report.problems.push(format!(
            "{key}: scheme {:?} is not one of {}",
            u.scheme(),
            schemes.join(", ")
        )),
        Err(e) => report
            .problems
            .push(format!("{key}: {:?} is not a URL: {e}", redact_url(url))),
    }
}

/// Checks what can be checked without starting the server or connecting.
pub fn check(config: &Config) -> Report {
    let mut report = Report {
        warnings: config.warnings.clone(),
        ..Report::default()
    };
    let auth = &config.auth;
    let secret_len = if let Some(secret) = &auth.jwt_secret {
        Some(secret.trim().len())
    } else if let Some(path) = &auth.jwt_secret_file {
        match std::fs::read(path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).trim().len()),
            Err(e) => {
                report
                    .problems
                    .push(format!("auth.jwt_secret_file: {}: {e}", path.display()));
                None
            }
        }
    } else {
        let path = config.data_dir.join(SECRET_FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).trim().len()),
            Err(_) => {
                report.notes.push(format!(
                    "no JWT secret is configured and {} does not exist: the server will \
                     generate one at its first start",
                    path.display()
                ));
                None
            }
        }
    };
    match secret_len {
        Some(0) => report.problems.push("the JWT secret is empty".to_owned()),
        Some(n) if n < MIN_SECRET_BYTES => report.problems.push(format!(
            "the JWT secret is {n} bytes long; use at least {MIN_SECRET_BYTES}"
        )),
        _ => {}
    }
    for path in &auth.public_key_files {
        check_file(&mut report, "auth.public_key_files", path);
    }
    if secret_len.is_some_and(|n| n >= MIN_SECRET_BYTES)
        && report.ok()
        && let Err(e) = JwtKeys::load_existing(auth, &config.data_dir)
    {
        report.problems.push(format!("auth: {e}"));
    }
    if let Some(path) = &config.push.fcm_service_account_file {
        check_file(&mut report, "push.fcm_service_account_file", path);
    }
    if let Some(url) = &config.push.webhook_url {
        check_url(&mut report, "push.webhook_url", url, &["http", "https"]);
    }
    if let Some(url) = &config.redis_url {
        check_url(&mut report, "redis_url", url, &["redis", "rediss"]);
    }
    match config.store_kind() {
        StoreKind::Postgres => {
            check_url(
                &mut report,
                "database_url",
                &config.database_url(),
                &["postgres", "postgresql"],
            );
            if config.redis_url.is_none() {
                report.warnings.push(
                    "a PostgreSQL database without redis_url: this node runs alone (other \
                     nodes on that database will not hear it)"
                        .to_owned(),
                );
            }
        }
        StoreKind::SqliteMemory => report
            .warnings
            .push("an in-memory database: everything is lost at exit".to_owned()),
        StoreKind::SqliteFile => {
            let url = config.database_url();
            if !url.starts_with("sqlite:") {
                report.problems.push(format!(
                    "database_url: {:?} is neither sqlite:// nor postgres://",
                    redact_url(&url)
                ));
            }
            if !config.data_dir.exists() {
                report.notes.push(format!(
                    "data_dir {} does not exist: the server will create it",
                    config.data_dir.display()
                ));
            }
        }
    }
    if config.dialects.enabled().next().is_none() {
        report.problems.push("no dialect is enabled".to_owned());
    }
    report
}

/// With `--connect`: whether the database and Redis answer.
pub async fn connect(config: &Config, report: &mut Report) {
    const TIMEOUT: Duration = Duration::from_secs(5);
    if config.store_kind() == StoreKind::Postgres {
        let url = config.database_url();
        let answer = async {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(TIMEOUT)
                .connect(&url)
                .await?;
            sqlx::query("SELECT 1").execute(&pool).await?;
            pool.close().await;
            Ok::<_, sqlx::Error>(())
        };
        match tokio::time::timeout(TIMEOUT, answer).await {
            Ok(Ok(())) => report.notes.push("the database answers".to_owned()),
            Ok(Err(e)) => report
                .problems
                .push(format!("database_url: the database does not answer: {e}")),
            Err(_) => report
                .problems
                .push("database_url: the database does not answer within 5 s".to_owned()),
        }
    }
    if let Some(url) = &config.redis_url {
        match tokio::time::timeout(TIMEOUT, redis_ping(url)).await {
            Ok(Ok(())) => report.notes.push("Redis answers".to_owned()),
            Ok(Err(e)) => report
                .problems
                .push(format!("redis_url: Redis does not answer: {e}")),
            Err(_) => report
                .problems
                .push("redis_url: Redis does not answer within 5 s".to_owned()),
        }
    }
}

/// Opens a TCP connection to Redis and sends `PING`: any RESP answer
/// (`+PONG`, or an error such as `-NOAUTH`) means Redis is there.
async fn redis_ping(url: &str) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let u = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let host = u.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = u.port().unwrap_or(6379);
    let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("{host}:{port}: {e}"))?;
    stream
        .write_all(b"PING\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
    match buf.get(..n).and_then(|b| b.first()) {
        Some(b'+' | b'-') => Ok(()),
        _ => Err("the answer is not Redis's".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_url_passwords_are_redacted() {
        let mut config = Config::default();
        config.auth.jwt_secret = Some("s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t".into());
        config.redis_url = Some("redis://:hunter2@cache:6379".into());
        let shown = effective(&config);
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("jwt_secret = \"***\""), "{shown}");
        assert!(shown.contains("database_url"), "{shown}");
    }

    #[test]
    fn a_short_secret_and_a_missing_file_are_problems() {
        let mut config = Config::default();
        config.auth.jwt_secret = Some("short".into());
        config.push.fcm_service_account_file = Some("/nonexistent/fcm.json".into());
        config.redis_url = Some("http://cache".into());
        let report = check(&config);
        assert_eq!(report.problems.len(), 3, "{report:?}");
        config.auth.jwt_secret = Some("x".repeat(40));
        config.push.fcm_service_account_file = None;
        config.redis_url = None;
        let report = check(&config);
        assert!(report.ok(), "{report:?}");
    }
}
