package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.relay.auth.Secrets;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The guest-token secret clustered relays share through their one database (a real Postgres). */
class SharedSecretTest {
  private static SharedPostgres postgres;

  @BeforeAll
  static void start() throws Exception {
    postgres = new SharedPostgres(Files.createTempDirectory("switchboard-secret"));
  }

  @AfterAll
  static void stop() {
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void relaysStartingAtOnceAllGetTheOneSecretTheFirstCreated() {
    Pool pool = postgres.database().pool();
    List<Future<byte[]>> racing = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      racing.add(Secrets.shared(pool));
    }
    TestClient.sync(Future.all(racing), 10);
    Set<String> distinct = new HashSet<>();
    for (Future<byte[]> f : racing) {
      assertThat(f.result()).hasSize(32);
      distinct.add(java.util.HexFormat.of().formatHex(f.result()));
    }
    assertThat(distinct).as("one secret for all").hasSize(1);
    // a relay started later (or restarted) reads the same one
    assertThat(TestClient.sync(Secrets.shared(pool), 10)).isEqualTo(racing.get(0).result());
  }

  @Test
  void aRoleOtherThanTheOwnerReadsNothing() {
    Pool pool = postgres.database().pool();
    TestClient.sync(Secrets.shared(pool), 10);
    // Supabase's API roles are such roles: without a grant they are refused outright
    TestClient.sync(pool.query("DO $$ BEGIN CREATE ROLE api_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        .execute(), 10);
    assertThatThrownBy(() -> TestClient.sync(pool.withTransaction(conn -> conn.query("SET LOCAL ROLE api_reader").execute()
        .compose(v -> conn.query("SELECT guest_secret FROM relay_secret").execute())), 10))
        .hasMessageContaining("permission denied");
    // and a grant alone (what a careless "grant all on all tables" does) still shows no row
    TestClient.sync(pool.query("GRANT SELECT ON relay_secret TO api_reader").execute(), 10);
    int visible = TestClient.sync(pool.withTransaction(conn -> conn.query("SET LOCAL ROLE api_reader").execute()
        .compose(v -> conn.query("SELECT guest_secret FROM relay_secret").execute())), 10).size();
    assertThat(visible).as("row level security, no policy").isZero();
    TestClient.sync(pool.query("REVOKE SELECT ON relay_secret FROM api_reader").execute(), 10);
    // read cursors (who read what, when) the same way
    TestClient.sync(pool.query("INSERT INTO read_cursors (room, user_id, seq) VALUES ('rls', 'ann', 3)"
        + " ON CONFLICT DO NOTHING").execute(), 10);
    assertThatThrownBy(() -> TestClient.sync(pool.withTransaction(conn -> conn.query("SET LOCAL ROLE api_reader").execute()
        .compose(v -> conn.query("SELECT seq FROM read_cursors").execute())), 10))
        .hasMessageContaining("permission denied");
    TestClient.sync(pool.query("GRANT SELECT ON read_cursors TO api_reader").execute(), 10);
    int cursors = TestClient.sync(pool.withTransaction(conn -> conn.query("SET LOCAL ROLE api_reader").execute()
        .compose(v -> conn.query("SELECT seq FROM read_cursors").execute())), 10).size();
    assertThat(cursors).as("read_cursors: row level security, no policy").isZero();
    TestClient.sync(pool.query("REVOKE SELECT ON read_cursors FROM api_reader").execute(), 10);
  }
}
