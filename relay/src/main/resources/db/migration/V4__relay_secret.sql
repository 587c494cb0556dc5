-- The guest-token secret that clustered relays share when none is configured (SWITCHBOARD_SECRET):
-- one row, created by the first relay that needs it. A client that moves to another relay of the
-- cluster keeps its guest identity. Row level security with no policy: on Supabase, the API roles
-- (anon, authenticated) read nothing here; the relay connects as the table's owner.
CREATE TABLE relay_secret (
  id           int   PRIMARY KEY CHECK (id = 1),
  guest_secret bytea NOT NULL CHECK (length(guest_secret) >= 32)
);
ALTER TABLE relay_secret ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON relay_secret FROM PUBLIC;
