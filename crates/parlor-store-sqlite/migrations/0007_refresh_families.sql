-- Refresh tokens in families, one per session (a login and every token rotated from it), so a
-- reused token revokes its whole session. A spent token is kept (used_at set) until it expires,
-- to recognise its reuse. Tokens from before share family 0 per user.
ALTER TABLE refresh_tokens ADD COLUMN family INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN used_at INTEGER;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens(user_id, family);
