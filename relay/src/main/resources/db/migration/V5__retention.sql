-- Retention (docs/operations.md "Database size and retention") deletes the oldest messages first.
CREATE INDEX messages_created_at ON messages (created_at);
