-- Support desk: departments, their agents, and support conversations (a
-- group conversation opened by a visitor in a department).

CREATE TABLE departments (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    uuid       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    created_by TEXT    NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);

CREATE TABLE department_agents (
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    user_id       TEXT    NOT NULL REFERENCES users (id),
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'agent')),
    added_at      INTEGER NOT NULL,
    PRIMARY KEY (department_id, user_id)
);

-- The departments of a user.
CREATE INDEX department_agents_user_idx ON department_agents (user_id, department_id);

-- Set on support conversations only.
ALTER TABLE conversations ADD COLUMN department_id INTEGER NULL REFERENCES departments (id);

-- The support conversations of a department, most recently active first.
CREATE INDEX conversations_department_idx ON conversations (department_id, updated_at)
    WHERE department_id IS NOT NULL;
