-- Reaching people who are away (issue #21): an email address per user, what was mailed to whom
-- per conversation, and notifications in the webhook outbox.

-- The host platform's `email` claim, or what a standalone user set in their profile.
ALTER TABLE users ADD COLUMN email TEXT;

-- Per user and conversation: the newest notification a mail covered and when it went. A
-- notification is due when it is unread, newer than `through_id` and older than the user's
-- delay, and the last mail is older than the delay too (one mail per conversation per window).
CREATE TABLE email_sent (
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    through_id      INTEGER NOT NULL,
    mailed_at       INTEGER NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
) WITHOUT ROWID;

-- The mailer looks for unread notifications by age.
CREATE INDEX notifications_unread_by_age ON notifications(created_at) WHERE read_at IS NULL;

-- A `notification.created` entry carries its delivery's `data` as JSON, written when the
-- notification was made (whether the recipient was online is true only of that moment).
-- NULL for logged events, which are loaded from `events` when delivered.
ALTER TABLE webhook_outbox ADD COLUMN payload TEXT;
