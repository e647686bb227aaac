-- What senders said of their attachments (name, size, content type, width,
-- height, duration): NULL when no attachment of the message has any (every
-- row stored before this column), else a JSON array of one object per URL
-- of `attachments`, in order. NULL once deleted.
ALTER TABLE messages ADD COLUMN attachment_meta TEXT COLLATE "C" NULL;
