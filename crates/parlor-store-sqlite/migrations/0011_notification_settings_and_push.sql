-- Notification preferences (issue 21) and Web Push subscriptions.

-- One row per user who changed anything; no row means the defaults (push and email on).
CREATE TABLE notification_settings (
    user_id             INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    push                INTEGER NOT NULL DEFAULT 1,
    email               INTEGER NOT NULL DEFAULT 1,
    -- NULL: the server's `email.delay_minutes`.
    email_delay_minutes INTEGER,
    -- Quiet hours: minutes after local midnight, and an IANA zone; all three or none.
    quiet_start         INTEGER,
    quiet_end           INTEGER,
    quiet_time_zone     TEXT,
    updated_at          INTEGER NOT NULL
) WITHOUT ROWID;

-- A browser's push subscription (PushSubscription.toJSON()): one per endpoint, which
-- identifies the browser profile; registering an endpoint again replaces its row.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    -- The browser's P-256 public key and auth secret, base64url as the browser gave them.
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions(user_id);
