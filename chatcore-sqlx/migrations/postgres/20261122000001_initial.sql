-- chatcore schema, PostgreSQL.
-- Times are TIMESTAMPTZ (microsecond precision, lossless for chatcore's clock).

CREATE TABLE users (
    id            UUID        NOT NULL PRIMARY KEY,
    email         TEXT        NOT NULL,
    username      TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Emails and usernames are unique case-insensitively.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

CREATE TABLE chat_sessions (
    id             UUID        NOT NULL PRIMARY KEY,
    user_id        UUID        NOT NULL REFERENCES users (id),
    title          TEXT        NOT NULL,
    title_explicit SMALLINT    NOT NULL DEFAULT 0 CHECK (title_explicit IN (0, 1)),
    is_deleted     SMALLINT    NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- The session list: a user's live sessions, newest first, ties by id.
CREATE INDEX chat_sessions_user_list_idx
    ON chat_sessions (user_id, is_deleted, updated_at DESC, id DESC);

CREATE TABLE chat_messages (
    id                UUID        NOT NULL PRIMARY KEY,
    session_id        UUID        NOT NULL REFERENCES chat_sessions (id),
    role              TEXT        NOT NULL CHECK (role IN ('user', 'assistant')),
    content           TEXT        NOT NULL,
    status            TEXT        NOT NULL
        CHECK (status IN ('complete', 'streaming', 'stopped', 'interrupted', 'error')),
    provider          TEXT,
    model             TEXT,
    prompt_tokens     BIGINT,
    completion_tokens BIGINT,
    timestamp         TIMESTAMPTZ NOT NULL
);

-- A session's history in order.
CREATE INDEX chat_messages_session_order_idx ON chat_messages (session_id, timestamp, id);
-- Start-up recovery finds the replies still marked streaming.
CREATE INDEX chat_messages_streaming_idx ON chat_messages (status) WHERE status = 'streaming';
