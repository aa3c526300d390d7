-- Conversation history: conversations, messages in both directions, bookings the agent made,
-- handoffs to staff and staff tasks. Enum columns hold the proto enum numbers.

CREATE TABLE conversations (
    conversation_id     text PRIMARY KEY,
    hotel_id            text NOT NULL,
    channel             smallint NOT NULL,
    business_account_id text NOT NULL DEFAULT '',
    guest_id            text NOT NULL,
    guest_phone         text NOT NULL DEFAULT '',
    guest_email         text NOT NULL DEFAULT '',
    guest_name          text NOT NULL DEFAULT '',
    language            text NOT NULL DEFAULT 'es',
    state               smallint NOT NULL DEFAULT 1,
    handoff_reason      text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_message_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_recent_idx ON conversations (last_message_at DESC, conversation_id DESC);
CREATE INDEX conversations_hotel_idx ON conversations (hotel_id, last_message_at DESC);
CREATE INDEX conversations_state_idx ON conversations (state, last_message_at DESC);

CREATE TABLE messages (
    id                  bigserial PRIMARY KEY,
    conversation_id     text NOT NULL REFERENCES conversations ON DELETE CASCADE,
    direction           smallint NOT NULL,
    author              smallint NOT NULL,
    kind                smallint NOT NULL DEFAULT 1,
    provider_message_id text,
    reply_id            text,
    -- For outbound agent replies: the inbound message they answer.
    in_reply_to         text,
    text                text NOT NULL DEFAULT '',
    intent              text NOT NULL DEFAULT '',
    status              smallint NOT NULL DEFAULT 0,
    error               text NOT NULL DEFAULT '',
    -- Serialized hotel.channel.v1.Reply of an outbound message, so a redelivery replays it.
    payload             bytea,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_inbound_uniq ON messages (conversation_id, provider_message_id)
    WHERE direction = 1;
CREATE UNIQUE INDEX messages_reply_uniq ON messages (conversation_id, reply_id)
    WHERE reply_id IS NOT NULL;
CREATE INDEX messages_provider_idx ON messages (provider_message_id)
    WHERE provider_message_id IS NOT NULL;

CREATE TABLE bookings (
    idempotency_key     text PRIMARY KEY,
    conversation_id     text NOT NULL REFERENCES conversations ON DELETE CASCADE,
    hotel_id            text NOT NULL,
    booking_id          text NOT NULL,
    reference           text NOT NULL,
    room_type_id        text NOT NULL,
    room_type_name      text NOT NULL DEFAULT '',
    check_in            date NOT NULL,
    check_out           date NOT NULL,
    adults              integer NOT NULL,
    children            integer NOT NULL DEFAULT 0,
    total_minor         bigint NOT NULL,
    currency_code       text NOT NULL,
    status              smallint NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bookings_reference_idx ON bookings (hotel_id, reference);

CREATE TABLE handoffs (
    id                  bigserial PRIMARY KEY,
    conversation_id     text NOT NULL REFERENCES conversations ON DELETE CASCADE,
    reason              text NOT NULL,
    started_at          timestamptz NOT NULL DEFAULT now(),
    released_at         timestamptz,
    released_by         text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX handoffs_open_uniq ON handoffs (conversation_id) WHERE released_at IS NULL;

CREATE TABLE tasks (
    task_id             uuid PRIMARY KEY,
    conversation_id     text NOT NULL REFERENCES conversations ON DELETE CASCADE,
    hotel_id            text NOT NULL,
    kind                smallint NOT NULL,
    status              smallint NOT NULL DEFAULT 1,
    description         text NOT NULL,
    booking_reference   text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    completed_at        timestamptz,
    completed_by        text NOT NULL DEFAULT '',
    note                text NOT NULL DEFAULT ''
);
CREATE INDEX tasks_hotel_idx ON tasks (hotel_id, status, created_at DESC);
