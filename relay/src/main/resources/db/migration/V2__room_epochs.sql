-- Per-room sequencing epochs and the owner's lease (docs/architecture.md, "Ordering and exactly-once").
-- epoch: changes whenever a node takes a room over from one that stopped uncleanly.
-- owner: the sequencing node's incarnation id; NULL once released cleanly.
-- durable_seq: every seq <= it is stored or a permanent hole.
ALTER TABLE rooms
  ADD COLUMN epoch       text,
  ADD COLUMN owner       text,
  ADD COLUMN lease_until timestamptz,
  ADD COLUMN durable_seq bigint NOT NULL DEFAULT 0;

-- md5 hex is a subset of the epoch alphabet [a-z0-9]; random() is evaluated per row
UPDATE rooms r SET epoch = left(md5(random()::text || r.name), 8),
  durable_seq = (SELECT coalesce(max(m.seq), 0) FROM messages m WHERE m.room = r.name);

ALTER TABLE rooms ALTER COLUMN epoch SET NOT NULL;

-- One row per epoch: since = the last seq it shares with the epoch before (0 for the first).
CREATE TABLE room_epochs (
  room       text        NOT NULL,
  epoch      text        NOT NULL,
  since      bigint      NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room, epoch)
);

INSERT INTO room_epochs (room, epoch, since, started_at) SELECT name, epoch, 0, created_at FROM rooms;

-- the lease renewal finds a node's rooms by owner
CREATE INDEX rooms_owner ON rooms (owner) WHERE owner IS NOT NULL;
