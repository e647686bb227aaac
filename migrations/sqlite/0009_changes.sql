-- The change feed of `GET /api/sync`: one row per change of a conversation,
-- written by the triggers below in the transaction of the change itself
-- (so also in the group commit of new messages). SQLite has one writer at a
-- time, so the AUTOINCREMENT id is the order in which changes committed.
-- The feed starts with this migration: changes made before it have no row.
--
-- kind: message.created | message.edited | message.deleted (message_id),
-- read | delivered (user_id, seq: the watermark), member.added (user_id,
-- role), member.removed (user_id), conversation.created,
-- conversation.updated (its title, or a member's role, changed).
-- at: when it happened (ms): the message's, member's or conversation's own
-- time where the row has one, else the database's clock.
CREATE TABLE changes (
    id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    message_id      INTEGER NULL,
    user_id         TEXT    NULL,
    seq             INTEGER NULL,
    role            TEXT    NULL,
    at              INTEGER NOT NULL
);

-- The changes of a conversation, in order.
CREATE INDEX changes_conversation_idx ON changes (conversation_id, id);

-- Who may see which changes: user_id was a member of the conversation from
-- the change from_change to until_change (its member.removed; NULL while a
-- member). A span starts with the member.added changes right before the
-- member's own (the members added with it, such as those of a new
-- conversation), so a member learns who joined together with it. The members at the time of this
-- migration are members since change 0.
CREATE TABLE member_spans (
    conversation_id INTEGER NOT NULL,
    user_id         TEXT    NOT NULL,
    from_change     INTEGER NOT NULL,
    until_change    INTEGER NULL
);

CREATE INDEX member_spans_user_idx ON member_spans (user_id, conversation_id);

INSERT INTO member_spans (conversation_id, user_id, from_change)
SELECT conversation_id, user_id, 0 FROM members;

CREATE TRIGGER changes_conversation_created AFTER INSERT ON conversations
BEGIN
    INSERT INTO changes (conversation_id, kind, at)
    VALUES (NEW.id, 'conversation.created', NEW.created_at);
END;

CREATE TRIGGER changes_conversation_titled AFTER UPDATE OF title ON conversations
WHEN NEW.title IS NOT OLD.title
BEGIN
    INSERT INTO changes (conversation_id, kind, at)
    VALUES (NEW.id, 'conversation.updated',
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER changes_message_created AFTER INSERT ON messages
BEGIN
    INSERT INTO changes (conversation_id, kind, message_id, at)
    VALUES (NEW.conversation_id, 'message.created', NEW.id, NEW.created_at);
END;

CREATE TRIGGER changes_message_edited AFTER UPDATE OF edited_at ON messages
WHEN NEW.deleted_at IS NULL AND NEW.edited_at IS NOT OLD.edited_at
BEGIN
    INSERT INTO changes (conversation_id, kind, message_id, at)
    VALUES (NEW.conversation_id, 'message.edited', NEW.id, NEW.edited_at);
END;

CREATE TRIGGER changes_message_deleted AFTER UPDATE OF deleted_at ON messages
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
    INSERT INTO changes (conversation_id, kind, message_id, at)
    VALUES (NEW.conversation_id, 'message.deleted', NEW.id, NEW.deleted_at);
END;

CREATE TRIGGER changes_read AFTER UPDATE OF last_read_seq ON members
WHEN NEW.last_read_seq > OLD.last_read_seq
BEGIN
    INSERT INTO changes (conversation_id, kind, user_id, seq, at)
    VALUES (NEW.conversation_id, 'read', NEW.user_id, NEW.last_read_seq,
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER changes_delivered AFTER UPDATE OF last_delivered_seq ON members
WHEN NEW.last_delivered_seq > OLD.last_delivered_seq
BEGIN
    INSERT INTO changes (conversation_id, kind, user_id, seq, at)
    VALUES (NEW.conversation_id, 'delivered', NEW.user_id, NEW.last_delivered_seq,
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER changes_member_role AFTER UPDATE OF role ON members
WHEN NEW.role <> OLD.role
BEGIN
    INSERT INTO changes (conversation_id, kind, user_id, role, at)
    VALUES (NEW.conversation_id, 'conversation.updated', NEW.user_id, NEW.role,
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER changes_member_added AFTER INSERT ON members
BEGIN
    INSERT INTO changes (conversation_id, kind, user_id, role, at)
    VALUES (NEW.conversation_id, 'member.added', NEW.user_id, NEW.role, NEW.joined_at);
    INSERT INTO member_spans (conversation_id, user_id, from_change)
    VALUES (NEW.conversation_id, NEW.user_id,
            COALESCE((SELECT MAX(id) FROM changes
                      WHERE conversation_id = NEW.conversation_id
                        AND kind <> 'member.added'), 0) + 1);
END;

CREATE TRIGGER changes_member_removed AFTER DELETE ON members
BEGIN
    INSERT INTO changes (conversation_id, kind, user_id, at)
    VALUES (OLD.conversation_id, 'member.removed', OLD.user_id,
            CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
    UPDATE member_spans SET until_change = (SELECT MAX(id) FROM changes)
    WHERE conversation_id = OLD.conversation_id AND user_id = OLD.user_id
      AND until_change IS NULL;
END;
