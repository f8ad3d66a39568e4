-- Presence (last seen), notifications, per-conversation mute, blocks, reports, server admins
-- and disabled users, and the system user that platform notices are posted as.

ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
ALTER TABLE users ADD COLUMN hide_last_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

-- Id 0 is never handed out by SQLite; lookups from the API skip it. It has no credentials.
INSERT INTO users (id, display_name, created_at) VALUES (0, 'System', 0);

ALTER TABLE members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX blocks_by_blocked ON blocks(blocked_id, blocker_id);

CREATE TABLE notifications (
    -- AUTOINCREMENT: a folded notification is re-inserted and must get a newer id than any before.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- message | mention | room_added | connection_request
    kind            TEXT NOT NULL,
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    message_id      INTEGER REFERENCES messages(id),
    actor_id        INTEGER REFERENCES users(id),
    connection_id   INTEGER,
    -- Messages received while away collapse into one unread notification per conversation.
    count           INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    read_at         INTEGER
);
CREATE INDEX notifications_by_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_collapsed ON notifications(user_id, conversation_id)
    WHERE kind = 'message' AND read_at IS NULL;

CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages(id),
    reporter_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (message_id, reporter_id)
);
