package io.switchboard.relay.store;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;

/** Helpers shared by the store tests. */
final class StoreTestSupport {

  private StoreTestSupport() {
  }

  /** The embedded Postgres's generated password (it accepts SCRAM logins only). */
  static String embeddedPassword(java.nio.file.Path dataDir) {
    try {
      return java.nio.file.Files.readString(dataDir.resolve("pg-password")).trim();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Runs {@code action} on {@code ctx} and waits for its result: the writer is context-confined. */
  static <T> T onContext(Context ctx, Callable<T> action) {
    Promise<T> promise = Promise.promise();
    ctx.runOnContext(v -> {
      try {
        promise.complete(action.call());
      } catch (Exception e) {
        promise.fail(e);
      }
    });
    return promise.future().await();
  }

  static void onContext(Context ctx, Runnable action) {
    onContext(ctx, () -> {
      action.run();
      return null;
    });
  }

  static void awaitUntil(BooleanSupplier condition, Duration timeout, String what) {
    Awaitility.await(what).atMost(timeout).pollInterval(Duration.ofMillis(5)).until(condition::getAsBoolean);
  }


  /** The incarnation the store tests' writers run as, and the epoch their rooms are claimed in. */
  static final String OWNER = "n-test";
  static final String EPOCH = "t1";

  /** Claims rooms for {@link #OWNER} in {@link #EPOCH}, as the relay's claim would. */
  static void own(Pool pool, String... rooms) {
    pool.preparedQuery("INSERT INTO rooms (name, epoch, owner) SELECT unnest($1::text[]), $2, $3"
        + " ON CONFLICT (name) DO UPDATE SET epoch = excluded.epoch, owner = excluded.owner")
      .execute(Tuple.of(rooms, EPOCH, OWNER)).await();
  }

  /** A write in {@link #EPOCH}. */
  static PendingWrite write(StoredMessage message, WriteListener listener) {
    return new PendingWrite(message, EPOCH, listener);
  }

  static StoredMessage message(String room, long seq) {
    return new StoredMessage(room, seq, "user-" + (seq % 7), "cid-" + seq, "body " + seq, 1_700_000_000_123L + seq);
  }

  static long count(Pool pool, String sql, Object... args) {
    return pool.preparedQuery(sql).execute(Tuple.wrap(args)).map(rows -> rows.iterator().next().getLong(0)).await();
  }

  static Future<Void> exec(Pool pool, String sql) {
    return pool.query(sql).execute().mapEmpty();
  }

  /** Records what the writer reports for one message and on which context. */
  static final class Recorder implements WriteListener {

    final Context expected;
    final AtomicInteger delayed = new AtomicInteger();
    final AtomicInteger fenced = new AtomicInteger();
    final List<Long> stored = new CopyOnWriteArrayList<>();
    volatile boolean wrongContext;

    Recorder(Context expected) {
      this.expected = expected;
    }

    @Override
    public void onDelayed() {
      wrongContext |= Vertx.currentContext() != expected;
      delayed.incrementAndGet();
    }

    @Override
    public void onStored(long seq) {
      wrongContext |= Vertx.currentContext() != expected;
      stored.add(seq);
    }

    @Override
    public void onFenced() {
      wrongContext |= Vertx.currentContext() != expected;
      fenced.incrementAndGet();
    }

    boolean done() {
      return !stored.isEmpty();
    }
  }
}
