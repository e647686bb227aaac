-- The kind a message's sender declared when it is not the stored kind: a
-- text sent as a media kind (Syarah's messageType 1-4 with text rather than
-- a file path), shown back as it was sent. NULL for every other message.
ALTER TABLE messages ADD COLUMN declared_kind TEXT NULL
    CHECK (declared_kind IN ('audio', 'image', 'file', 'video'));
