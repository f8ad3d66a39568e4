-- The words of the full-text index, so that a search can turn a prefix into the words it starts
-- (`search.rs`). FTS5 answers a prefix query by merging the entries of every word with that
-- prefix into one list before it returns a row: for a word in most messages that is a pass over
-- most of the index, whatever the page. The same words asked for one by one (`"kaka" OR
-- "kakas"`) are read lazily, newest first, and the read stops at the page.
--
-- Words are only ever added here (a word of a deleted message stays, and matches nothing); an
-- erasure rewrites the index and then drops the words it no longer holds (`search::scrub`).
CREATE TABLE messages_fts_words (word TEXT PRIMARY KEY) WITHOUT ROWID;

-- Text indexed in the current transaction, read by the index's own tokenizer only to learn its
-- words; emptied before each commit (`search::index_pending`), so nothing stays. Its text is
-- `messages`' (external content, as for `messages_fts`), so reading it reads no copy.
CREATE VIRTUAL TABLE messages_fts_words_pending USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    detail = none,
    columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE messages_fts_words_pending_vocab USING fts5vocab(messages_fts_words_pending, 'row');

-- The index's own vocabulary: read once here to fill the table, and by an erasure's scrub.
CREATE VIRTUAL TABLE messages_fts_vocab USING fts5vocab(messages_fts, 'row');

-- An edit indexes its text in the trigger (0005): its words are learnt with the transaction's.
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE message_id = old.id) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
    INSERT INTO messages_fts_words_pending (rowid, content) VALUES (new.id, new.content);
END;

INSERT INTO messages_fts_words (word) SELECT term FROM messages_fts_vocab;
