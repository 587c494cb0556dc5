package io.switchboard.relay.store;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.relay.store.StoreTestSupport.Recorder;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.switchboard.relay.store.StoreTestSupport.awaitUntil;
import static io.switchboard.relay.store.StoreTestSupport.count;
import static io.switchboard.relay.store.StoreTestSupport.message;
import static io.switchboard.relay.store.StoreTestSupport.onContext;
import static io.switchboard.relay.store.StoreTestSupport.OWNER;
import static io.switchboard.relay.store.StoreTestSupport.own;
import static io.switchboard.relay.store.StoreTestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatchWriterTest {

  private static final int POOL_SIZE = 3;

  @TempDir
  static Path dataDir;

  static Vertx vertx;
  static Database db;
  static StoreOptions options;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    options = new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(POOL_SIZE);
    db = Database.start(vertx, options).await();
    own(db.pool(), "bulk", "lonely", "dedupe", "dup", "clash", "burst", "closing", "misuse");
  }

  @AfterAll
  static void tearDown() {
    db.close().await();
    vertx.close().await();
  }

  @Test
  void thousandOffersGoOutInFewBatchesAndEachIsStoredOnce() {
    Context ctx = vertx.getOrCreateContext();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, options, registry));
    List<Recorder> recorders = new ArrayList<>();
    onContext(ctx, () -> {
      for (int seq = 1; seq <= 1000; seq++) {
        Recorder r = new Recorder(ctx);
        recorders.add(r);
        writer.offer(write(message("bulk", seq), r));
      }
    });
    awaitUntil(() -> recorders.stream().allMatch(Recorder::done), Duration.ofSeconds(10), "1000 onStored");

    for (int i = 0; i < recorders.size(); i++) {
      Recorder r = recorders.get(i);
      assertThat(r.stored).containsExactly(i + 1L);
      assertThat(r.delayed.get()).isZero();
      assertThat(r.wrongContext).isFalse();
    }
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'bulk'")).isEqualTo(1000);
    assertThat(count(db.pool(), "SELECT count(DISTINCT seq) FROM messages WHERE room = 'bulk'")).isEqualTo(1000);
    assertThat(count(db.pool(), "SELECT count(*) FROM rooms WHERE name = 'bulk'")).isEqualTo(1);

    DistributionSummary batches = registry.get(StoreMetrics.BATCH_SIZE).summary();
    assertThat(batches.totalAmount()).isEqualTo(1000);
    assertThat(batches.count()).isBetween(4L, 10L);
    assertThat(batches.max()).isEqualTo(options.getBatchMaxMessages());
    assertThat(registry.get(StoreMetrics.ROWS_WRITTEN).counter().count()).isEqualTo(1000);
    assertThat(registry.get(StoreMetrics.DEDUPE_CONFLICTS).counter().count()).isZero();
    assertThat(registry.get(StoreMetrics.FLUSH).timer().count()).isEqualTo(batches.count());
    assertThat(registry.get(StoreMetrics.PENDING).gauge().value()).isZero();
    assertThat(registry.get(StoreMetrics.BREAKER_OPEN).gauge().value()).isZero();
  }

  @Test
  void singleMessageIsFlushedAfterTheBatchDelay() {
    Context ctx = vertx.getOrCreateContext();
    StoreOptions o = new StoreOptions(options).setBatchMaxDelayMs(150);
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, o, new SimpleMeterRegistry()));
    Recorder r = new Recorder(ctx);
    AtomicLong storedAfterMs = new AtomicLong(-1);
    long start = System.nanoTime();
    onContext(ctx, () -> writer.offer(write(message("lonely", 1), new WriteListener() {
      @Override
      public void onDelayed() {
        r.onDelayed();
      }

      @Override
      public void onStored(long seq) {
        storedAfterMs.set((System.nanoTime() - start) / 1_000_000);
        r.onStored(seq);
      }

      @Override
      public void onFenced() {
        r.onFenced();
      }
    })));
    awaitUntil(r::done, Duration.ofSeconds(5), "onStored");
    assertThat(r.stored).containsExactly(1L);
    // waited for the timer, then one round trip (an fsynced commit; generous for busy CI machines)
    assertThat(storedAfterMs.get()).isBetween(140L, 150L + 1500L);
  }

  @Test
  void resendOfAStoredMessageReportsTheOriginalSeq() {
    Context ctx = vertx.getOrCreateContext();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StoreOptions o = new StoreOptions(options).setBatchMaxDelayMs(5);
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, o, registry));
    StoredMessage first = new StoredMessage("dedupe", 1, "ann", "c-1", "hello", 1_700_000_000_000L);
    StoredMessage resend = new StoredMessage("dedupe", 2, "ann", "c-1", "hello", 1_700_000_000_500L);

    Recorder r1 = new Recorder(ctx);
    onContext(ctx, () -> writer.offer(write(first, r1)));
    awaitUntil(r1::done, Duration.ofSeconds(5), "first stored");
    Recorder r2 = new Recorder(ctx);
    onContext(ctx, () -> writer.offer(write(resend, r2)));
    awaitUntil(r2::done, Duration.ofSeconds(5), "resend reported");

    assertThat(r1.stored).containsExactly(1L);
    assertThat(r2.stored).containsExactly(1L);
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'dedupe'")).isEqualTo(1);
    assertThat(registry.get(StoreMetrics.DEDUPE_CONFLICTS).counter().count()).isEqualTo(1);
    assertThat(registry.get(StoreMetrics.ROWS_WRITTEN).counter().count()).isEqualTo(1);
  }

  @Test
  void duplicateWithinOneBatchIsStoredOnce() {
    Context ctx = vertx.getOrCreateContext();
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, options, new SimpleMeterRegistry()));
    Recorder a = new Recorder(ctx);
    Recorder b = new Recorder(ctx);
    onContext(ctx, () -> {
      writer.offer(write(new StoredMessage("dup", 1, "bob", "x", "hi", 0), a));
      writer.offer(write(new StoredMessage("dup", 2, "bob", "x", "hi", 0), b));
    });
    awaitUntil(() -> a.done() && b.done(), Duration.ofSeconds(5), "both reported");
    assertThat(a.stored).containsExactly(1L);
    assertThat(b.stored).containsExactly(1L);
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'dup'")).isEqualTo(1);
  }

  @Test
  void onlyRoomsThisNodeOwnsInTheMessagesEpochAreWritten() {
    own(db.pool(), "fence-mine");
    db.pool().query("INSERT INTO rooms (name, epoch, owner) VALUES ('fence-theirs', 't1', 'n-other')").execute().await();
    Context ctx = vertx.getOrCreateContext();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, options, registry));
    List<Recorder> mine = new ArrayList<>();
    Recorder theirs = new Recorder(ctx);
    Recorder stale = new Recorder(ctx);
    onContext(ctx, () -> {
      for (int seq = 1; seq <= 3; seq++) {
        Recorder r = new Recorder(ctx);
        mine.add(r);
        writer.offer(write(message("fence-mine", seq), r));
      }
      writer.offer(write(message("fence-theirs", 1), theirs));
      // this node owns fence-mine, but in another epoch than this leftover of an older claim
      writer.offer(new PendingWrite(message("fence-mine", 9), "t0", stale));
    });
    awaitUntil(() -> mine.stream().allMatch(Recorder::done) && theirs.fenced.get() == 1 && stale.fenced.get() == 1,
        Duration.ofSeconds(5), "every write reported");
    assertThat(theirs.stored).isEmpty();
    assertThat(stale.stored).isEmpty();
    assertThat(theirs.wrongContext || stale.wrongContext).isFalse();
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'fence-theirs'")).isZero();
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'fence-mine'")).isEqualTo(3);
    assertThat(registry.get(StoreMetrics.FENCED).counter().count()).isEqualTo(2);
    assertThat(registry.get(StoreMetrics.DEDUPE_CONFLICTS).counter().count()).isZero();
  }

  @Test
  void reusedSeqIsNotStoredAndCounted() {
    Context ctx = vertx.getOrCreateContext();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, options, registry));
    Recorder first = new Recorder(ctx);
    Recorder clash = new Recorder(ctx);
    Recorder next = new Recorder(ctx);
    onContext(ctx, () -> {
      writer.offer(write(new StoredMessage("clash", 1, "ann", "a", "mine", 0), first));
      writer.offer(write(new StoredMessage("clash", 1, "bob", "b", "theirs", 0), clash));
      writer.offer(write(new StoredMessage("clash", 2, "bob", "c", "later", 0), next));
    });
    awaitUntil(() -> first.done() && next.done(), Duration.ofSeconds(5), "batch done");
    assertThat(first.stored).containsExactly(1L);
    assertThat(next.stored).containsExactly(2L);
    assertThat(clash.stored).isEmpty();
    assertThat(registry.get(StoreMetrics.SEQ_COLLISIONS).counter().count()).isEqualTo(1);
    assertThat(onContext(ctx, writer::pending)).isZero();
  }

  @Test
  void poolBoundHoldsDuringABurst() throws Exception {
    Context ctx = vertx.getOrCreateContext();
    // small batches so many flushes compete for the pool
    StoreOptions o = new StoreOptions(options).setBatchMaxMessages(10);
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, o, new SimpleMeterRegistry()));
    int port = Integer.parseInt(db.pool().query("SELECT current_setting('port')").execute().await()
      .iterator().next().getString(0));
    PgConnection observer = PgConnection.connect(vertx, new PgConnectOptions()
      .setHost("127.0.0.1").setPort(port).setUser("postgres").setPassword(StoreTestSupport.embeddedPassword(dataDir))
      .setDatabase("postgres")).await();
    try {
      AtomicBoolean burstDone = new AtomicBoolean();
      AtomicLong maxSeen = new AtomicLong();
      Thread watcher = new Thread(() -> {
        while (!burstDone.get()) {
          long n = observer.query("SELECT count(*) FROM pg_stat_activity"
              + " WHERE datname = current_database() AND backend_type = 'client backend'")
            .execute().await().iterator().next().getLong(0);
          maxSeen.accumulateAndGet(n, Math::max);
        }
      });
      watcher.start();
      List<Recorder> recorders = new ArrayList<>();
      onContext(ctx, () -> {
        for (int seq = 1; seq <= 3000; seq++) {
          Recorder r = new Recorder(ctx);
          recorders.add(r);
          writer.offer(write(message("burst", seq), r));
        }
      });
      awaitUntil(() -> recorders.stream().allMatch(Recorder::done), Duration.ofSeconds(20), "burst stored");
      burstDone.set(true);
      watcher.join();
      assertThat(maxSeen.get()).isLessThanOrEqualTo(POOL_SIZE + 1).isGreaterThan(1);
      assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'burst'")).isEqualTo(3000);
    } finally {
      observer.close().await();
    }
  }

  @Test
  void flushAndCloseWritesEverythingQueued() {
    Context ctx = vertx.getOrCreateContext();
    // neither the size nor the time trigger would fire during this test
    StoreOptions o = new StoreOptions(options).setBatchMaxDelayMs(60_000);
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, o, new SimpleMeterRegistry()));
    List<Recorder> recorders = new ArrayList<>();
    onContext(ctx, () -> {
      for (int seq = 1; seq <= 10; seq++) {
        Recorder r = new Recorder(ctx);
        recorders.add(r);
        writer.offer(write(message("closing", seq), r));
      }
    });
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'closing'")).isZero();

    onContext(ctx, () -> writer.flushAndClose(5_000)).await();

    assertThat(recorders).allSatisfy(r -> assertThat(r.stored).hasSize(1));
    assertThat(count(db.pool(), "SELECT count(*) FROM messages WHERE room = 'closing'")).isEqualTo(10);
    assertThat(writer.hasCapacity()).isFalse();
    assertThatThrownBy(() -> onContext(ctx, () -> writer.offer(write(message("closing", 11), new Recorder(ctx)))))
      .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void misuseIsRejected() {
    Context ctx = vertx.getOrCreateContext();
    BatchWriter writer = onContext(ctx, () -> new BatchWriter(vertx, db.pool(), OWNER, options, new SimpleMeterRegistry()));
    // off the writer's context
    assertThatThrownBy(() -> writer.offer(write(message("misuse", 1), new Recorder(ctx))))
      .isInstanceOf(IllegalStateException.class);
    // Postgres text cannot hold NUL: such a row would fail its batch forever
    assertThatThrownBy(() -> onContext(ctx, () -> writer.offer(write(
      new StoredMessage("misuse", 1, "ann", "c", "a\0b", 0), new Recorder(ctx)))))
      .isInstanceOf(IllegalArgumentException.class);
    assertThat(onContext(ctx, writer::pending)).isZero();
  }
}
