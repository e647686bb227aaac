//! What the operator console (`/admin`) and its API (`/api/admin/...`)
//! show and do, apart from HTTP: a node's overview, from the figures the
//! metrics have, and the users, disabled, enabled or their tokens revoked
//! as `confab user ...` does it ([`super::users`]).
//!
//! Decisions:
//! - The figures are the metrics': the connections are counted from the
//!   Socket.IO servers as a `/metrics` scrape counts them
//!   ([`crate::telemetry::census`]); messages stored, deliveries and
//!   refusals are read from the recorder that serves `/metrics`
//!   ([`crate::telemetry::figures`]), installed whenever the console can be
//!   used. They are this node's, since it started.
//! - Error codes are shown in lower case (`forbidden`), every dialect (and
//!   the REST API) summed.
//! - A node of a cluster lists every node with a heartbeat in Redis: `up`
//!   while it beats, `lost` once it missed two heartbeats (until a node
//!   reaps it, a TTL after its last beat). Without Redis, or while Redis is
//!   away, the list is this node alone.
//! - A user's search is a prefix of the id, username or display name (any
//!   case); pages are by id, `next` being the id to continue after.
//! - Disabling and revoking write the store only: the node's check of open
//!   sockets ([`crate::sessions`]) closes the user's sockets on every node
//!   within its period, as after the command line's.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::AdminError;
use super::users::{self, UserLine};
use crate::config::StoreKind;
use crate::core::{CoreError, Millis, UserId, now_millis};
use crate::fanout::cluster::nodes::Beat;
use crate::state::AppState;

/// Most users in a page; the default is [`DEFAULT_LIMIT`].
pub const MAX_LIMIT: u32 = 200;
/// Users in a page when the request does not say.
pub const DEFAULT_LIMIT: u32 = 50;

impl From<AdminError> for CoreError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Store(e) => e.into(),
            AdminError::NoSuchUser(_) => CoreError::NotFound("user"),
            AdminError::Refused(why) => CoreError::Invalid(why),
            AdminError::Io { .. } => CoreError::Internal(e.to_string()),
        }
    }
}

/// A node and what it serves now.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminOverview)]
pub struct Overview {
    pub node: NodeFacts,
    pub connections: Connections,
    pub messages: Messages,
    pub deliveries: Deliveries,
    pub errors: Errors,
    /// The nodes of the cluster (this one alone without Redis).
    pub nodes: Vec<NodeState>,
}

/// This node.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminNode)]
pub struct NodeFacts {
    pub id: String,
    /// confab's version.
    pub version: String,
    /// Milliseconds since the Unix epoch.
    pub started_at: Millis,
    pub uptime_secs: u64,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Whether the node is one of a cluster (through Redis).
    pub redis: bool,
}

/// A dialect's open sockets by transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = AdminTransports)]
pub struct Transports {
    pub websocket: u64,
    pub polling: u64,
}

/// The Socket.IO connections open on this node now (one per namespace a
/// client joined): `confab_connections`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminConnections)]
pub struct Connections {
    pub total: u64,
    /// By dialect name (every dialect served, open sockets or not).
    pub by_dialect: BTreeMap<String, Transports>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminMessages)]
pub struct Messages {
    /// New messages stored by this node since it started
    /// (`confab_messages_stored_total`).
    pub stored: u64,
    /// New messages a second over the last 10 s.
    pub per_second: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AdminDeliveries)]
pub struct Deliveries {
    /// New messages emitted to a recipient's socket since the node started
    /// (`confab_deliveries_total`).
    pub total: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminErrors)]
pub struct Errors {
    /// Refused requests and events since the node started
    /// (`confab_errors_total`).
    pub total: u64,
    /// By error code, in lower case (`forbidden`, `invalid_payload`, …).
    pub by_code: BTreeMap<String, u64>,
}

/// Whether a node beats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AdminNodeLiveness)]
pub enum Liveness {
    Up,
    Lost,
}

/// A node of the cluster.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminClusterNode)]
pub struct NodeState {
    pub id: String,
    pub state: Liveness,
    /// Its last heartbeat (now, for this node without Redis), milliseconds
    /// since the Unix epoch.
    pub last_seen: Millis,
    /// Its connections at its last report; null before its first.
    pub connections: Option<u64>,
}

/// The overview of the node `state` serves.
pub async fn overview(state: &AppState) -> Overview {
    let now = now_millis();
    let node = &state.node;
    let mut by_dialect = BTreeMap::new();
    for (dialect, t) in state.census.count() {
        by_dialect.insert(
            dialect.to_owned(),
            Transports {
                websocket: t.websocket as u64,
                polling: t.polling as u64,
            },
        );
    }
    let total = by_dialect.values().map(|t| t.websocket + t.polling).sum();
    let reading = node.meter.as_ref().map(|m| m.read());
    let (figures, per_second) = reading
        .map(|r| (r.figures, r.per_second))
        .unwrap_or_default();
    let by_code = figures
        .errors
        .iter()
        .map(|(code, n)| (code.to_ascii_lowercase(), *n))
        .collect();
    Overview {
        node: NodeFacts {
            id: node.id.to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: node.started_at,
            uptime_secs: u64::try_from((now - node.started_at) / 1000).unwrap_or(0),
            database: match state.config.store_kind() {
                StoreKind::Postgres => "postgres",
                StoreKind::SqliteFile | StoreKind::SqliteMemory => "sqlite",
            }
            .to_owned(),
            redis: state.cluster.is_some(),
        },
        connections: Connections { total, by_dialect },
        messages: Messages {
            stored: figures.messages_stored,
            per_second: (per_second * 100.0).round() / 100.0,
        },
        deliveries: Deliveries {
            total: figures.deliveries,
        },
        errors: Errors {
            total: figures.errors_total(),
            by_code,
        },
        nodes: nodes(state, now, total).await,
    }
}

/// The nodes of the cluster, or this one alone.
async fn nodes(state: &AppState, now: Millis, connections: u64) -> Vec<NodeState> {
    let me = NodeState {
        id: state.node.id.to_string(),
        state: Liveness::Up,
        last_seen: now,
        connections: Some(connections),
    };
    let Some(cluster) = &state.cluster else {
        return vec![me];
    };
    let beats = match cluster.nodes().await {
        Ok(beats) => beats,
        Err(e) => {
            tracing::debug!(error = %e, "the cluster's nodes could not be read");
            return vec![me];
        }
    };
    let heartbeat = i64::try_from(cluster.heartbeat().as_millis()).unwrap_or(i64::MAX);
    cluster_nodes(beats, me, heartbeat.saturating_mul(2))
}

/// The nodes Redis knows (`beats`), `lost` when silent longer than
/// `lost_after` ms; this node (`me`) with its connections counted now, and
/// listed even before its first heartbeat (or after Redis lost it), since
/// it serves.
fn cluster_nodes(beats: Vec<Beat>, me: NodeState, lost_after: i64) -> Vec<NodeState> {
    let mut list: Vec<NodeState> = beats
        .into_iter()
        .map(|b| {
            let mine = b.id == me.id;
            NodeState {
                state: if b.silent_ms > lost_after {
                    Liveness::Lost
                } else {
                    Liveness::Up
                },
                last_seen: b.last_seen,
                connections: if mine {
                    me.connections
                } else {
                    b.report.map(|r| r.connections)
                },
                id: b.id,
            }
        })
        .collect();
    if !list.iter().any(|n| n.id == me.id) {
        list.push(me);
        list.sort_by(|a, b| a.id.cmp(&b.id));
    }
    list
}

/// A user, as the console lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminUser)]
pub struct ConsoleUser {
    pub id: String,
    /// The display name, else the username, else the id.
    pub name: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub disabled: bool,
    pub deleted: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: Millis,
    /// When the user was last seen going offline; null if never.
    pub last_seen_at: Option<Millis>,
    /// Whether a socket of the user is open on some node now.
    pub online: bool,
}

impl ConsoleUser {
    fn of(line: UserLine, online: bool) -> Self {
        ConsoleUser {
            id: line.id,
            name: line.name,
            username: line.username,
            email: line.email,
            disabled: line.disabled,
            deleted: line.deleted,
            created_at: line.created_at,
            last_seen_at: line.last_seen_at,
            online,
        }
    }
}

/// A page of users.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AdminUsersPage)]
pub struct UsersPage {
    pub users: Vec<ConsoleUser>,
    /// The `after` of the next page; null on the last.
    pub next: Option<String>,
}

/// Up to `limit` users (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`])
/// whose id, username or display name starts with `query` (all if empty),
/// after the id `after` (from the start if empty), by id.
pub async fn users(
    state: &AppState,
    query: Option<&str>,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<UsersPage, AdminError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AdminError::Refused(format!(
            "limit must be 1 to {MAX_LIMIT}, not {limit}"
        )));
    }
    let store = state.service.store();
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let after = after.filter(|a| !a.is_empty());
    let lines = match query {
        None => users::list(store, after, limit).await?,
        Some(q) => {
            let after = after
                .map(UserId::parse)
                .transpose()
                .map_err(|e| AdminError::Refused(format!("after: {e}")))?;
            store
                .search_users(q, after.as_ref(), limit)
                .await?
                .iter()
                .map(UserLine::from)
                .collect()
        }
    };
    let next = (lines.len() == limit as usize)
        .then(|| lines.last().map(|l| l.id.clone()))
        .flatten();
    let ids: Vec<UserId> = lines
        .iter()
        .filter_map(|l| UserId::parse(&l.id).ok())
        .collect();
    let online = state.service.presence().online_among(&ids).await;
    let users = lines
        .into_iter()
        .map(|l| {
            let on = UserId::parse(&l.id).is_ok_and(|id| online.contains(&id));
            ConsoleUser::of(l, on)
        })
        .collect();
    Ok(UsersPage { users, next })
}

/// One user as the console lists it.
pub async fn user(state: &AppState, id: &str) -> Result<ConsoleUser, AdminError> {
    let id = UserId::parse(id).map_err(|e| AdminError::Refused(format!("user id {id:?}: {e}")))?;
    let user = state
        .service
        .store()
        .user(&id)
        .await?
        .ok_or_else(|| AdminError::NoSuchUser(id.to_string()))?;
    let online = state
        .service
        .presence()
        .online_among(std::slice::from_ref(&id))
        .await
        .contains(&id);
    Ok(ConsoleUser::of(UserLine::from(&user), online))
}

/// Disables (or enables) a user, as `confab user disable|enable` does.
pub async fn set_disabled(
    state: &AppState,
    id: &str,
    disabled: bool,
) -> Result<ConsoleUser, AdminError> {
    users::set_disabled(state.service.store(), id, disabled).await?;
    user(state, id).await
}

/// Refuses every token of a user issued until now, as `confab user
/// revoke-tokens` does.
pub async fn revoke_tokens(state: &AppState, id: &str) -> Result<ConsoleUser, AdminError> {
    users::revoke_tokens(state.service.store(), Some(id)).await?;
    user(state, id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fanout::cluster::nodes::Report;

    fn beat(id: &str, silent_ms: i64, connections: Option<u64>) -> Beat {
        Beat {
            id: id.into(),
            last_seen: 10_000 - silent_ms,
            silent_ms,
            report: connections.map(|connections| Report { connections }),
        }
    }

    fn me(connections: u64) -> NodeState {
        NodeState {
            id: "b".into(),
            state: Liveness::Up,
            last_seen: 10_000,
            connections: Some(connections),
        }
    }

    fn summary(list: &[NodeState]) -> Vec<(&str, Liveness, Option<u64>)> {
        list.iter()
            .map(|n| (n.id.as_str(), n.state, n.connections))
            .collect()
    }

    #[test]
    fn a_node_silent_for_more_than_two_heartbeats_is_lost() {
        let beats = vec![
            beat("a", 2_000, Some(4)),
            beat("b", 500, Some(1)),
            beat("c", 2_001, None),
        ];
        let list = cluster_nodes(beats, me(7), 2_000);
        assert_eq!(
            summary(&list),
            vec![
                ("a", Liveness::Up, Some(4)),
                // This node's own count is the one taken now, not its report.
                ("b", Liveness::Up, Some(7)),
                ("c", Liveness::Lost, None),
            ]
        );
        assert_eq!(list[0].last_seen, 8_000);
    }

    #[test]
    fn this_node_is_listed_before_its_first_heartbeat() {
        let list = cluster_nodes(vec![beat("c", 0, Some(2))], me(3), 2_000);
        assert_eq!(
            summary(&list),
            vec![("b", Liveness::Up, Some(3)), ("c", Liveness::Up, Some(2))]
        );
    }

    #[test]
    fn an_admin_error_maps_to_the_core_code_the_api_answers_with() {
        let code = |e: AdminError| CoreError::from(e).code().as_str();
        assert_eq!(code(AdminError::NoSuchUser("x".into())), "NOT_FOUND");
        assert_eq!(code(AdminError::Refused("bad".into())), "INVALID_PAYLOAD");
    }
}
