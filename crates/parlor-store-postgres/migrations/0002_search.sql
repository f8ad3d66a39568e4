-- Full-text search over message contents, language-neutral like SQLite's FTS5 unicode61:
-- PostgreSQL's word parser, then `unaccent` (diacritics ignored: "cafe" finds "Café"), then
-- `simple` (lower case, no stemming, no stop words).
--
-- The index is a GIN expression index on `messages` itself, so it never lags a commit: it is
-- changed by the statement that inserts, edits or deletes a message. Deleted and system
-- messages are left out of it (search never returns them).

CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TEXT SEARCH CONFIGURATION parlor_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION parlor_search
    ALTER MAPPING FOR hword, hword_part, word, asciihword, asciiword, hword_asciipart WITH unaccent, simple;

CREATE INDEX messages_search ON messages USING GIN (to_tsvector('parlor_search', content))
    WHERE deleted_at IS NULL AND kind <> 'system';
