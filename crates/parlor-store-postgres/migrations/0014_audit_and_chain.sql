-- The audit log (issue #24, part 4): what admins, moderators and the server API did, kept
-- append-only: updates are refused below; only the retention sweep deletes (old rows).
CREATE TABLE audit_log (
    id         BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT,
    request_id TEXT,
    details    TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, id);
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE INDEX audit_log_target ON audit_log(target, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Verifiable transcripts (issue #24, part 5): each event commits to a hash of its content and
-- to the previous event's hash (lowercase hex SHA-256, docs/transcripts.md). Events logged
-- before this migration have none: the chain starts after them. `last_event_hash` is the
-- conversation's newest link, read and moved under the same row lock as `last_event_seq`.
ALTER TABLE events ADD COLUMN content_hash TEXT;
ALTER TABLE events ADD COLUMN metadata TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;
ALTER TABLE conversations ADD COLUMN last_event_hash TEXT;
