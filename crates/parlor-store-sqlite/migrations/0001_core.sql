-- parlor core schema: users, refresh tokens, conversations, members, messages, event log.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT COLLATE NOCASE UNIQUE,
    external_id   TEXT UNIQUE,
    display_name  TEXT NOT NULL,
    avatar_url    TEXT,
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    -- "low:high" user ids for direct conversations: one DM per pair.
    direct_key       TEXT UNIQUE,
    title            TEXT,
    created_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    last_message_id  INTEGER,
    last_message_seq INTEGER NOT NULL DEFAULT 0,
    last_event_seq   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at       INTEGER NOT NULL,
    last_read_seq   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members(user_id, conversation_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    event_seq       INTEGER NOT NULL,
    sender_id       INTEGER NOT NULL REFERENCES users(id),
    content         TEXT NOT NULL,
    reply_to        INTEGER REFERENCES messages(id),
    client_id       TEXT,
    created_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_idempotency ON messages(conversation_id, sender_id, client_id) WHERE client_id IS NOT NULL;

-- Every change to a conversation, numbered per conversation with no gaps. Rows point at what
-- changed instead of copying it, so a later delete removes content everywhere at once.
CREATE TABLE events (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    message_id      INTEGER REFERENCES messages(id),
    actor_id        INTEGER REFERENCES users(id),
    data            TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
