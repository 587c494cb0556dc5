package io.switchboard.relay.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The store's meter names (Micrometer dotted; Prometheus shows them as
 * {@code switchboard_store_batch_size}, {@code switchboard_store_flush_seconds},
 * {@code switchboard_store_rows_written_total}, ...) and the meters of one {@link BatchWriter}.
 */
public final class StoreMetrics {

  public static final String BATCH_SIZE = "switchboard.store.batch.size";
  public static final String FLUSH = "switchboard.store.flush";
  public static final String PENDING = "switchboard.store.pending";
  public static final String BREAKER_OPEN = "switchboard.store.breaker.open";
  public static final String ROWS_WRITTEN = "switchboard.store.rows.written";
  public static final String DEDUPE_CONFLICTS = "switchboard.store.dedupe.conflicts";
  public static final String FLUSH_FAILURES = "switchboard.store.flush.failures";
  public static final String SEQ_COLLISIONS = "switchboard.store.seq.collisions";
  public static final String FENCED = "switchboard.store.fenced";

  final DistributionSummary batchSize;
  final Timer flush;
  final Counter rowsWritten;
  final Counter dedupeConflicts;
  final Counter flushFailures;
  final Counter seqCollisions;
  final Counter fenced;

  StoreMetrics(MeterRegistry registry, BatchWriter writer) {
    batchSize = DistributionSummary.builder(BATCH_SIZE)
      .description("Messages per committed flush")
      .register(registry);
    flush = Timer.builder(FLUSH)
      .description("Duration of committed flushes, pool wait included")
      .register(registry);
    rowsWritten = Counter.builder(ROWS_WRITTEN)
      .description("Message rows inserted")
      .register(registry);
    dedupeConflicts = Counter.builder(DEDUPE_CONFLICTS)
      .description("Messages whose (room, sender, cid) was already stored")
      .register(registry);
    flushFailures = Counter.builder(FLUSH_FAILURES)
      .description("Flush attempts that failed and went back to the retry queue")
      .register(registry);
    seqCollisions = Counter.builder(SEQ_COLLISIONS)
      .description("Messages not stored because their (room, seq) holds a different message")
      .register(registry);
    fenced = Counter.builder(FENCED)
      .description("Messages not stored because their room's lease was taken over by another relay")
      .register(registry);
    Gauge.builder(PENDING, writer, BatchWriter::pending)
      .description("Messages queued, in flight or waiting for retry")
      .register(registry);
    Gauge.builder(BREAKER_OPEN, writer, w -> w.breakerClosed() ? 0 : 1)
      .description("1 while the store's circuit breaker is open or half-open")
      .register(registry);
  }
}
