package io.switchboard.relay.store;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.relay.store.StoreTestSupport.Recorder;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.switchboard.relay.store.StoreTestSupport.awaitUntil;
import static io.switchboard.relay.store.StoreTestSupport.count;
import static io.switchboard.relay.store.StoreTestSupport.message;
import static io.switchboard.relay.store.StoreTestSupport.onContext;
import static io.switchboard.relay.store.StoreTestSupport.OWNER;
import static io.switchboard.relay.store.StoreTestSupport.own;
import static io.switchboard.relay.store.StoreTestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;

/** Database outages: the embedded server is stopped and started under the writer. */
class BatchWriterOutageTest {

  @TempDir
  static Path dataDir;

  static Vertx vertx;
  static Database db;
  static StoreOptions options;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    options = new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(2)
      .setBatchMaxMessages(20).setBatchMaxDelayMs(10)
      .setBreakerMaxFailures(3).setBreakerResetTimeoutMs(200).setWriteTimeoutMs(2_000);
    db = Database.start(vertx, options).await();
    own(db.pool(), "outage", "bounded", "unwritten");
  }

  @AfterAll
  static void tearDown() {
    db.close().await();
    vertx.close().await();
  }

  @Test
  void messagesOfferedDuringAnOutageAreDelayedThenStoredExactlyOnce() {
    Context ctx = vertx.getOrCreateContext();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, options, registry));
    List<Recorder> recorders = new ArrayList<>();
    offer(ctx, writer, recorders, "outage", 1, 100);
    awaitUntil(() -> recorders.stream().allMatch(Recorder::done), Duration.ofSeconds(5), "first 100 stored");
    assertThat(recorders).allSatisfy(r -> assertThat(r.delayed.get()).isZero());

    db.stopEmbedded().await();
    offer(ctx, writer, recorders, "outage", 101, 300);
    List<Recorder> duringOutage = recorders.subList(100, 300);
    awaitUntil(() -> duringOutage.stream().allMatch(r -> r.delayed.get() == 1), Duration.ofSeconds(5),
      "onDelayed for every message offered during the outage");
    assertThat(writer.degraded()).isTrue();
    assertThat(writer.hasCapacity()).isTrue();
    assertThat(registry.get(StoreMetrics.BREAKER_OPEN).gauge().value()).isEqualTo(1);
    assertThat(registry.get(StoreMetrics.PENDING).gauge().value()).isEqualTo(200);
    assertThat(registry.get(StoreMetrics.FLUSH_FAILURES).counter().count()).isGreaterThanOrEqualTo(3);
    assertThat(duringOutage).allSatisfy(r -> assertThat(r.stored).isEmpty());

    db.startEmbedded().await();
    awaitUntil(() -> recorders.stream().allMatch(Recorder::done), Duration.ofSeconds(10), "all 300 stored");
    awaitUntil(() -> !writer.degraded(), Duration.ofSeconds(5), "breaker closed");

    for (int i = 0; i < recorders.size(); i++) {
      Recorder r = recorders.get(i);
      assertThat(r.stored).containsExactly(i + 1L);
      assertThat(r.delayed.get()).isLessThanOrEqualTo(1);
      assertThat(r.wrongContext).isFalse();
    }
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'outage'")).isEqualTo(300);
    assertThat(count(db.pool(), "SELECT count(DISTINCT seq) FROM messages WHERE room = 'outage'")).isEqualTo(300);
    assertThat(registry.get(StoreMetrics.PENDING).gauge().value()).isZero();
  }

  @Test
  void capacityRunsOutAtTheBoundWhileTheDatabaseIsDown() {
    Context ctx = vertx.getOrCreateContext();
    StoreOptions o = new StoreOptions(options).setRetryQueueMax(50);
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, o, new SimpleMeterRegistry()));
    List<Recorder> recorders = new ArrayList<>();

    db.stopEmbedded().await();
    int accepted = onContext(ctx, () -> {
      int seq = 0;
      while (writer.hasCapacity() && seq < 1_000) {
        seq++;
        Recorder r = new Recorder(ctx);
        recorders.add(r);
        writer.offer(write(message("bounded", seq), r));
      }
      return seq;
    });
    assertThat(accepted).isEqualTo(50);
    // still full once the failed flushes have moved to the retry queue
    awaitUntil(writer::degraded, Duration.ofSeconds(5), "degraded");
    assertThat(writer.hasCapacity()).isFalse();

    db.startEmbedded().await();
    awaitUntil(() -> recorders.stream().allMatch(Recorder::done), Duration.ofSeconds(10), "backlog stored");
    assertThat(writer.hasCapacity()).isTrue();
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'bounded'")).isEqualTo(50);
  }

  @Test
  void flushAndCloseGivesUpAfterItsTimeoutAndSaysHowManyAreUnwritten() {
    Context ctx = vertx.getOrCreateContext();
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, options, new SimpleMeterRegistry()));
    db.stopEmbedded().await();
    try {
      List<Recorder> recorders = new ArrayList<>();
      offer(ctx, writer, recorders, "unwritten", 1, 7);
      Future<Void> closed = onContext(ctx, () -> writer.flushAndClose(500));
      Throwable failure = closed.transform(ar -> Future.succeededFuture(ar.cause())).await();
      assertThat(failure).hasMessageContaining("7 messages unwritten");
    } finally {
      db.startEmbedded().await();
    }
  }

  private static void offer(Context ctx, BatchWriter writer, List<Recorder> recorders, String room, int from, int to) {
    onContext(ctx, () -> {
      for (int seq = from; seq <= to; seq++) {
        Recorder r = new Recorder(ctx);
        recorders.add(r);
        writer.offer(write(message(room, seq), r));
      }
    });
  }
}
