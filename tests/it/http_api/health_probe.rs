//! `confab health`: the probe that container and service health checks run,
//! against the real router; and the binary's exit status.

use std::process::{Command, Output};
use std::time::Duration;

use confab::cli::probe;

use super::spawn_api;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn the_probe_passes_on_2xx_and_fails_on_503_or_no_answer() {
    let api = spawn_api().await;
    let live = probe(&format!("{}/healthz", api.base), WAIT).await;
    assert!(
        live.as_deref().is_ok_and(|s| s.contains("200 OK")),
        "{live:?}"
    );
    let ready = probe(&format!("{}/readyz", api.base), WAIT).await;
    assert!(
        ready.as_deref().is_ok_and(|s| s.contains("ready")),
        "{ready:?}"
    );

    api.sqlite.close().await;
    let ready = probe(&format!("{}/readyz", api.base), WAIT).await;
    assert!(
        ready.as_deref().is_err_and(|s| s.contains("503")),
        "{ready:?}"
    );
    assert!(probe(&format!("{}/healthz", api.base), WAIT).await.is_ok());

    // A port nobody listens on: bind one, note it, let it go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let none = probe(&format!("http://127.0.0.1:{port}/healthz"), WAIT).await;
    assert!(none.is_err(), "{none:?}");
}

/// `confab health ARGS`, run from a directory without a confab.toml.
async fn confab_health(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_confab"))
            .arg("health")
            .args(args)
            .env_remove("CONFAB_CONFIG")
            .current_dir(std::env::temp_dir())
            .output()
            .expect("confab runs")
    })
    .await
    .expect("join")
}

#[tokio::test]
async fn the_binary_exits_0_when_the_listener_answers_and_1_when_not() {
    let api = spawn_api().await;
    let out = confab_health(&["--url", &api.base]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("/healthz: 200 OK"));

    api.sqlite.close().await;
    let out = confab_health(&["--ready", "--url", &api.base, "--timeout", "3s"]).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/readyz: 503"));
}
