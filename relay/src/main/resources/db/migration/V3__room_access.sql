-- Rooms' access (issue 13, docs/architecture.md "Access"). A row exists for rooms created through the
-- admin API or given members; a room without one has the relay's defaultRoomVisibility and no members.
-- Kept apart from `rooms`, whose rows the sequencing lease creates for every room ever loaded.
CREATE TABLE room_access (
  room       text        PRIMARY KEY,
  visibility text        NOT NULL CHECK (visibility IN ('public', 'private')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Users listed in a room: owners manage members, members read and send, readers only read.
CREATE TABLE room_members (
  room       text        NOT NULL REFERENCES room_access (room) ON DELETE CASCADE,
  user_id    text        NOT NULL,
  role       text        NOT NULL CHECK (role IN ('owner', 'member', 'reader')),
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room, user_id)
);
