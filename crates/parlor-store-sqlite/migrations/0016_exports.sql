-- Self-service data exports (docs/privacy.md §5). The job's state is kept here, not in a
-- node's memory: a node that stops mid-build leaves a claim (`lease_until`) that runs out, and
-- the next run takes the export over.
CREATE TABLE exports (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- pending | running | ready | failed | expired
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    -- While running: the run's claim lasts until then.
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER,
    -- A ready archive is deleted then.
    expires_at  INTEGER,
    size_bytes  INTEGER,
    -- The archive's key in blob storage, while ready.
    blob_key    TEXT,
    -- Why it failed: too_large, interrupted, failed.
    error       TEXT
);
CREATE INDEX exports_by_user ON exports(user_id, id);
CREATE INDEX exports_by_status ON exports(status, id);
-- One export in progress per person, whichever node takes the request.
CREATE UNIQUE INDEX exports_in_progress ON exports(user_id) WHERE status IN ('pending', 'running');
