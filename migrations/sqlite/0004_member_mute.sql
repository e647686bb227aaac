-- A member who muted a conversation gets no push notifications for it.
ALTER TABLE members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1));
