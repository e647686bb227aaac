-- Ids kept from the system a conversation or message was imported from
-- (`confab import`, the provisioning API) when they are neither a positive
-- integer (which becomes the row's id) nor a UUID (which becomes its uuid):
-- a Mongo ObjectId, a slug. Unique among conversations, and among messages
-- (of every conversation). NULL for everything else.
ALTER TABLE conversations ADD COLUMN external_id TEXT COLLATE "C" NULL;
CREATE UNIQUE INDEX conversations_external_id_idx ON conversations (external_id)
    WHERE external_id IS NOT NULL;

ALTER TABLE messages ADD COLUMN external_id TEXT COLLATE "C" NULL;
CREATE UNIQUE INDEX messages_external_id_idx ON messages (external_id)
    WHERE external_id IS NOT NULL;
