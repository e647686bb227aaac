//! The departments of the support desk, their agents, and their support
//! conversations.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use uuid::Uuid;

use super::pool::Pool;
use super::statements::{all, execute, ids_json, one, optional};
use super::users::ensure_users_in;
use crate::core::ids::RowRef;
use crate::core::{Agent, AgentRole, Conversation, Department, Millis, UserId};
use crate::store::StoreResult;
use crate::store::rows::{self, agent_cols, conversation_cols, department_cols};

pub(super) fn create_department(
    db: &Pool,
    creator: &UserId,
    name: &str,
    now: Millis,
) -> StoreResult<Department> {
    let json = ids_json([creator])?;
    db.write(|tx| {
        ensure_users_in(tx, &json, now)?;
        let uuid = Uuid::now_v7();
        let id = one(
            tx,
            "INSERT INTO departments (uuid, name, created_by, created_at) VALUES (?, ?, ?, ?) \
             RETURNING id",
            rusqlite::params![uuid.to_string(), name, creator.as_str(), now],
            |row| row.int("id"),
        )?;
        let department = rows::new_department(id, uuid, name, creator, now);
        execute(
            tx,
            "INSERT INTO department_agents (department_id, user_id, role, added_at) \
             VALUES (?, ?, 'admin', ?)",
            rusqlite::params![department.id, creator.as_str(), now],
        )?;
        Ok(department)
    })
}

pub(super) fn department(db: &Pool, r: RowRef) -> StoreResult<Option<Department>> {
    db.read(|conn| match r {
        RowRef::Id(id) => optional(
            conn,
            concat!(
                "SELECT ",
                department_cols!(),
                " FROM departments d WHERE d.id = ?"
            ),
            [id],
            rows::department,
        ),
        RowRef::Uuid(uuid) => optional(
            conn,
            concat!(
                "SELECT ",
                department_cols!(),
                " FROM departments d WHERE d.uuid = ?"
            ),
            [uuid.to_string()],
            rows::department,
        ),
        // Departments have no external ids.
        RowRef::External(_) => Ok(None),
    })
}

pub(super) fn departments_of(db: &Pool, user: &UserId) -> StoreResult<Vec<Department>> {
    db.read(|conn| {
        all(
            conn,
            concat!(
                "SELECT ",
                department_cols!(),
                " FROM department_agents a JOIN departments d ON d.id = a.department_id \
                 WHERE a.user_id = ? ORDER BY d.id"
            ),
            [user.as_str()],
            rows::department,
        )
    })
}

pub(super) fn agents(db: &Pool, department_id: i64) -> StoreResult<Vec<Agent>> {
    db.read(|conn| {
        all(
            conn,
            concat!(
                "SELECT ",
                agent_cols!(),
                " FROM department_agents \
                 WHERE department_id = ? ORDER BY role = 'admin' DESC, added_at, user_id"
            ),
            [department_id],
            rows::agent,
        )
    })
}

pub(super) fn agent(db: &Pool, department_id: i64, user: &UserId) -> StoreResult<Option<Agent>> {
    db.read(|conn| {
        optional(
            conn,
            concat!(
                "SELECT ",
                agent_cols!(),
                " FROM department_agents WHERE department_id = ? AND user_id = ?"
            ),
            rusqlite::params![department_id, user.as_str()],
            rows::agent,
        )
    })
}

pub(super) fn put_agent(
    db: &Pool,
    department_id: i64,
    user: &UserId,
    role: AgentRole,
    now: Millis,
) -> StoreResult<bool> {
    let json = ids_json([user])?;
    db.write(|tx| {
        ensure_users_in(tx, &json, now)?;
        let existed = optional(
            tx,
            "SELECT 1 FROM department_agents WHERE department_id = ? AND user_id = ?",
            rusqlite::params![department_id, user.as_str()],
            |_| Ok(()),
        )?
        .is_some();
        execute(
            tx,
            "INSERT INTO department_agents (department_id, user_id, role, added_at) \
             VALUES (?, ?, ?, ?) \
             ON CONFLICT (department_id, user_id) DO UPDATE SET role = excluded.role",
            rusqlite::params![department_id, user.as_str(), role.as_str(), now],
        )?;
        Ok(!existed)
    })
}

pub(super) fn remove_agent(db: &Pool, department_id: i64, user: &UserId) -> StoreResult<bool> {
    let removed = db.write(|tx| {
        execute(
            tx,
            "DELETE FROM department_agents WHERE department_id = ? AND user_id = ?",
            rusqlite::params![department_id, user.as_str()],
        )
    })?;
    Ok(removed == 1)
}

pub(super) fn support_conversations(
    db: &Pool,
    department_id: i64,
) -> StoreResult<Vec<Conversation>> {
    db.read(|conn| {
        all(
            conn,
            concat!(
                "SELECT ",
                conversation_cols!(),
                " FROM conversations c WHERE c.department_id = ? \
                 ORDER BY c.updated_at DESC, c.id DESC"
            ),
            [department_id],
            rows::conversation,
        )
    })
}
