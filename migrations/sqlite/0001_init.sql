-- confab schema for SQLite. Timestamps are milliseconds since the Unix epoch;
-- UUIDs are TEXT in hyphenated lowercase form.

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    -- Login name of password users; unique regardless of ASCII case.
    username      TEXT    NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NULL,
    avatar_url    TEXT    NULL,
    email         TEXT    NULL,
    password_hash TEXT    NULL,
    -- 1: known only by id so far (named as a member before their first token).
    placeholder   INTEGER NOT NULL DEFAULT 0 CHECK (placeholder IN (0, 1)),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NULL
);

CREATE TABLE conversations (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    uuid       TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
    title      TEXT    NULL,
    created_by TEXT    NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    -- Sequence number of the newest message (0 when empty).
    last_seq   INTEGER NOT NULL DEFAULT 0,
    -- Time of the newest message, or of creation.
    updated_at INTEGER NOT NULL,
    -- For direct conversations: "<smaller user id>\n<larger user id>", so a
    -- pair has at most one. NULL for groups.
    direct_key TEXT    NULL UNIQUE,
    CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE members (
    conversation_id    INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id            TEXT    NOT NULL REFERENCES users (id),
    role               TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at          INTEGER NOT NULL,
    last_read_seq      INTEGER NOT NULL DEFAULT 0,
    last_delivered_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
);

-- The conversations of a user; contacts.
CREATE INDEX members_user_idx ON members (user_id, conversation_id);

CREATE TABLE messages (
    id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    uuid            TEXT    NOT NULL UNIQUE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- Per-conversation sequence number, from 1, without gaps.
    seq             INTEGER NOT NULL,
    sender_id       TEXT    NOT NULL REFERENCES users (id),
    -- NULL once deleted (or for attachment-only messages).
    text            TEXT    NULL,
    -- JSON array of URLs; '[]' once deleted.
    attachments     TEXT    NOT NULL DEFAULT '[]',
    client_id       TEXT    NULL,
    created_at      INTEGER NOT NULL,
    edited_at       INTEGER NULL,
    deleted_at      INTEGER NULL,
    -- Also the index for history paging by (conversation_id, seq).
    UNIQUE (conversation_id, seq)
);

-- Idempotent sends: one message per (conversation, sender, client id).
CREATE UNIQUE INDEX messages_client_id_idx
    ON messages (conversation_id, sender_id, client_id)
    WHERE client_id IS NOT NULL;

-- Unread counting and the last live message of a conversation: a covering
-- index over the messages that are not deleted.
CREATE INDEX messages_live_idx
    ON messages (conversation_id, seq, sender_id)
    WHERE deleted_at IS NULL;
