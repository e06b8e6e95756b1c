-- The messenger's conversations, members, messages and images.
-- Ids are 16-byte UUID blobs, times INTEGER microseconds since the Unix
-- epoch (as in every table here; PostgreSQL stores these tables' times as
-- BIGINT microseconds too, so both backends share their statements).

CREATE TABLE conversations (
    id         BLOB    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
    title      TEXT,
    -- The two members' ids in order, for a direct conversation (one per
    -- pair); NULL for a group (NULLs are never equal, so groups never clash).
    direct_key TEXT    UNIQUE,
    -- The seq the next message gets (1 for an empty conversation). A message
    -- takes it inside its write, which increments it: the row is the lock
    -- that numbers one conversation's messages without a gap.
    next_seq   INTEGER NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The conversation list, most recently active first.
CREATE INDEX conversations_updated_idx ON conversations (updated_at DESC, id DESC);

CREATE TABLE conversation_members (
    conversation_id BLOB    NOT NULL REFERENCES conversations (id),
    user_id         BLOB    NOT NULL REFERENCES users (id),
    last_read_seq   INTEGER NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    joined_at       INTEGER NOT NULL,
    -- Set when the member left; they join again with their old read pointer.
    left_at         INTEGER,
    PRIMARY KEY (conversation_id, user_id)
);

-- A user's conversations (the list, membership checks by user).
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conversation_id);

CREATE TABLE media (
    id           BLOB    NOT NULL PRIMARY KEY,
    owner_id     BLOB    NOT NULL REFERENCES users (id),
    content_type TEXT    NOT NULL,
    width        INTEGER NOT NULL CHECK (width >= 0),
    height       INTEGER NOT NULL CHECK (height >= 0),
    bytes        INTEGER NOT NULL CHECK (bytes >= 0),
    key          TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE INDEX media_owner_idx ON media (owner_id);

CREATE TABLE conversation_messages (
    id              BLOB    NOT NULL PRIMARY KEY,
    conversation_id BLOB    NOT NULL REFERENCES conversations (id),
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    author          TEXT    NOT NULL CHECK (author IN ('user', 'assistant')),
    -- NULL for the assistant.
    sender_id       BLOB    REFERENCES users (id),
    text            TEXT    NOT NULL,
    media_id        BLOB    REFERENCES media (id),
    status          TEXT    NOT NULL
        CHECK (status IN ('complete', 'streaming', 'stopped', 'interrupted', 'error')),
    provider        TEXT,
    model           TEXT,
    client_id       TEXT,
    created_at      INTEGER NOT NULL,
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
