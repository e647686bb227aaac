//! The departments of the support desk, their agents, and their support
//! conversations.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use sqlx::postgres::PgPool;
use sqlx::query;
use uuid::Uuid;

use super::error::DbResult;
use super::statements::{all, execute, id_array, one, optional};
use super::users::ensure_users_in;
use crate::core::ids::RowRef;
use crate::core::{Agent, AgentRole, Conversation, Department, Millis, UserId};
use crate::store::StoreResult;
use crate::store::rows::{self, agent_cols, conversation_cols, department_cols};

pub(super) async fn create_department(
    pool: &PgPool,
    creator: &UserId,
    name: &str,
    now: Millis,
) -> StoreResult<Department> {
    let mut tx = pool.begin().await.db()?;
    ensure_users_in(&mut tx, &id_array([creator]), now).await?;
    let uuid = Uuid::now_v7();
    let id = one(
        &mut *tx,
        query(
            "INSERT INTO departments (uuid, name, created_by, created_at) \
             VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(uuid.to_string())
        .bind(name)
        .bind(creator.as_str())
        .bind(now),
        |row| row.int("id"),
    )
    .await?;
    execute(
        &mut *tx,
        query(
            "INSERT INTO department_agents (department_id, user_id, role, added_at) \
             VALUES ($1, $2, 'admin', $3)",
        )
        .bind(id)
        .bind(creator.as_str())
        .bind(now),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(rows::new_department(id, uuid, name, creator, now))
}

pub(super) async fn department(pool: &PgPool, r: RowRef) -> StoreResult<Option<Department>> {
    let q = match r {
        RowRef::Id(id) => query(concat!(
            "SELECT ",
            department_cols!(),
            " FROM departments d WHERE d.id = $1"
        ))
        .bind(id),
        RowRef::Uuid(uuid) => query(concat!(
            "SELECT ",
            department_cols!(),
            " FROM departments d WHERE d.uuid = $1"
        ))
        .bind(uuid.to_string()),
        // Departments have no external ids.
        RowRef::External(_) => return Ok(None),
    };
    optional(pool, q, rows::department).await
}

pub(super) async fn departments_of(pool: &PgPool, user: &UserId) -> StoreResult<Vec<Department>> {
    all(
        pool,
        query(concat!(
            "SELECT ",
            department_cols!(),
            " FROM department_agents a JOIN departments d ON d.id = a.department_id \
             WHERE a.user_id = $1 ORDER BY d.id"
        ))
        .bind(user.as_str()),
        rows::department,
    )
    .await
}

pub(super) async fn agents(pool: &PgPool, department_id: i64) -> StoreResult<Vec<Agent>> {
    all(
        pool,
        query(concat!(
            "SELECT ",
            agent_cols!(),
            " FROM department_agents \
             WHERE department_id = $1 ORDER BY role = 'admin' DESC, added_at, user_id"
        ))
        .bind(department_id),
        rows::agent,
    )
    .await
}

pub(super) async fn agent(
    pool: &PgPool,
    department_id: i64,
    user: &UserId,
) -> StoreResult<Option<Agent>> {
    optional(
        pool,
        query(concat!(
            "SELECT ",
            agent_cols!(),
            " FROM department_agents WHERE department_id = $1 AND user_id = $2"
        ))
        .bind(department_id)
        .bind(user.as_str()),
        rows::agent,
    )
    .await
}

pub(super) async fn put_agent(
    pool: &PgPool,
    department_id: i64,
    user: &UserId,
    role: AgentRole,
    now: Millis,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await.db()?;
    ensure_users_in(&mut tx, &id_array([user]), now).await?;
    // Insert, or else change the role of the row that is there: which of
    // the two happened is the answer.
    let added = execute(
        &mut *tx,
        query(
            "INSERT INTO department_agents (department_id, user_id, role, added_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (department_id, user_id) DO NOTHING",
        )
        .bind(department_id)
        .bind(user.as_str())
        .bind(role.as_str())
        .bind(now),
    )
    .await?
        == 1;
    if !added {
        execute(
            &mut *tx,
            query(
                "UPDATE department_agents SET role = $3 \
                 WHERE department_id = $1 AND user_id = $2",
            )
            .bind(department_id)
            .bind(user.as_str())
            .bind(role.as_str()),
        )
        .await?;
    }
    tx.commit().await.db()?;
    Ok(added)
}

pub(super) async fn remove_agent(
    pool: &PgPool,
    department_id: i64,
    user: &UserId,
) -> StoreResult<bool> {
    let removed = execute(
        pool,
        query("DELETE FROM department_agents WHERE department_id = $1 AND user_id = $2")
            .bind(department_id)
            .bind(user.as_str()),
    )
    .await?;
    Ok(removed == 1)
}

pub(super) async fn support_conversations(
    pool: &PgPool,
    department_id: i64,
) -> StoreResult<Vec<Conversation>> {
    all(
        pool,
        query(concat!(
            "SELECT ",
            conversation_cols!(),
            " FROM conversations c WHERE c.department_id = $1 \
             ORDER BY c.updated_at DESC, c.id DESC"
        ))
        .bind(department_id),
        rows::conversation,
    )
    .await
}
