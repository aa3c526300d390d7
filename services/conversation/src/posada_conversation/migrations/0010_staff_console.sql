-- Staff console: who took a conversation over, a change feed for live views (version and
-- updated_at, kept by a trigger so every writer moves them), staff actions in the history
-- (take-over, release, notes, task done/undo), the audio of guests' voice notes, and the
-- names next to staff ids. Numbered 0010 to stay clear of parallel work on 0003+.

ALTER TABLE conversations
    ADD COLUMN assigned_staff_id   text NOT NULL DEFAULT '',
    ADD COLUMN assigned_staff_name text NOT NULL DEFAULT '',
    ADD COLUMN assigned_at         timestamptz,
    ADD COLUMN version             bigint NOT NULL DEFAULT 0,
    ADD COLUMN updated_at          timestamptz NOT NULL DEFAULT now();
CREATE INDEX conversations_updated_idx ON conversations (hotel_id, updated_at);

CREATE FUNCTION conversations_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;
CREATE TRIGGER conversations_touch BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_touch();

ALTER TABLE messages ADD COLUMN staff_name text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN completed_by_name text NOT NULL DEFAULT '';

CREATE TABLE staff_events (
    id                  bigserial PRIMARY KEY,
    conversation_id     text NOT NULL REFERENCES conversations ON DELETE CASCADE,
    kind                smallint NOT NULL,
    staff_id            text NOT NULL,
    staff_name          text NOT NULL DEFAULT '',
    text                text NOT NULL DEFAULT '',
    idempotency_key     text,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_events_conversation_idx ON staff_events (conversation_id, id);
CREATE UNIQUE INDEX staff_events_key_uniq ON staff_events (conversation_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Audio of inbound voice notes (outbound audio is inside messages.payload).
CREATE TABLE message_media (
    conversation_id     text NOT NULL,
    provider_message_id text NOT NULL,
    mime_type           text NOT NULL,
    data                bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, provider_message_id)
);
