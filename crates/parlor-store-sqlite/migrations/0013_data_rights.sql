-- Data rights (docs/privacy.md): erased accounts, per-conversation retention (disappearing
-- messages) and the legal hold that suspends retention and erasure in a conversation.

-- Set once the account was erased: the row stays, emptied, so the ids other rows hold (messages'
-- senders, the event log's actors) still point somewhere, shown as "Deleted user".
ALTER TABLE users ADD COLUMN erased_at INTEGER;

-- Messages older than this many seconds are erased by the retention sweeper; NULL: the
-- server-wide `retention.messages_days` only.
ALTER TABLE conversations ADD COLUMN retention_secs INTEGER;
-- Set while a legal hold (server API) keeps everything: no retention sweep, no erasure of content.
ALTER TABLE conversations ADD COLUMN legal_hold_at INTEGER;

-- The sweeper's walks: live (not deleted, not system) messages by age, server-wide and per
-- conversation.
CREATE INDEX messages_live_by_age ON messages(created_at) WHERE deleted_at IS NULL AND kind <> 'system';
CREATE INDEX messages_live_by_conversation_age ON messages(conversation_id, created_at)
    WHERE deleted_at IS NULL AND kind <> 'system';

-- (FTS5's secure-delete is not turned on: on SQLite 3.46.0 it corrupts the index when a row is
-- deleted and indexed again in one transaction, as every edit does. An erasure scrubs the
-- index instead: search::scrub.)
