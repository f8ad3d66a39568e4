-- Full-text search over message contents, language-neutral like SQLite's FTS5 unicode61:
-- every character that is not a letter or digit becomes a space first (punctuation only
-- separates words; PostgreSQL's parser would otherwise read tags, e-mail addresses, URLs and
-- paths as single tokens, and skip what is between <script> tags), then PostgreSQL's word
-- parser, `unaccent` (diacritics ignored: "cafe" finds "Café") and `simple` (lower case, no
-- stemming, no stop words). The replacement keeps one character per character, so a
-- highlighted excerpt maps back onto the text as written (`search::restore`).
--
-- The index is a GIN expression index on `messages` itself, so it never lags a commit: it is
-- changed by the statement that inserts, edits or deletes a message. Deleted and system
-- messages are left out of it (search never returns them).

CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TEXT SEARCH CONFIGURATION parlor_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION parlor_search
    ALTER MAPPING FOR hword, hword_part, word, asciihword, asciiword, hword_asciipart, numword, hword_numpart
    WITH unaccent, simple;

CREATE INDEX messages_search ON messages
    USING GIN (to_tsvector('parlor_search', regexp_replace(content, '[^[:alnum:]]', ' ', 'g')))
    WHERE deleted_at IS NULL AND kind <> 'system';
