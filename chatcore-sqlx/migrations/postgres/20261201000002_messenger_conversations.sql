-- The messenger's conversations, members, messages and images.
-- Ids are UUIDs. Times are BIGINT microseconds since the Unix epoch (not
-- TIMESTAMPTZ as in the older tables): the same representation as SQLite,
-- so both backends share these tables' statements and row decoding.

CREATE TABLE conversations (
    id         UUID   NOT NULL PRIMARY KEY,
    kind       TEXT   NOT NULL CHECK (kind IN ('direct', 'group')),
    title      TEXT,
    -- The two members' ids in order, for a direct conversation (one per
    -- pair); NULL for a group (NULLs are never equal, so groups never clash).
    direct_key TEXT   UNIQUE,
    -- The seq the next message gets (1 for an empty conversation). A message
    -- takes it inside its transaction with an UPDATE, whose row lock
    -- serialises one conversation's writers until commit: no gap, no
    -- duplicate, and n is committed before n + 1 is assigned.
    next_seq   BIGINT NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The conversation list, most recently active first.
CREATE INDEX conversations_updated_idx ON conversations (updated_at DESC, id DESC);

CREATE TABLE conversation_members (
    conversation_id UUID   NOT NULL REFERENCES conversations (id),
    user_id         UUID   NOT NULL REFERENCES users (id),
    last_read_seq   BIGINT NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    joined_at       BIGINT NOT NULL,
    -- Set when the member left; they join again with their old read pointer.
    left_at         BIGINT,
    PRIMARY KEY (conversation_id, user_id)
);

-- A user's conversations (the list, membership checks by user).
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conversation_id);

CREATE TABLE media (
    id           UUID   NOT NULL PRIMARY KEY,
    owner_id     UUID   NOT NULL REFERENCES users (id),
    content_type TEXT   NOT NULL,
    width        BIGINT NOT NULL CHECK (width >= 0),
    height       BIGINT NOT NULL CHECK (height >= 0),
    bytes        BIGINT NOT NULL CHECK (bytes >= 0),
    key          TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX media_owner_idx ON media (owner_id);

CREATE TABLE conversation_messages (
    id              UUID   NOT NULL PRIMARY KEY,
    conversation_id UUID   NOT NULL REFERENCES conversations (id),
    seq             BIGINT NOT NULL CHECK (seq >= 1),
    author          TEXT   NOT NULL CHECK (author IN ('user', 'assistant')),
    -- NULL for the assistant.
    sender_id       UUID   REFERENCES users (id),
    text            TEXT   NOT NULL,
    media_id        UUID   REFERENCES media (id),
    status          TEXT   NOT NULL
        CHECK (status IN ('complete', 'streaming', 'stopped', 'interrupted', 'error')),
    provider        TEXT,
    model           TEXT,
    client_id       TEXT,
    created_at      BIGINT NOT NULL,
    -- A conversation's messages in order (ranges by seq, the last message).
    UNIQUE (conversation_id, seq)
);

-- Idempotent sends: one message per sender and client_id in a conversation.
CREATE UNIQUE INDEX conversation_messages_client_id_key
    ON conversation_messages (conversation_id, sender_id, client_id)
    WHERE client_id IS NOT NULL;
-- Who may see an image: the messages that carry it.
CREATE INDEX conversation_messages_media_idx ON conversation_messages (media_id)
    WHERE media_id IS NOT NULL;
