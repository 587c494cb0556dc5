-- End-to-end encrypted rooms (issue 18, docs/protocol.md "Encrypted rooms"). Switched on by an owner or
-- the admin API, never off: the relay then refuses bodies that are not sealed (e1.<keyId>.<payload>).
ALTER TABLE room_access ADD COLUMN encrypted boolean NOT NULL DEFAULT false;
