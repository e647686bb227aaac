//! The cluster's Redis side against a real Redis (`CONFAB_TEST_REDIS_URL`,
//! default `redis://127.0.0.1:6379`): claims held across nodes (and
//! presence's grace across them), a dead
//! node's claims reaped, claims written again after Redis forgot them, and
//! the rate limit shared by nodes. Every key a test makes names a fresh id,
//! so tests share the server safely. (Two whole server processes are tested
//! in `e2e/cluster.test.mjs`.)

use std::sync::Arc;
use std::time::Duration;

use confab::core::login::{LoginLimits, LoginThrottle};
use confab::core::ports::FailureCounter;
use confab::fanout::cluster::Cluster;
use confab::fanout::cluster::claims::{Change, Claims};
use confab::fanout::cluster::logins::ClusterLogins;
use confab::fanout::cluster::rate::ClusterRate;
use fred::prelude::{KeysInterface, SetsInterface, SortedSetsInterface};
use tokio::sync::mpsc;

use crate::helpers::user_id;

fn redis_url() -> String {
    std::env::var("CONFAB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn node(ttl_secs: u64) -> Arc<Cluster> {
    Cluster::connect(&redis_url(), Duration::from_secs(ttl_secs))
        .await
        .expect("Redis must run for these tests (CONFAB_TEST_REDIS_URL)")
}

fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The next change about `key` (nodes that earlier test runs left behind
/// are reaped too, and their keys reported).
async fn change_of(
    changes: &mut mpsc::UnboundedReceiver<Change>,
    key: &str,
    within: Duration,
) -> Change {
    tokio::time::timeout(within, async {
        loop {
            match changes.recv().await.expect("the claims task runs") {
                Change::Claimed(k) | Change::Vacated(k) if k != key => continue,
                change => return change,
            }
        }
    })
    .await
    .expect("a change in time")
}

#[tokio::test]
async fn a_key_is_held_while_any_node_claims_it() {
    let (a, b) = (node(30).await, node(30).await);
    let (ca, _) = Claims::start(a.clone());
    let (cb, _) = Claims::start(b.clone());
    let key = fresh("p:user");
    assert_eq!(ca.claim(key.clone()).holders().await.expect("claim"), 1);
    assert_eq!(cb.claim(key.clone()).holders().await.expect("claim"), 2);
    assert_eq!(
        ca.held(std::slice::from_ref(&key)).await.expect("held"),
        vec![true]
    );
    assert_eq!(ca.release(key.clone()).holders().await.expect("release"), 1);
    assert_eq!(
        cb.held(std::slice::from_ref(&key)).await.expect("held"),
        vec![true]
    );
    assert_eq!(cb.release(key.clone()).holders().await.expect("release"), 0);
    let other = fresh("p:nobody");
    assert_eq!(
        ca.held(&[key, other]).await.expect("held"),
        vec![false, false]
    );
}

#[tokio::test]
async fn a_reload_onto_another_node_within_the_grace_is_neither_offline_nor_online() {
    use confab::core::ports::ClaimStore;
    use confab::core::presence::{Closed, Presence};
    let grace = Duration::from_millis(300);
    let presence_on = |cluster: &Arc<Cluster>| {
        let (claims, _) = Claims::start(cluster.clone());
        let claims: Arc<dyn ClaimStore> = Arc::new(claims);
        Presence::clustered(Some(claims), grace)
    };
    let (a, b) = (presence_on(&node(30).await), presence_on(&node(30).await));
    let user = user_id(&fresh("reloader"));
    assert!(
        a.connect(&user).await,
        "the first socket anywhere is an arrival"
    );
    let Closed::Last(on_a) = a.disconnect(&user) else {
        panic!("her only socket on node A");
    };
    // The new page's socket lands on node B within node A's grace.
    assert!(
        !b.connect(&user).await,
        "node A still holds her: no arrival"
    );
    assert_eq!(
        a.settle(&on_a).await,
        None,
        "node B holds her: no departure"
    );
    assert!(
        a.online_among(std::slice::from_ref(&user))
            .await
            .contains(&user)
    );
    // Her last socket closes: offline once node B's grace is over.
    let Closed::Last(on_b) = b.disconnect(&user) else {
        panic!("her only socket on node B");
    };
    assert!(
        a.online_among(std::slice::from_ref(&user))
            .await
            .contains(&user)
    );
    assert_eq!(b.settle(&on_b).await, Some(on_b.since));
    assert!(
        !a.online_among(std::slice::from_ref(&user))
            .await
            .contains(&user)
    );
}

#[tokio::test]
async fn the_claims_of_a_node_that_stopped_beating_are_reaped_and_reported_vacated() {
    let live = node(2).await;
    let client = live.client().expect("connected");
    // A node that beat long ago and held two keys, one also held by a third
    // node that is alive (its beat is now).
    let (dead, alive) = (fresh("dead"), fresh("alive"));
    let (alone, shared) = (fresh("p:alone"), fresh("p:shared"));
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as f64;
    let _: () = client
        .zadd(
            "confab:nodes",
            None,
            None,
            false,
            false,
            vec![(0.0, dead.as_str()), (now_ms + 60_000.0, alive.as_str())],
        )
        .await
        .expect("zadd");
    for (key, holders) in [
        (&alone, vec![dead.as_str()]),
        (&shared, vec![dead.as_str(), alive.as_str()]),
    ] {
        let _: () = client
            .sadd(format!("confab:claim:{key}"), holders)
            .await
            .expect("sadd");
    }
    let _: () = client
        .sadd(
            format!("confab:node:{dead}:claims"),
            vec![alone.as_str(), shared.as_str()],
        )
        .await
        .expect("sadd");

    let (claims, mut changes) = Claims::start(live.clone());
    assert_eq!(
        change_of(&mut changes, &alone, Duration::from_secs(5)).await,
        Change::Vacated(alone.clone())
    );
    assert_eq!(
        claims.held(&[alone, shared]).await.expect("held"),
        vec![false, true]
    );
    let index: bool = client
        .exists(format!("confab:node:{dead}:claims"))
        .await
        .expect("exists");
    assert!(!index, "the dead node's index is gone");
    let _: () = client
        .zrem("confab:nodes", alive.as_str())
        .await
        .expect("zrem");
}

#[tokio::test]
async fn claims_are_written_again_after_redis_forgot_them() {
    let cluster = node(3).await;
    let client = cluster.client().expect("connected");
    let (claims, mut changes) = Claims::start(cluster.clone());
    let key = fresh("p:user");
    assert_eq!(claims.claim(key.clone()).holders().await.expect("claim"), 1);
    // After the node's first heartbeat, what a Redis restart does to its
    // records.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let beat: Option<f64> = client
            .zscore("confab:nodes", cluster.node_id())
            .await
            .expect("zscore");
        if beat.is_some() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no heartbeat");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _: () = client
        .del(vec![
            format!("confab:claim:{key}"),
            format!("confab:node:{}:claims", cluster.node_id()),
        ])
        .await
        .expect("del");
    let _: () = client
        .zrem("confab:nodes", cluster.node_id())
        .await
        .expect("zrem");
    assert_eq!(
        change_of(&mut changes, &key, Duration::from_secs(5)).await,
        Change::Claimed(key.clone())
    );
    assert_eq!(
        claims.held(std::slice::from_ref(&key)).await.expect("held"),
        vec![true]
    );
}

#[tokio::test]
async fn the_rate_limit_is_counted_across_nodes() {
    let (a, b) = (
        ClusterRate::new(node(30).await),
        ClusterRate::new(node(30).await),
    );
    let user = user_id(&fresh("rate"));
    // 5 a minute: bursts of 5, then one every 12 s.
    let interval = Duration::from_secs(12);
    let burst = interval * 4;
    for (i, limiter) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        assert_eq!(
            limiter.check(&user, interval, burst).await.expect("redis"),
            Ok(()),
            "send {i}"
        );
    }
    let wait = b
        .check(&user, interval, burst)
        .await
        .expect("redis")
        .expect_err("the sixth is refused");
    assert!(
        wait > Duration::from_secs(10) && wait <= interval,
        "{wait:?}"
    );
    let other = user_id(&fresh("rate"));
    assert_eq!(
        b.check(&other, interval, burst).await.expect("redis"),
        Ok(())
    );
}

#[tokio::test]
async fn failed_logins_are_counted_across_nodes() {
    let limits = LoginLimits {
        per_account: 3,
        per_address: 0,
        window: Duration::from_secs(60),
    };
    let throttle = |cluster: Arc<Cluster>| {
        let shared: Arc<dyn FailureCounter> = Arc::new(ClusterLogins::new(cluster));
        LoginThrottle::new(limits, Some(shared))
    };
    let (a, b) = (throttle(node(30).await), throttle(node(30).await));
    let login = fresh("login");
    for (i, node) in [&a, &b, &a].into_iter().enumerate() {
        assert!(node.attempt(&login, None).await.is_ok(), "attempt {i}");
    }
    let wait = b
        .attempt(&login.to_uppercase(), None)
        .await
        .expect_err("the fourth is refused on the other node");
    assert!(
        wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert!(
        a.attempt(&fresh("login"), None).await.is_ok(),
        "another account"
    );
    // A success on one node clears the count on all.
    b.succeeded(&login, None).await;
    assert!(a.attempt(&login, None).await.is_ok());

    // The counter itself: a window from the first attempt, taken back, cleared.
    let counter = ClusterLogins::new(node(30).await);
    let key = fresh("account:key");
    let (n, left) = counter
        .attempt(&key, Duration::from_secs(5))
        .await
        .expect("redis");
    assert_eq!(n, 1);
    assert!(left > Duration::from_secs(4) && left <= Duration::from_secs(5));
    assert_eq!(
        counter
            .attempt(&key, Duration::from_secs(60))
            .await
            .expect("redis")
            .0,
        2
    );
    counter.undo(&key).await.expect("redis");
    let (n, left) = counter
        .attempt(&key, Duration::from_secs(60))
        .await
        .expect("redis");
    assert_eq!(n, 2);
    assert!(
        left <= Duration::from_secs(5),
        "the window is the first attempt's"
    );
    counter.clear(&key).await.expect("redis");
    assert_eq!(
        counter
            .attempt(&key, Duration::from_secs(5))
            .await
            .expect("redis")
            .0,
        1
    );
    counter.clear(&key).await.expect("redis");
}
