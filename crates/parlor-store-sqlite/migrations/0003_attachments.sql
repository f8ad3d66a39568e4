-- Files sent as messages. The bytes live in blob storage under blob_key (and thumbnail_key).

CREATE TABLE attachments (
    -- AUTOINCREMENT: an id in an old download link never points at someone else's file.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      INTEGER NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL,
    width           INTEGER,
    height          INTEGER,
    blob_key        TEXT NOT NULL,
    thumbnail_key   TEXT,
    sha256          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    -- Set when the retention policy removed the file.
    expired_at      INTEGER
);
CREATE INDEX attachments_by_age ON attachments(created_at) WHERE expired_at IS NULL;
