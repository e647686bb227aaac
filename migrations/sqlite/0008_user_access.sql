-- What an operator decides about a user (`confab user ...`):
-- disabled: 1 while the user may not log in nor use a token;
-- tokens_valid_after: tokens issued before this time (ms) are refused;
-- deleted_at: the account was deleted (ms); the row stays, emptied of
-- personal data, so the messages it sent keep a sender ("deleted user").
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
ALTER TABLE users ADD COLUMN tokens_valid_after INTEGER NULL;
ALTER TABLE users ADD COLUMN deleted_at INTEGER NULL;

-- Settings of the whole store, by name. 'tokens_valid_after': the time of
-- the last revocation of every user's tokens (`confab user revoke-tokens
-- --all`), given to the users created after it (ms).
CREATE TABLE settings (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);
