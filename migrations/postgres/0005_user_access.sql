-- What an operator decides about a user (`confab user ...`):
-- disabled: TRUE while the user may not log in nor use a token;
-- tokens_valid_after: tokens issued before this time (ms) are refused;
-- deleted_at: the account was deleted (ms); the row stays, emptied of
-- personal data, so the messages it sent keep a sender ("deleted user").
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN tokens_valid_after BIGINT NULL;
ALTER TABLE users ADD COLUMN deleted_at BIGINT NULL;

-- Settings of the whole store, by name. 'tokens_valid_after': the time of
-- the last revocation of every user's tokens (`confab user revoke-tokens
-- --all`), given to the users created after it (ms).
CREATE TABLE settings (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
);
