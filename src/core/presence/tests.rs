//! Presence on one node and on two sharing claims: arrivals, departures
//! and their grace (on tokio's paused clock), and who may see it.

use std::collections::HashMap;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::*;
use crate::core::ports::{Holders, SharedResult};

const GRACE: Duration = Duration::from_secs(3);

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

async fn online(p: &Presence, u: &UserId) -> bool {
    p.online_among(std::slice::from_ref(u)).await.contains(u)
}

/// One node's claims on a cluster kept in memory: key → holding nodes.
struct Node {
    name: &'static str,
    holders: Arc<Mutex<HashMap<String, HashSet<&'static str>>>>,
}

impl Node {
    fn count(&self, key: &str) -> u64 {
        self.holders.lock().get(key).map_or(0, |h| h.len() as u64)
    }
}

#[async_trait]
impl ClaimStore for Node {
    fn claim(&self, key: String) -> Holders {
        self.holders
            .lock()
            .entry(key.clone())
            .or_default()
            .insert(self.name);
        let n = self.count(&key);
        Box::pin(async move { Ok(n) })
    }

    fn claim_quietly(&self, key: String) {
        drop(self.claim(key));
    }

    fn release(&self, key: String) -> Holders {
        if let Some(h) = self.holders.lock().get_mut(&key) {
            h.remove(self.name);
        }
        let n = self.count(&key);
        Box::pin(async move { Ok(n) })
    }

    fn release_quietly(&self, key: String) {
        drop(self.release(key));
    }

    async fn held(&self, keys: &[String]) -> SharedResult<Vec<bool>> {
        Ok(keys.iter().map(|k| self.count(k) > 0).collect())
    }

    async fn leave(&self) -> SharedResult<Vec<String>> {
        let mut holders = self.holders.lock();
        let mut vacated = vec![];
        for (key, h) in holders.iter_mut() {
            if h.remove(self.name) && h.is_empty() {
                vacated.push(key.clone());
            }
        }
        Ok(vacated)
    }
}

/// Two nodes of one cluster, each with the grace.
fn two_nodes(grace: Duration) -> (Arc<Presence>, Arc<Presence>) {
    let holders = Arc::default();
    let node = |name| {
        let claims: Arc<dyn ClaimStore> = Arc::new(Node {
            name,
            holders: Arc::clone(&holders),
        });
        Arc::new(Presence::clustered(Some(claims), grace))
    };
    (node("a"), node("b"))
}

/// The departure the user's last socket closing started.
fn departure(closed: Closed) -> Departure {
    match closed {
        Closed::Last(d) => d,
        Closed::NotLast => panic!("not the user's last socket"),
    }
}

#[tokio::test]
async fn a_user_with_two_sockets_stays_online_until_both_close() {
    let p = Presence::default();
    let u = user("u");
    assert!(p.connect(&u).await);
    assert!(!p.connect(&u).await);
    assert_eq!(p.disconnect(&u), Closed::NotLast);
    assert!(online(&p, &u).await);
    let gone = departure(p.disconnect(&u));
    assert_eq!(p.settle(&gone).await, Some(gone.since));
    assert!(!online(&p, &u).await);
    assert_eq!(p.disconnect(&u), Closed::NotLast);
}

#[tokio::test(start_paused = true)]
async fn a_user_goes_offline_only_once_the_grace_is_over() {
    let p = Arc::new(Presence::clustered(None, GRACE));
    let u = user("u");
    assert!(p.connect(&u).await);
    let gone = departure(p.disconnect(&u));
    assert!(gone.since > 0);
    let settled = tokio::spawn({
        let (p, gone) = (p.clone(), gone.clone());
        async move { p.settle(&gone).await }
    });
    tokio::time::sleep(GRACE - Duration::from_millis(1)).await;
    assert!(!settled.is_finished());
    assert!(online(&p, &u).await, "online within the grace");
    assert!(!p.is_here(&u), "though without a socket here");
    assert_eq!(
        settled.await.unwrap(),
        Some(gone.since),
        "offline since the close"
    );
    assert!(!online(&p, &u).await);
}

#[tokio::test(start_paused = true)]
async fn a_socket_back_within_the_grace_is_no_arrival_and_cancels_the_departure() {
    let p = Arc::new(Presence::clustered(None, GRACE));
    let u = user("u");
    assert!(p.connect(&u).await);
    let first = departure(p.disconnect(&u));
    let settled = tokio::spawn({
        let p = p.clone();
        async move { p.settle(&first).await }
    });
    tokio::time::sleep(GRACE / 2).await;
    assert!(!p.connect(&u).await, "a reload is not a new arrival");
    assert_eq!(settled.await.unwrap(), None, "nor a departure");
    assert!(online(&p, &u).await);
    // Closed again: a departure of its own, with its own grace and time.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let second = departure(p.disconnect(&u));
    let started = tokio::time::Instant::now();
    assert_eq!(p.settle(&second).await, Some(second.since));
    assert_eq!(started.elapsed(), GRACE);
}

#[tokio::test(start_paused = true)]
async fn the_grace_holds_across_the_nodes_of_a_cluster() {
    let (a, b) = two_nodes(GRACE);
    let u = user("u");
    assert!(
        a.connect(&u).await,
        "the first socket anywhere is an arrival"
    );
    assert!(online(&b, &u).await, "node b sees the user on node a");
    // The page reloads onto node b within node a's grace.
    let on_a = departure(a.disconnect(&u));
    assert!(online(&b, &u).await, "node a still claims the user");
    tokio::time::sleep(GRACE / 3).await;
    assert!(
        !b.connect(&u).await,
        "not an arrival: node a still holds the user"
    );
    assert_eq!(
        a.settle(&on_a).await,
        None,
        "nor a departure: node b holds the user"
    );
    assert!(online(&a, &u).await);
    // The last socket closes for good: offline after node b's grace.
    let on_b = departure(b.disconnect(&u));
    assert!(online(&a, &u).await, "still online within the grace");
    assert_eq!(b.settle(&on_b).await, Some(on_b.since));
    assert!(!online(&a, &u).await);
    assert!(!online(&b, &u).await);
}

#[tokio::test(start_paused = true)]
async fn a_node_that_leaves_ends_the_departures_in_their_grace() {
    let (a, b) = two_nodes(GRACE);
    let (u, v) = (user("u"), user("v"));
    assert!(a.connect(&u).await);
    assert!(a.connect(&v).await);
    let gone = departure(a.disconnect(&u));
    let mut left = a.leave().await;
    left.sort();
    assert_eq!(left.len(), 2);
    assert_eq!(
        left[0],
        (u.clone(), gone.since),
        "offline since its socket closed"
    );
    assert_eq!(left[1].0, v);
    assert_eq!(a.settle(&gone).await, None, "told once, by the leave");
    assert!(!online(&b, &u).await);
}

#[test]
fn visibility_decides_who_sees_a_users_presence() {
    let (me, friend, stranger) = (user("me"), user("friend"), user("stranger"));
    let contacts = [friend.clone()];
    for (visibility, user, seen) in [
        (Visibility::Everyone, &stranger, true),
        (Visibility::Everyone, &friend, true),
        (Visibility::Contacts, &friend, true),
        (Visibility::Contacts, &stranger, false),
        (Visibility::Contacts, &me, true),
    ] {
        assert_eq!(
            visibility.allows(&me, user, &contacts),
            seen,
            "{visibility:?} {user}"
        );
    }
    assert_eq!(Visibility::default(), Visibility::Everyone);
}

#[test]
fn a_presence_claim_names_its_user() {
    let u = UserId::parse("a.b@c").unwrap();
    assert_eq!(claimed_user(&claim_key(&u)), Some(u));
    assert_eq!(claimed_user("v:1:u"), None);
}

#[tokio::test(start_paused = true)]
async fn a_stopping_node_settles_departures_at_once() {
    let p = Arc::new(Presence::clustered(None, GRACE));
    let (a, b) = (user("alice"), user("bob"));
    p.connect(&a).await;
    p.connect(&b).await;
    let Closed::Last(early) = p.disconnect(&a) else {
        panic!("alice's only socket")
    };
    let waiting = {
        let p = p.clone();
        tokio::spawn(async move { p.settle(&early).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    let start = tokio::time::Instant::now();
    p.end_graces();
    assert!(waiting.await.unwrap().is_some(), "alice went offline");
    let Closed::Last(late) = p.disconnect(&b) else {
        panic!("bob's only socket")
    };
    assert!(p.settle(&late).await.is_some(), "bob too, with no grace");
    assert!(start.elapsed() < GRACE, "neither waited out the grace");
    assert!(!online(&p, &a).await && !online(&p, &b).await);
}
