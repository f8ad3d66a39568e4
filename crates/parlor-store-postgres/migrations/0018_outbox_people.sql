-- Erasure and the webhook outbox (issue #24): a queued `notification.created` entry names whom
-- it is for and who caused it, so erasing either's account removes it before it is delivered
-- (its payload carries their name, platform id and a preview of their words).
ALTER TABLE webhook_outbox ADD COLUMN recipient_id BIGINT;
ALTER TABLE webhook_outbox ADD COLUMN actor_id BIGINT;

-- Entries queued before this migration: the same ids, read from their payload.
UPDATE webhook_outbox
SET recipient_id = (payload::jsonb #>> '{recipient,id}')::bigint, actor_id = (payload::jsonb #>> '{sender,id}')::bigint
WHERE kind = 'notification_created' AND payload IS NOT NULL;
