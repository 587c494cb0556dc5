package io.switchboard.relay.store;

import static io.switchboard.relay.store.StoreTestSupport.OWNER;
import static io.switchboard.relay.store.StoreTestSupport.count;
import static io.switchboard.relay.store.StoreTestSupport.exec;
import static io.switchboard.relay.store.StoreTestSupport.onContext;
import static io.switchboard.relay.store.StoreTestSupport.own;
import static io.switchboard.relay.store.StoreTestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on a real Postgres (the embedded one): age and size pruning, oldest first, never a
 * room's newest {@code keepPerRoom}; writes are stored promptly while a large backlog is pruned;
 * the size gauge; and bytes per stored message, measured.
 */
class RetentionTest {
  @TempDir
  static Path dataDir;
  static Vertx vertx;
  static Database db;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    db = Database.start(vertx, new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(4)).await();
  }

  @AfterAll
  static void tearDown() {
    db.close().await();
    vertx.close().await();
  }

  @BeforeEach
  void empty() {
    exec(db.pool(), "TRUNCATE messages, rooms, room_epochs, reactions").await();
  }

  /** {@code rooms} rooms of {@code perRoom} typical messages each, the first ones {@code daysOld} old. */
  static void fill(String prefix, int rooms, int perRoom, int daysOld) {
    exec(db.pool(), "INSERT INTO rooms (name, epoch, durable_seq) SELECT '" + prefix + "' || r, 'e1', " + perRoom
        + " FROM generate_series(1, " + rooms + ") r").await();
    // seq order is age order; one message a second ending now - daysOld days + perRoom seconds
    exec(db.pool(), "INSERT INTO messages (room, seq, sender, cid, body, created_at)"
        + " SELECT '" + prefix + "' || r, s, 'u-' || substr(md5(r::text), 1, 14), 'c' || substr(md5(s::text), 1, 15),"
        + " 'message ' || s || ' ' || md5(r::text || s::text), now() - interval '" + daysOld + " days'"
        + " + s * interval '1 second' FROM generate_series(1, " + rooms + ") r, generate_series(1, " + perRoom + ") s")
        .await();
  }

  private static Retention retention(StoreOptions options, int keepPerRoom) {
    return new Retention(vertx, db.pool(), options, keepPerRoom, new SimpleMeterRegistry());
  }

  @Test
  void messagesOlderThanRetentionDaysGoExceptEachRoomsNewest() {
    fill("old-", 3, 300, 10);
    fill("new-", 2, 50, 0);
    // a room with both: seq 1..100 ten days old, then 101..150 now
    exec(db.pool(), "INSERT INTO rooms (name, epoch, durable_seq) VALUES ('mixed', 'e1', 150)").await();
    exec(db.pool(), "INSERT INTO messages (room, seq, sender, cid, body, created_at) SELECT 'mixed', s, 'u', 'c' || s,"
        + " 'b', CASE WHEN s <= 100 THEN now() - interval '10 days' ELSE now() END FROM generate_series(1, 150) s")
        .await();
    // reactions (issue 17) on a pruned message and on a kept one, a deleted message's tombstone pruned too
    exec(db.pool(), "INSERT INTO reactions (room, seq, user_id, emoji, rev) VALUES ('mixed', 1, 'u', '👍', 1),"
        + " ('mixed', 150, 'u', '👍', 2)").await();
    exec(db.pool(), "UPDATE messages SET body = NULL, deleted_at = now(), rev = 3 WHERE room = 'mixed' AND seq = 2").await();
    Retention retention = retention(new StoreOptions().setRetentionDays(2), 5);

    long deleted = retention.tick().await();

    assertThat(deleted).isEqualTo(3 * 295 + 100);
    assertThat(count(db.pool(), "SELECT count(*) FROM reactions WHERE room = 'mixed'")).as("the pruned message's reactions go with it")
        .isEqualTo(1);
    for (int r = 1; r <= 3; r++) {
      assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = $1 AND seq BETWEEN 296 AND 300", "old-" + r))
          .as("each room's newest 5 stay, however old").isEqualTo(5);
      assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = $1", "old-" + r)).isEqualTo(5);
    }
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room LIKE 'new-%'")).isEqualTo(100);
    assertThat(count(db.pool(), "SELECT min(seq) FROM messages WHERE room = 'mixed'")).isEqualTo(101);
    assertThat(retention.tick().await()).as("nothing left to prune").isZero();
  }

  @Test
  void overMaxDatabaseBytesTheOldestGoUntilTheRowsFitAndTheBudgetHolds() {
    fill("big-", 20, 1000, 1);
    long rows = count(db.pool(), "SELECT count(*) FROM messages");
    long size = count(db.pool(), "SELECT pg_database_size(current_database())");
    long max = (long) (size * 0.8);
    Retention retention = retention(new StoreOptions().setMaxDatabaseBytes(max), 10);

    long deleted = retention.tick().await();

    long budget = (long) (rows * (Retention.HEADROOM * max / size));
    assertThat(rows - deleted).isEqualTo(budget);
    assertThat(count(db.pool(), "SELECT count(*) FROM messages")).isEqualTo(budget);
    // oldest first: all rooms' messages have the same ages, so each room kept a tail of seqs ending at
    // 1000, all tails starting within one seq of each other
    assertThat(count(db.pool(), "SELECT count(*) FROM (SELECT room FROM messages GROUP BY room"
        + " HAVING count(*) <> max(seq) - min(seq) + 1 OR max(seq) <> 1000) gaps")).isZero();
    assertThat(count(db.pool(), "SELECT max(s) - min(s) FROM (SELECT min(seq) s FROM messages GROUP BY room) t"))
        .isLessThanOrEqualTo(1);
    assertThat(retention.databaseBytes()).isEqualTo(size);

    // the files keep their size after deletes; new rows are held to the same budget
    fill("later-", 2, 2000, 0);
    retention.tick().await();
    assertThat(count(db.pool(), "SELECT count(*) FROM messages")).isLessThanOrEqualTo(budget);
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room LIKE 'later-%'")).as("the newest stay")
        .isEqualTo(4000);
  }

  @Test
  void writesAreStoredPromptlyWhileABigBacklogIsPruned() {
    fill("backlog-", 30, 1000, 30);
    own(db.pool(), "live");
    Context ctx = vertx.getOrCreateContext();
    StoreOptions options = new StoreOptions().setBatchMaxDelayMs(5);
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, options, new SimpleMeterRegistry()));
    Retention retention = retention(new StoreOptions().setRetentionDays(1), 10);
    List<Long> latenciesMs = new CopyOnWriteArrayList<>();
    AtomicBoolean pruning = new AtomicBoolean(true);
    long start = System.nanoTime();
    var done = retention.tick().andThen(x -> pruning.set(false));
    // a send every 5 ms while the prune runs (bounded: 2,000 at most)
    for (int seq = 1; seq <= 2000 && pruning.get(); seq++) {
      long offered = System.nanoTime();
      int s = seq;
      onContext(ctx, () -> writer.offer(write(StoreTestSupport.message("live", s), new WriteListener() {
        @Override
        public void onDelayed() {
        }

        @Override
        public void onStored(long stored) {
          latenciesMs.add((System.nanoTime() - offered) / 1_000_000);
        }

        @Override
        public void onFenced() {
        }
      })));
      try {
        Thread.sleep(5); // the pace of the sends, not a wait for an event
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long deleted = done.await();
    long pruneMs = (System.nanoTime() - start) / 1_000_000;
    StoreTestSupport.awaitUntil(() -> latenciesMs.size() == count(db.pool(),
        "SELECT count(*) FROM messages WHERE room = 'live'"), Duration.ofSeconds(10), "acks in");
    List<Long> sorted = new ArrayList<>(latenciesMs);
    Collections.sort(sorted);
    long p50 = sorted.get(sorted.size() / 2);
    long p99 = sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(sorted.size() * 0.99) - 1));
    System.out.printf("retention: pruned %d rows in %d ms; %d writes meanwhile, stored after p50 %d ms, p99 %d ms%n",
        deleted, pruneMs, sorted.size(), p50, p99);
    assertThat(deleted).isEqualTo(30 * 990);
    assertThat(sorted.size()).as("writes during the prune").isGreaterThan(20);
    // one batch window (5 ms) plus a commit; a prune holding the pool or locks would show here as seconds
    assertThat(p99).as("p99 ms from offer to stored while pruning").isLessThan(1_000);
  }

  @Test
  void theSizeGaugeIsSampledAndBytesPerMessageAreMeasured() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Retention retention = new Retention(vertx, db.pool(), new StoreOptions(), 1000, registry);
    exec(db.pool(), "VACUUM FULL messages").await();
    retention.tick().await();
    long before = retention.databaseBytes();
    assertThat(registry.scrape()).contains("switchboard_database_bytes " + (double) before);

    int n = 100_000;
    fill("typical-", 100, n / 100, 0);
    retention.tick().await();
    long after = retention.databaseBytes();
    double perMessage = (double) (after - before) / n;
    System.out.printf("bytes per stored message: %.0f (%d messages, database %d -> %d bytes)%n", perMessage, n, before,
        after);
    assertThat(registry.scrape()).contains("switchboard_database_bytes " + (double) after);
    // a row (~150 bytes of data and header) and its three index entries
    assertThat(perMessage).isBetween(150.0, 600.0);
  }
}
