-- Appending a message moves its session's updated_at to the message's time
-- (never backwards). As a trigger, the append is one INSERT statement: atomic
-- on its own, one round trip to SQLite's single writer instead of a
-- BEGIN / UPDATE / INSERT / COMMIT transaction.
CREATE TRIGGER chat_messages_touch_session
AFTER INSERT ON chat_messages
FOR EACH ROW
BEGIN
    UPDATE chat_sessions
    SET updated_at = MAX(updated_at, NEW.timestamp)
    WHERE id = NEW.session_id;
END;
