CREATE TABLE rooms (
  name       text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
  room       text        NOT NULL,
  seq        bigint      NOT NULL,
  sender     text        NOT NULL,
  cid        text        NOT NULL,
  body       text        NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (room, seq),
  UNIQUE (room, sender, cid)
);
