-- Webhooks: registered endpoints, the outbox of events to deliver, and a delivery log.

CREATE TABLE webhooks (
    -- AUTOINCREMENT: a deleted endpoint's id never names a new one in old delivery logs.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url        TEXT NOT NULL,
    -- JSON array of event types; NULL means every type.
    events     TEXT,
    secret     TEXT NOT NULL,
    -- The last outbox id delivered (or skipped as unwanted); only ever moves forward.
    cursor     INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- One row per logged event, in commit order across conversations. AUTOINCREMENT: ids are
-- never reused after pruning, so a receiver can dedupe on them.
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

-- Filled by the database itself, so every path that logs an event writes its outbox row in
-- the same transaction. Receipts are too frequent to be webhook events; with no endpoint
-- there is nothing to fill.
CREATE TRIGGER webhook_outbox_fill AFTER INSERT ON events
WHEN NEW.kind NOT IN ('messages_read', 'messages_delivered') AND EXISTS (SELECT 1 FROM webhooks)
BEGIN
    INSERT INTO webhook_outbox (conversation_id, seq, kind, created_at)
    VALUES (NEW.conversation_id, NEW.seq, NEW.kind, NEW.created_at);
END;

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    outbox_id   INTEGER NOT NULL,
    event_type  TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    -- The HTTP status, or NULL with an error when there was no answer.
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, id);
