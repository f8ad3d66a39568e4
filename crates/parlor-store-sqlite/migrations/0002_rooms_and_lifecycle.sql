-- Rooms with roles, context-linked and archived conversations, former members' visibility,
-- delivery receipts, system messages, edits with kept versions, soft deletes, reactions,
-- forwarding, and connections between users.

ALTER TABLE conversations ADD COLUMN avatar_url TEXT;
ALTER TABLE conversations ADD COLUMN context_type TEXT;
ALTER TABLE conversations ADD COLUMN context_id TEXT;
ALTER TABLE conversations ADD COLUMN context_title TEXT;
-- context type, id and the sorted participant ids: one conversation per context and group.
ALTER TABLE conversations ADD COLUMN context_key TEXT;
ALTER TABLE conversations ADD COLUMN archived_at INTEGER;
CREATE UNIQUE INDEX conversations_by_context_key ON conversations(context_key) WHERE context_key IS NOT NULL;
CREATE INDEX conversations_by_context ON conversations(context_type, context_id) WHERE context_type IS NOT NULL;

ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
-- 0 once the member left or was removed; the row stays so they keep their history.
ALTER TABLE members ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
-- For former members: the last message seq and event seq they may read.
ALTER TABLE members ADD COLUMN visible_message_seq INTEGER;
ALTER TABLE members ADD COLUMN visible_event_seq INTEGER;
ALTER TABLE members ADD COLUMN delivered_seq INTEGER NOT NULL DEFAULT 0;

ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
-- For system messages: what happened, as JSON.
ALTER TABLE messages ADD COLUMN system TEXT;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
ALTER TABLE messages ADD COLUMN forwarded INTEGER NOT NULL DEFAULT 0;

-- Earlier contents of edited and deleted messages, for moderation only; never served to users.
CREATE TABLE message_versions (
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    content     TEXT NOT NULL,
    replaced_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, version)
) WITHOUT ROWID;

CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;

CREATE TABLE connections (
    -- AUTOINCREMENT: a deleted connection's id is never handed to a new one.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    requester_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    addressee_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    -- "low:high": one connection per pair, whoever asked.
    pair_key     TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);
CREATE INDEX connections_by_requester ON connections(requester_id);
CREATE INDEX connections_by_addressee ON connections(addressee_id);
