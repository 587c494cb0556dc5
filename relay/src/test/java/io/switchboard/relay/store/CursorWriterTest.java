package io.switchboard.relay.store;

import static io.switchboard.relay.store.StoreTestSupport.count;
import static io.switchboard.relay.store.StoreTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Read cursors against a real Postgres: batched upserts that never go back, kept through a failure, loaded newest first. */
class CursorWriterTest {
  @TempDir
  static Path dataDir;

  static Vertx vertx;
  static Database db;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    db = Database.start(vertx, new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(2)).await();
    StoreTestSupport.own(db.pool(), "a", "out"); // cursors are only written for rooms that exist
  }

  @AfterAll
  static void tearDown() {
    db.close().await();
    vertx.close().await();
  }

  private static long cursor(String room, String user) {
    return count(db.pool(), "SELECT seq FROM read_cursors WHERE room = $1 AND user_id = $2", room, user);
  }

  @Test
  void movesMergeAndAWriteNeverMovesACursorBack() {
    CursorWriter writer = new CursorWriter(new CursorStore(db.pool()));
    writer.moved("a", "ann", 3);
    writer.moved("a", "ann", 7);
    writer.moved("a", "ann", 5);
    writer.moved("a", "bob", 2);
    assertThat(writer.pending("a")).isEqualTo(Map.of("ann", 7L, "bob", 2L));
    writer.flush().await();
    assertThat(writer.pendingCount()).isZero();
    assertThat(cursor("a", "ann")).isEqualTo(7);
    // another relay (or a late retry) writing an older cursor changes nothing
    writer.moved("a", "ann", 4);
    writer.flush().await();
    assertThat(cursor("a", "ann")).isEqualTo(7);
    assertThat(cursor("a", "bob")).isEqualTo(2);
  }

  @Test
  void aFailedWriteKeepsItsCursorsForTheNextTick() {
    CursorWriter writer = new CursorWriter(new CursorStore(db.pool()));
    exec(db.pool(), "ALTER TABLE read_cursors RENAME TO read_cursors_away").await();
    try {
      writer.moved("out", "ann", 9);
      assertThatThrownBy(() -> writer.flush().await()).hasMessageContaining("read_cursors");
      writer.moved("out", "ann", 8); // a lower move meanwhile does not replace it
      assertThat(writer.pending("out")).isEqualTo(Map.of("ann", 9L));
    } finally {
      exec(db.pool(), "ALTER TABLE read_cursors_away RENAME TO read_cursors").await();
    }
    writer.tick();
    StoreTestSupport.awaitUntil(() -> writer.pendingCount() == 0
        && count(db.pool(), "SELECT count(*) FROM read_cursors WHERE room = 'out' AND seq = 9") == 1,
        java.time.Duration.ofSeconds(10), "the cursor written after the outage");
  }

  @Test
  void noCursorIsWrittenForARoomWithoutItsRow() {
    CursorWriter writer = new CursorWriter(new CursorStore(db.pool()));
    writer.moved("never-claimed", "ann", 3);
    writer.flush().await();
    assertThat(count(db.pool(), "SELECT count(*) FROM read_cursors WHERE room = 'never-claimed'")).isZero();
  }

  @Test
  void aRoomLoadsItsMostRecentlyMovedCursorsOldestFirst() {
    CursorStore store = new CursorStore(db.pool());
    exec(db.pool(), "INSERT INTO read_cursors (room, user_id, seq, updated_at)"
        + " SELECT 'big', 'u' || s, s, now() - (300 - s) * interval '1 second' FROM generate_series(1, 300) s").await();
    Map<String, Long> loaded = store.load("big", 256).await();
    assertThat(loaded).hasSize(256);
    assertThat(loaded.keySet().iterator().next()).isEqualTo("u45");
    assertThat(loaded).containsEntry("u300", 300L).doesNotContainKey("u44");
    assertThat(store.load("none", 256).await()).isEmpty();
  }
}
