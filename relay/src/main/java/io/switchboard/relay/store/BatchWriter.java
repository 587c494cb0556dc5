package io.switchboard.relay.store;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Write side: groups offered messages into one multi-row insert per flush, behind a circuit
 * breaker, and keeps failed batches for retry so nothing is dropped.
 * <p>
 * Confinement: create it on the relay's event-loop context and call {@link #offer} and
 * {@link #flushAndClose} only there; listeners are called there too. No locks are needed.
 * {@link #hasCapacity()} and {@link #degraded()} read only volatile state and may be called
 * from anywhere. Re-trying a batch that did commit is harmless: {@code ON CONFLICT DO NOTHING}
 * on the primary key and on {@code (room, sender, cid)} turns it into a lookup.
 * <p>
 * Fence: a message is only inserted while its room's row names this node as owner in the
 * message's epoch, checked in the statement that inserts it. Messages of rooms taken over are
 * reported fenced, never retried.
 */
public final class BatchWriter {

  private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);

  // One statement shape whatever the batch size, so it is prepared once per connection. Rows with a
  // null sender are the (room, epoch) pairs this node owns, the epoch in the third column; the
  // others are the inserted messages. FOR KEY SHARE makes a takeover (SELECT ... FOR UPDATE) wait
  // for this commit, and this statement wait for the takeover's and then see its owner; it does
  // not conflict with other flushes or lease renewals, so flushes of one room still overlap.
  private static final String INSERT_MESSAGES =
    "WITH owned AS (SELECT r.name, r.epoch FROM rooms r"
      + " JOIN unnest($1::text[], $2::text[]) AS u(name, epoch) ON r.name = u.name AND r.epoch = u.epoch"
      + " WHERE r.owner = $3 FOR KEY SHARE OF r),"
      + " inserted AS (INSERT INTO messages (room, seq, sender, cid, body, created_at, sender_name)"
      + " SELECT m.room, m.seq, m.sender, m.cid, m.body, m.created_at, m.sender_name"
      + " FROM unnest($4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::timestamptz[],"
      + " $11::text[]) AS m(room, epoch, seq, sender, cid, body, created_at, sender_name)"
      + " WHERE (m.room, m.epoch) IN (SELECT name, epoch FROM owned)"
      + " ON CONFLICT DO NOTHING RETURNING room, sender, cid, seq)"
      + " SELECT room, sender, cid, seq FROM inserted UNION ALL SELECT name, NULL, epoch, NULL FROM owned";
  private static final String LOOKUP_SEQS =
    "SELECT m.room, m.sender, m.cid, m.seq FROM messages m"
      + " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(room, sender, cid)"
      + " ON m.room = k.room AND m.sender = k.sender AND m.cid = k.cid";

  private final Vertx vertx;
  private final Thread ownerThread;
  private final Pool pool;
  private final String owner;
  private final int poolSize;
  private final int batchMaxMessages;
  private final long batchMaxDelayMs;
  private final int retryQueueMax;
  private final CircuitBreaker breaker;
  private final StoreMetrics metrics;

  private final ArrayDeque<Entry> queue = new ArrayDeque<>();
  // keyed by batch number, so retries go out in the order the messages were offered
  private final TreeMap<Long, Batch> retry = new TreeMap<>();
  private long nextBatchNo;
  private int inFlightMessages;
  // flushes whose outcome is not known yet
  private int activeBatches;
  // transactions still holding a pool connection; can outlive a breaker timeout
  private int dbOps;
  private volatile int retryMessages;
  private volatile int pending;

  private long flushTimer = -1;
  private boolean flushDue;
  private boolean draining;
  // volatile: hasCapacity() may be read off the context
  private volatile Promise<Void> closing;
  private long closeTimer = -1;
  private boolean stopped;
  // between the breaker opening and closing again, for logging
  private boolean outage;

  /** @param owner this process's incarnation id, as {@link RoomLeases} claims rooms with it */
  public BatchWriter(Vertx vertx, Pool pool, String owner, StoreOptions options, MeterRegistry registry) {
    this.vertx = vertx;
    this.ownerThread = Thread.currentThread();
    this.pool = pool;
    this.owner = owner;
    this.poolSize = options.getPoolSize();
    this.batchMaxMessages = options.getBatchMaxMessages();
    this.batchMaxDelayMs = options.getBatchMaxDelayMs();
    this.retryQueueMax = options.getRetryQueueMax();
    this.breaker = CircuitBreaker.create("switchboard-store", vertx, new CircuitBreakerOptions()
        .setMaxFailures(options.getBreakerMaxFailures())
        .setResetTimeout(options.getBreakerResetTimeoutMs())
        .setTimeout(options.getWriteTimeoutMs())
        // no periodic event-bus state broadcasts
        .setNotificationAddress(null))
      .openHandler(v -> onOpen())
      .halfOpenHandler(v -> drain())
      .closeHandler(v -> onClose());
    this.metrics = new StoreMetrics(registry, this);
  }

  /**
   * False when as many messages as {@code retryQueueMax} are queued, in flight or waiting for
   * retry, or after {@link #flushAndClose}. Check before assigning a seq.
   */
  public boolean hasCapacity() {
    return hasCapacity(1);
  }

  /** Whether {@code messages} more can be offered now: a batch of messages is taken whole or not at all. */
  public boolean hasCapacity(int messages) {
    return pending + messages <= retryQueueMax && closing == null;
  }

  /** True while the breaker is not closed or failed batches wait for retry. */
  public boolean degraded() {
    return !breakerClosed() || retryMessages > 0;
  }

  /**
   * Queues a message. Check {@link #hasCapacity()} before assigning its seq: the bound is kept by
   * that check, not here, because a room shard on another loop checks, sequences and then hands the
   * message over; shards checking at the same moment may pass the bound by the messages they had
   * on their way (a few), and a message already sequenced must not be refused any more.
   *
   * @throws IllegalStateException after {@link #flushAndClose}
   * @throws IllegalArgumentException for a message Postgres would refuse (null field, NUL char):
   *                                  it would fail its batch forever
   */
  public void offer(PendingWrite write) {
    checkContext();
    if (closing != null) {
      throw new IllegalStateException("store writer closed");
    }
    StoredMessage m = write.message();
    requireStorable("room", m.room());
    requireStorable("sender", m.sender());
    requireStorable("cid", m.cid());
    requireStorable("body", m.body());
    if (m.senderName() != null) {
      requireStorable("senderName", m.senderName());
    }
    Entry entry = new Entry(write);
    queue.add(entry);
    updatePending();
    if (degraded()) {
      entry.delay();
    }
    drain();
  }

  /**
   * Stops the batching timer and flushes everything queued, retrying while the timeout allows.
   * Fails, saying how many messages are unwritten, if the timeout passes first.
   */
  public Future<Void> flushAndClose(long timeoutMs) {
    checkContext();
    if (closing != null) {
      return closing.future();
    }
    closing = Promise.promise();
    cancelFlushTimer();
    closeTimer = vertx.setTimer(Math.max(1, timeoutMs), id -> {
      closeTimer = -1;
      stopped = true;
      closing.tryFail(new IllegalStateException(
        pending + " messages unwritten after " + timeoutMs + " ms of flushAndClose"));
    });
    drain();
    completeCloseIfDone();
    return closing.future();
  }

  int pending() {
    return pending;
  }

  boolean breakerClosed() {
    return breaker.state() == CircuitBreakerState.CLOSED;
  }

  private void drain() {
    if (draining) {
      // the loop below re-evaluates after every flush it starts
      return;
    }
    draining = true;
    try {
      Batch batch;
      while ((batch = nextBatch()) != null) {
        flush(batch);
      }
      armFlushTimer();
    } finally {
      draining = false;
    }
  }

  private Batch nextBatch() {
    if (stopped || dbOps >= poolSize) {
      return null;
    }
    CircuitBreakerState state = breaker.state();
    if (state == CircuitBreakerState.OPEN) {
      return null; // the half-open handler drains again
    }
    if (state == CircuitBreakerState.HALF_OPEN && activeBatches > 0) {
      return null; // one probe at a time
    }
    if (!retry.isEmpty()) {
      Batch batch = retry.pollFirstEntry().getValue();
      retryMessages -= batch.entries.size();
      return batch;
    }
    boolean due = flushDue || closing != null;
    if (queue.size() >= batchMaxMessages || (due && !queue.isEmpty())) {
      int n = Math.min(batchMaxMessages, queue.size());
      List<Entry> entries = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        entries.add(queue.poll());
      }
      return new Batch(nextBatchNo++, entries);
    }
    return null;
  }

  /** Invariant: a non-empty queue is either due or has the timer running. */
  private void armFlushTimer() {
    if (queue.isEmpty()) {
      cancelFlushTimer();
      flushDue = false;
    } else if (!flushDue && flushTimer < 0 && closing == null) {
      flushTimer = vertx.setTimer(batchMaxDelayMs, id -> {
        flushTimer = -1;
        flushDue = true;
        drain();
      });
    }
  }

  private void cancelFlushTimer() {
    if (flushTimer >= 0) {
      vertx.cancelTimer(flushTimer);
      flushTimer = -1;
    }
  }

  private void flush(Batch batch) {
    activeBatches++;
    inFlightMessages += batch.entries.size();
    updatePending();
    long start = System.nanoTime();
    breaker.<Outcome>execute(() -> {
      dbOps++;
      return write(batch.entries).onComplete(ar -> {
        dbOps--;
        drain();
      });
    }).onComplete(ar -> {
      activeBatches--;
      inFlightMessages -= batch.entries.size();
      if (ar.succeeded()) {
        stored(batch, ar.result(), System.nanoTime() - start);
      } else {
        failed(batch, ar.cause());
      }
      updatePending();
      drain();
      completeCloseIfDone();
    });
  }

  private Future<Outcome> write(List<Entry> entries) {
    int n = entries.size();
    Map<String, Fence> fences = new LinkedHashMap<>();
    int pairs = 0;
    for (Entry e : entries) {
      PendingWrite w = e.write;
      Fence f = fences.get(w.message().room());
      while (f != null && !f.epoch.equals(w.epoch())) {
        f = f.next;
      }
      if (f == null) {
        f = new Fence(w.message().room(), w.epoch(), fences.get(w.message().room()));
        fences.put(f.room, f);
        pairs++;
      }
      e.fence = f;
    }
    String[] roomNames = new String[pairs];
    String[] epochs = new String[pairs];
    int r = 0;
    for (Fence head : fences.values()) {
      for (Fence f = head; f != null; f = f.next) {
        roomNames[r] = f.room;
        epochs[r] = f.epoch;
        r++;
      }
    }
    String[] rooms = new String[n];
    String[] messageEpochs = new String[n];
    Long[] seqs = new Long[n];
    String[] senders = new String[n];
    String[] cids = new String[n];
    String[] bodies = new String[n];
    OffsetDateTime[] createdAt = new OffsetDateTime[n];
    String[] senderNames = new String[n];
    for (int i = 0; i < n; i++) {
      StoredMessage m = entries.get(i).write.message();
      rooms[i] = m.room();
      messageEpochs[i] = entries.get(i).write.epoch();
      seqs[i] = m.seq();
      senders[i] = m.sender();
      cids[i] = m.cid();
      bodies[i] = m.body();
      createdAt[i] = OffsetDateTime.ofInstant(Instant.ofEpochMilli(m.createdAtMillis()), ZoneOffset.UTC);
      senderNames[i] = m.senderName();
    }
    Tuple insertArgs = Tuple.tuple().addValue(roomNames).addValue(epochs).addValue(owner)
      .addValue(rooms).addValue(messageEpochs).addValue(seqs).addValue(senders).addValue(cids).addValue(bodies).addValue(createdAt)
      .addValue(senderNames);
    return pool.withTransaction(conn -> conn.preparedQuery(INSERT_MESSAGES).execute(insertArgs)
      .compose(result -> {
        Map<Key, Long> seqByKey = new HashMap<>();
        int insertedRows = 0;
        for (Row row : result) {
          if (row.getString(1) == null) {
            for (Fence f = fences.get(row.getString(0)); f != null; f = f.next) {
              f.owned |= f.epoch.equals(row.getString(2));
            }
          } else {
            seqByKey.put(new Key(row.getString(0), row.getString(1), row.getString(2)), row.getLong(3));
            insertedRows++;
          }
        }
        Set<Key> missing = new LinkedHashSet<>();
        for (Entry e : entries) {
          Key key = e.key();
          if (e.fence.owned && !seqByKey.containsKey(key)) {
            missing.add(key);
          }
        }
        int inserted = insertedRows;
        if (missing.isEmpty()) {
          return Future.succeededFuture(new Outcome(seqByKey, inserted));
        }
        return lookup(conn, missing).map(found -> {
          seqByKey.putAll(found);
          return new Outcome(seqByKey, inserted);
        });
      }));
  }

  /** One query for all conflicting rows of a batch. */
  private static Future<Map<Key, Long>> lookup(SqlConnection conn, Set<Key> keys) {
    String[] rooms = new String[keys.size()];
    String[] senders = new String[keys.size()];
    String[] cids = new String[keys.size()];
    int i = 0;
    for (Key k : keys) {
      rooms[i] = k.room;
      senders[i] = k.sender;
      cids[i] = k.cid;
      i++;
    }
    return conn.preparedQuery(LOOKUP_SEQS)
      .execute(Tuple.tuple().addValue(rooms).addValue(senders).addValue(cids))
      .map(rows -> {
        Map<Key, Long> found = new HashMap<>();
        for (Row row : rows) {
          found.put(new Key(row.getString(0), row.getString(1), row.getString(2)), row.getLong(3));
        }
        return found;
      });
  }

  private void stored(Batch batch, Outcome outcome, long nanos) {
    int collisions = 0;
    int fenced = 0;
    for (Entry e : batch.entries) {
      StoredMessage m = e.write.message();
      if (!e.fence.owned) {
        fenced++;
        e.fenced();
        continue;
      }
      Long seq = outcome.seqByKey.get(e.key());
      if (seq == null) {
        // the relay reused a seq: storing it would overwrite another message, so it is not stored
        collisions++;
        log.error("Message not stored: seq {} of room {} already holds another message (sender {}, cid {})",
          m.seq(), m.room(), m.sender(), m.cid());
        continue;
      }
      e.stored(seq);
    }
    metrics.batchSize.record(batch.entries.size());
    metrics.flush.record(nanos, TimeUnit.NANOSECONDS);
    metrics.rowsWritten.increment(outcome.inserted);
    metrics.dedupeConflicts.increment(batch.entries.size() - outcome.inserted - collisions - fenced);
    if (collisions > 0) {
      metrics.seqCollisions.increment(collisions);
    }
    if (fenced > 0) {
      log.warn("{} messages not stored: their rooms were taken over by another relay", fenced);
      metrics.fenced.increment(fenced);
    }
  }

  private void failed(Batch batch, Throwable cause) {
    metrics.flushFailures.increment();
    if (outage) {
      // one line per outage is enough; the probes fail every resetTimeout
      log.debug("Flush of {} messages failed, kept for retry: {}", batch.entries.size(), cause.toString());
    } else {
      log.warn("Flush of {} messages failed, kept for retry: {}", batch.entries.size(), Database.explainPooler(cause));
    }
    for (Entry e : batch.entries) {
      e.delay();
    }
    retry.put(batch.no, batch);
    retryMessages += batch.entries.size();
  }

  private void onOpen() {
    if (!outage) {
      outage = true;
      log.warn("Store circuit breaker open: writes are delayed until the database answers again");
    }
    // queued messages will not be stored promptly either
    for (Entry e : queue) {
      e.delay();
    }
  }

  private void onClose() {
    if (outage) {
      outage = false;
      log.info("Store circuit breaker closed: the database answers again");
    }
    drain();
  }

  private void completeCloseIfDone() {
    if (closing != null && pending == 0 && !closing.future().isComplete()) {
      stopped = true;
      if (closeTimer >= 0) {
        vertx.cancelTimer(closeTimer);
        closeTimer = -1;
      }
      closing.complete();
    }
  }

  private void updatePending() {
    pending = queue.size() + inFlightMessages + retryMessages;
  }

  private void checkContext() {
    // Vert.x 5 hands each connection a duplicate of the event-loop context: same thread, other object.
    if (Thread.currentThread() != ownerThread) {
      throw new IllegalStateException("BatchWriter used outside the context that created it");
    }
  }

  private static void requireStorable(String field, String value) {
    if (value == null) {
      throw new IllegalArgumentException(field + " is null");
    }
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(field + " contains a NUL character, which Postgres text cannot hold");
    }
  }

  private record Key(String room, String sender, String cid) {
  }

  /** The seq the table holds for each key of a batch (where it has one), and how many rows were new. */
  private record Outcome(Map<Key, Long> seqByKey, int inserted) {
  }

  /**
   * One (room, epoch) of a batch being written, and whether this node still owned it. Two epochs of
   * one room meet in a batch only when a room taken over was claimed back meanwhile; they are chained.
   */
  private static final class Fence {
    final String room;
    final String epoch;
    final Fence next;
    boolean owned;

    Fence(String room, String epoch, Fence next) {
      this.room = room;
      this.epoch = epoch;
      this.next = next;
    }
  }

  private record Batch(long no, List<Entry> entries) {
  }

  private static final class Entry {

    final PendingWrite write;
    // the (room, epoch) of the write attempt in progress
    Fence fence;
    private boolean delayed;

    Entry(PendingWrite write) {
      this.write = write;
    }

    Key key() {
      StoredMessage m = write.message();
      return new Key(m.room(), m.sender(), m.cid());
    }

    void delay() {
      if (!delayed) {
        delayed = true;
        try {
          write.listener().onDelayed();
        } catch (RuntimeException e) {
          log.error("WriteListener.onDelayed threw", e);
        }
      }
    }

    void fenced() {
      try {
        write.listener().onFenced();
      } catch (RuntimeException e) {
        log.error("WriteListener.onFenced threw", e);
      }
    }

    void stored(long seq) {
      try {
        write.listener().onStored(seq);
      } catch (RuntimeException e) {
        log.error("WriteListener.onStored threw", e);
      }
    }
  }
}
