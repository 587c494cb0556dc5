-- Names and read receipts (issue 17, docs/architecture.md "Read cursors").
-- The sender's display name when it sent (a JWT's name or a guest's hello.name); NULL: none.
ALTER TABLE messages ADD COLUMN sender_name text NULL;

-- One read cursor per user per room (all its devices share it): the highest seq it has read.
-- Written in batches with GREATEST, so a late or repeated write never moves a cursor back.
CREATE TABLE read_cursors (
  room       text        NOT NULL,
  user_id    text        NOT NULL,
  seq        bigint      NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room, user_id)
);
-- A room loads the cursors moved most recently.
CREATE INDEX read_cursors_recent ON read_cursors (room, updated_at DESC);
-- Row level security with no policy, like the other tables: Supabase's API roles read nothing here.
ALTER TABLE read_cursors ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON read_cursors FROM PUBLIC;
