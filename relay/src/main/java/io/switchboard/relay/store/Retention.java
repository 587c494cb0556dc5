package io.switchboard.relay.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples the database's size for {@code /metrics} and keeps it in bounds: every tick it deletes
 * messages older than {@code retentionDays}, and while the database is larger than
 * {@code maxDatabaseBytes} the oldest messages, in small transactions each under a statement
 * timeout so writers never wait long for a lock or a connection.
 * <p>
 * It never deletes a room's newest {@code keepPerRoom} messages ({@code resumeMaxReplay}): a
 * resume replays at most that many, so a client told {@code recovered: true} never misses a
 * pruned message, and history pages end where the stored messages end.
 * <p>
 * Deleted rows do not shrink Postgres's files, they become space that later inserts reuse. So
 * the size limit is enforced as a row budget: when the size first exceeds the limit, the budget
 * becomes the row count scaled to 90% of the limit, and from then on pruning keeps the row count
 * under it (lowering it again if the size still grows, e.g. with bloat).
 */
public final class Retention {
  private static final Logger log = LoggerFactory.getLogger(Retention.class);

  public static final String DATABASE_BYTES = "switchboard.database.bytes";
  public static final String PRUNED = "switchboard.store.pruned";
  /** How often size is sampled and pruning runs. */
  public static final long INTERVAL_MS = 30_000;
  /** Rows per delete: a few milliseconds of work, so a pool connection is never held long. */
  static final int BATCH = 500;
  /** A delete that takes longer (a lock, a slow disk) is cancelled and tried at the next tick. */
  static final long STATEMENT_TIMEOUT_MS = 2_000;
  /** Deletes per tick at most: a backlog is worked off over several ticks, not in one burst. */
  static final int MAX_BATCHES_PER_TICK = 200;
  /** The row budget aims this far under the limit. */
  static final double HEADROOM = 0.9;

  private static final String SIZE = "SELECT pg_database_size(current_database())";
  private static final String COUNT = "SELECT count(*) FROM messages";
  // oldest first (messages_created_at), each room's newest keepPerRoom excluded: rooms.durable_seq
  // trails the room's head, so the rows kept are a superset of the newest keepPerRoom
  private static final String DELETE = "WITH doomed AS (SELECT m.room, m.seq FROM messages m"
      + " JOIN rooms r ON r.name = m.room"
      + " WHERE ($1::timestamptz IS NULL OR m.created_at < $1) AND m.seq <= r.durable_seq - $2"
      + " ORDER BY m.created_at LIMIT $3 FOR UPDATE OF m SKIP LOCKED)"
      + " DELETE FROM messages m USING doomed d WHERE m.room = d.room AND m.seq = d.seq";

  private final Vertx vertx;
  private final Pool pool;
  private final int retentionDays;
  private final long maxBytes;
  private final int keepPerRoom;
  private final AtomicLong bytes = new AtomicLong(-1);
  private final Counter pruned;
  private long rowBudget = Long.MAX_VALUE;
  /** The round running now, null between rounds; guarded by {@code this} (tests call from their own thread). */
  private Future<Long> inFlight;
  private boolean warnedStuck;

  Retention(Vertx vertx, Pool pool, StoreOptions options, int keepPerRoom, MeterRegistry registry) {
    this.vertx = vertx;
    this.pool = pool;
    this.retentionDays = options.getRetentionDays();
    this.maxBytes = options.getMaxDatabaseBytes();
    this.keepPerRoom = keepPerRoom;
    Gauge.builder(DATABASE_BYTES, bytes, AtomicLong::get)
        .description("Size of the database (pg_database_size), sampled every " + INTERVAL_MS / 1000 + " s")
        .register(registry);
    pruned = Counter.builder(PRUNED)
        .description("Messages deleted by retentionDays or maxDatabaseBytes")
        .register(registry);
  }

  /** The last sampled size in bytes, -1 before the first sample. */
  public long databaseBytes() {
    return bytes.get();
  }

  /**
   * One round: sample the size, then prune what the settings ask. Called while a round runs, it
   * runs one more after it (that round may have read the database before the caller changed it).
   */
  public Future<Long> tick() {
    synchronized (this) {
      if (inFlight != null) {
        return inFlight.transform(ar -> tick());
      }
      Future<Long> round = pool.query(SIZE).execute()
          .map(rows -> rows.iterator().next().getLong(0))
          .compose(size -> {
            bytes.set(size);
            return prune(size);
          })
          .onFailure(err -> log.warn("retention round failed, next in {} s: {}", INTERVAL_MS / 1000,
              Database.explainPooler(err)));
      inFlight = round.andThen(done -> {
        synchronized (this) {
          inFlight = null;
        }
      });
      return inFlight;
    }
  }

  /** The timer's round: skipped while one still runs, never queued behind it. */
  private void scheduledTick() {
    synchronized (this) {
      if (inFlight != null) {
        return;
      }
    }
    tick();
  }

  private Future<Long> prune(long size) {
    Future<Long> byAge = retentionDays == 0 ? Future.succeededFuture(0L)
        : deleteUpTo(OffsetDateTime.now(ZoneOffset.UTC).minusDays(retentionDays), (long) BATCH * MAX_BATCHES_PER_TICK);
    if (maxBytes == 0) {
      return byAge;
    }
    return byAge.compose(aged -> {
      if (size <= maxBytes && rowBudget == Long.MAX_VALUE) {
        return Future.succeededFuture(aged);
      }
      return pool.query(COUNT).execute().map(rows -> rows.iterator().next().getLong(0)).compose(count -> {
        if (size > maxBytes) {
          rowBudget = Math.min(rowBudget, (long) (count * (HEADROOM * maxBytes / size)));
        }
        long excess = Math.min(count - rowBudget, (long) BATCH * MAX_BATCHES_PER_TICK);
        if (excess <= 0) {
          return Future.succeededFuture(aged);
        }
        return deleteUpTo(null, excess).map(sized -> {
          if (sized == 0 && !warnedStuck) {
            warnedStuck = true;
            log.warn("database is {} bytes, over maxDatabaseBytes {}, but every message left is among its room's"
                + " newest {} (resumeMaxReplay), which retention keeps", size, maxBytes, keepPerRoom);
          }
          return aged + sized;
        });
      });
    });
  }

  /** Deletes up to {@code limit} of the oldest prunable messages (older than {@code cutoff} if set), batch by batch. */
  private Future<Long> deleteUpTo(OffsetDateTime cutoff, long limit) {
    return batch(cutoff, (int) Math.min(BATCH, limit)).compose(n -> {
      pruned.increment(n);
      if (n < Math.min(BATCH, limit) || limit - n <= 0) {
        return Future.succeededFuture((long) n);
      }
      return deleteUpTo(cutoff, limit - n).map(more -> n + more);
    });
  }

  private Future<Integer> batch(OffsetDateTime cutoff, int size) {
    return pool.withTransaction(conn -> conn.query("SET LOCAL statement_timeout = " + STATEMENT_TIMEOUT_MS).execute()
        .compose(v -> conn.preparedQuery(DELETE).execute(Tuple.of(cutoff, keepPerRoom, size)))
        .map(rows -> rows.rowCount()));
  }

  /** Starts the periodic rounds (the first at once); the returned timer id is for {@code cancelTimer}. */
  long start() {
    vertx.runOnContext(v -> scheduledTick());
    return vertx.setPeriodic(INTERVAL_MS, id -> scheduledTick());
  }
}
