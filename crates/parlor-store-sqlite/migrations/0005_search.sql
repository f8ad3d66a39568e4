-- Full-text search over message contents: an FTS5 index whose text stays in `messages`
-- (external content). Case and diacritics are ignored ("cafe" finds "Café"). A deleted
-- message's content is '', so its tombstone has no terms and never matches.
--
-- The index never lags a commit: every write transaction that stores messages indexes them
-- before it commits (`search::index_pending`), and edits and deletes change the index through
-- the triggers below, in the statement that changes the message. New messages are queued by a
-- trigger and indexed once per transaction because FTS5 flushes its pending terms at every
-- statement and savepoint: indexing each insert on its own writes one tiny segment per message
-- and costs the batch writer several times more (docs/benchmarks.md).

CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Messages stored but not yet indexed; empty between transactions.
CREATE TABLE messages_fts_pending (message_id INTEGER PRIMARY KEY);

CREATE TRIGGER messages_fts_queue AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts_pending (message_id) VALUES (new.id);
END;

-- An external-content index forgets a row by being told the text it indexed. A message still
-- queued is not in the index yet: it is indexed with its current content when the queue drains.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE message_id = old.id) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content
        WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE message_id = old.id);
    DELETE FROM messages_fts_pending WHERE message_id = old.id;
END;

INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
