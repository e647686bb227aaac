//! Presence to everyone under a burst of connections: each user's arrival
//! is told once to every other socket, on every dialect that tells it to
//! everyone, however many arrive together.

use futures::future::join_all;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

use crate::helpers::{Auth, TestClient, dozaar_client_of, socket_client, spawn_server};

/// How many times each user was told online in `events` (by `field`).
fn count_by(events: &[Value], field: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for e in events {
        if let Some(user) = e[field].as_str() {
            *counts.entry(user.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_connections_tells_each_users_arrival_once_to_an_observer_on_each_dialect() {
    let server = spawn_server().await;
    let observer_token = server.token_for("observer");
    let mut dozaar = dozaar_client_of(&server, "observer").await;
    let jobspare_url = server.jobspare_url.clone().expect("jobspare listens");
    let mut jobspare = socket_client(&jobspare_url, "/", Auth::Token(&observer_token)).await;
    let voxora_url = server.voxora_url.clone().expect("voxora listens");
    let mut voxora = socket_client(&voxora_url, "/", Auth::Token(&observer_token)).await;
    for c in [&jobspare, &voxora] {
        assert!(c.refused.is_none(), "{:?}", c.refused);
    }

    const N: usize = 40;
    let users: Vec<String> = (0..N).map(|i| format!("burst{i}")).collect();
    let burst: Vec<TestClient> = join_all(users.iter().map(|u| dozaar_client_of(&server, u))).await;
    assert!(burst.iter().all(|c| c.refused.is_none()));

    let settle = Duration::from_millis(600);
    let told = [
        (
            "dozaar",
            dozaar.all_of("user:online", settle).await,
            "userId",
        ),
        (
            "jobspare",
            jobspare
                .all_of("user_online_status", settle)
                .await
                .into_iter()
                .filter(|e| e["isOnline"] == true)
                .collect(),
            "userId",
        ),
        (
            "voxora",
            voxora.all_of("user_online", settle).await,
            "userId",
        ),
    ];
    for (dialect, events, field) in told {
        let counts = count_by(&events, field);
        for u in &users {
            assert_eq!(counts.get(u), Some(&1), "{dialect}: {u} told {counts:?}");
        }
        assert_eq!(
            counts.len(),
            N,
            "{dialect}: only the burst's users: {counts:?}"
        );
    }
    for c in burst {
        c.disconnect().await;
    }
}
