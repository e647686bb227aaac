-- Message kinds, friendships, push devices, uploads, and an index of the
-- attachments of messages per conversation.

-- What a message carries: 'text', or the kind of its one attachment.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'audio', 'image', 'file', 'video'));

-- One row per unordered pair of users: user_lo < user_hi are the pair in
-- byte order, requester/addressee who asked whom.
CREATE TABLE friendships (
    user_lo    TEXT    NOT NULL REFERENCES users (id),
    user_hi    TEXT    NOT NULL REFERENCES users (id),
    requester  TEXT    NOT NULL REFERENCES users (id),
    addressee  TEXT    NOT NULL REFERENCES users (id),
    -- 0 pending, 1 accepted, 2 rejected, 3 blocked.
    status     INTEGER NOT NULL CHECK (status IN (0, 1, 2, 3)),
    -- Who blocked, when status is 3.
    blocked_by TEXT    NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_lo, user_hi),
    CHECK (user_lo < user_hi),
    CHECK ((requester = user_lo AND addressee = user_hi)
        OR (requester = user_hi AND addressee = user_lo)),
    CHECK ((status = 3) = (blocked_by IS NOT NULL)),
    CHECK (blocked_by IS NULL OR blocked_by IN (user_lo, user_hi))
);

-- The friendships of a user, from the other side of the key.
CREATE INDEX friendships_hi_idx ON friendships (user_hi);

-- Push tokens: a token belongs to one user (re-registering moves it).
CREATE TABLE devices (
    token      TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id),
    platform   TEXT    NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    created_at INTEGER NOT NULL
);

CREATE INDEX devices_user_idx ON devices (user_id);

-- Files uploaded to this server, by server path.
CREATE TABLE uploads (
    path         TEXT    NOT NULL PRIMARY KEY,
    owner        TEXT    NOT NULL REFERENCES users (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('text', 'audio', 'image', 'file', 'video')),
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    created_at   INTEGER NOT NULL
);

-- The attachment URLs of the live messages of each conversation, so that
-- forwarding an attachment within a conversation is an index lookup.
-- Written with the message; removed when the message is deleted.
CREATE TABLE message_attachments (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    path            TEXT    NOT NULL,
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, path, message_id)
);

CREATE INDEX message_attachments_message_idx ON message_attachments (message_id);

INSERT INTO message_attachments (conversation_id, path, message_id)
SELECT DISTINCT m.conversation_id, j.value, m.id
FROM messages m, json_each(m.attachments) j
WHERE m.deleted_at IS NULL AND j.type = 'text';
