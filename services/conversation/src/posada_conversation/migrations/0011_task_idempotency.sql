-- OpenTask: a caller (the gateway, for a dead-lettered guest message) may ask for the same task
-- again; the key it sends makes the second request find the first task instead of a copy.
-- Tasks the agent opens itself keep a NULL key. Numbered after 0010 (staff console).

ALTER TABLE tasks ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX tasks_key_uniq ON tasks (conversation_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
