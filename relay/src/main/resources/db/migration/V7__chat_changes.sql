-- Edit, delete-for-everyone and reactions (issue 17, docs/architecture.md "Changes to messages").
-- rev: the room's change counter when the row last changed (0: never); a catch-up reads rev > n.
-- A delete erases: body becomes NULL and the reactions go, the row stays as a tombstone (seq, cid,
-- sender, created_at, deleted_at).
ALTER TABLE messages
  ALTER COLUMN body DROP NOT NULL,
  ADD COLUMN edited_at  timestamptz,
  ADD COLUMN deleted_at timestamptz,
  ADD COLUMN rev        bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT messages_body_unless_deleted CHECK ((body IS NULL) = (deleted_at IS NOT NULL));

CREATE INDEX messages_room_rev ON messages (room, rev) WHERE rev > 0;

-- The room's last committed rev, written in every change's transaction (which also checks the
-- room's owner and epoch: the fence). Kept here, not only as max(messages.rev): retention may
-- delete the message that carried the highest rev, and a rev must never be given out twice.
ALTER TABLE rooms ADD COLUMN rev bigint NOT NULL DEFAULT 0;

-- One row per (message, user, emoji); rev orders them (the change that added it).
-- Row level security with no policy, like relay_secret: Supabase's API roles read nothing here.
CREATE TABLE reactions (
  room       text        NOT NULL,
  seq        bigint      NOT NULL,
  user_id    text        NOT NULL,
  emoji      text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rev        bigint      NOT NULL,
  PRIMARY KEY (room, seq, user_id, emoji),
  -- retention deletes messages; their reactions go with them
  FOREIGN KEY (room, seq) REFERENCES messages (room, seq) ON DELETE CASCADE
);
ALTER TABLE reactions ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON reactions FROM PUBLIC;
