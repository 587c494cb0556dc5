package io.switchboard.relay.store;

import static io.switchboard.relay.store.StoreTestSupport.count;
import static io.switchboard.relay.store.StoreTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** V2 on a database a V1 relay left behind: its rooms get epochs and watermarks and keep working. */
class MigrationsTest {

  @Test
  void roomsOfAV1DatabaseGetAnEpochAFirstEpochRowAndTheirStoredMaxAsWatermark(@TempDir Path dir) throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Vertx vertx = Vertx.vertx();
    Database server = Database.start(vertx, new StoreOptions().setDataDir(dir.toString()).setEmbeddedPort(port)).await();
    Pool v1 = null;
    try {
      exec(server.pool(), "CREATE DATABASE v1").await();
      v1 = PgBuilder.pool().connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(port)
          .setUser("postgres").setPassword(StoreTestSupport.embeddedPassword(dir)).setDatabase("v1")).using(vertx).build();
      // what a V1 relay left: its schema, two rooms, messages in one of them
      exec(v1, resource("db/migration/V1__init.sql")).await();
      exec(v1, "CREATE TABLE schema_version (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
          + " INSERT INTO schema_version VALUES (1, now());"
          + " INSERT INTO rooms (name) VALUES ('old'), ('quiet');"
          + " INSERT INTO messages VALUES ('old', 1, 'ann', 'c1', 'a', now()), ('old', 2, 'bob', 'c1', 'b', now()),"
          + " ('old', 3, 'ann', 'c2', 'c', now())").await();

      assertThat(Migrations.apply(vertx, v1).await()).containsExactly(2, 3, 4, 5, 6, 7, 8);

      List<Row> rooms = new ArrayList<>();
      v1.query("SELECT name, epoch, owner, durable_seq FROM rooms ORDER BY name").execute().await().forEach(rooms::add);
      assertThat(rooms).extracting(r -> r.getString(0)).containsExactly("old", "quiet");
      assertThat(rooms).allSatisfy(r -> {
        assertThat(r.getString(1)).matches("[a-z0-9]{8}");
        assertThat(r.getString(2)).isNull();
      });
      assertThat(rooms.get(0).getLong(3)).isEqualTo(3);
      assertThat(rooms.get(1).getLong(3)).isZero();
      assertThat(count(v1, "SELECT count(*) FROM room_epochs e JOIN rooms r ON r.name = e.room AND r.epoch = e.epoch"
          + " WHERE e.since = 0")).isEqualTo(2);

      // the first claim keeps that epoch and sequences on from the stored max
      RoomLeases.Claim claim = new RoomLeases(v1, "n-new", 15_000, true).claim("old").await();
      assertThat(claim).isEqualTo(new RoomLeases.Claimed(rooms.get(0).getString(1), 3,
          List.of(new RoomLeases.Epoch(rooms.get(0).getString(1), 0))));
    } finally {
      if (v1 != null) {
        v1.close().await();
      }
      server.close().await();
      vertx.close().await();
    }
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = MigrationsTest.class.getClassLoader().getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
