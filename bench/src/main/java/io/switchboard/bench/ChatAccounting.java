package io.switchboard.bench;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The bookkeeping of the chat scenario, free of any I/O so it can be unit tested.
 *
 * <p>Every {@code cid} carries its send time ({@link System#nanoTime()} of the driver's JVM), so a
 * receiver or an ack needs no shared map to find it. A message is <em>measured</em> when its send
 * time falls in the measurement window (after warmup); only measured messages count towards
 * sent/expected/delivered/lost and the latency histograms. Duplicates ((room, seq) seen twice by
 * one receiver) are counted for every message, warmup included.
 *
 * <p>Thread safety: the shared counters are adders and concurrent histograms; a {@link Receiver}
 * is confined to one connection (one event loop).
 */
public final class ChatAccounting {
  /** Latencies above this (ns) are clamped; a minute is far beyond anything meaningful here. */
  static final long MAX_LATENCY_NANOS = 60_000_000_000L;

  private volatile long measureFrom = Long.MIN_VALUE;
  private volatile long measureUntil = Long.MAX_VALUE;

  private final ConcurrentHistogram deliveryLatency = new ConcurrentHistogram(MAX_LATENCY_NANOS, 3);
  private final ConcurrentHistogram ackLatency = new ConcurrentHistogram(MAX_LATENCY_NANOS, 3);
  private final ConcurrentHistogram pingLatency = new ConcurrentHistogram(MAX_LATENCY_NANOS, 3);

  private final LongAdder sentTotal = new LongAdder();
  private final LongAdder sent = new LongAdder();
  private final LongAdder expected = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder deliveredTotal = new LongAdder();
  private final LongAdder duplicated = new LongAdder();
  private final LongAdder outOfOrder = new LongAdder();
  private final LongAdder foreign = new LongAdder();
  private final LongAdder acked = new LongAdder();
  private final LongAdder ackedNotStored = new LongAdder();
  private final LongAdder ackedTotal = new LongAdder();
  private final LongAdder bytesReceived = new LongAdder();
  private final LongAdder bytesSent = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder rejectedMeasured = new LongAdder();
  private volatile boolean expectAcks = true;
  private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, LongAdder> closes = new ConcurrentHashMap<>();

  /** Sets the measurement window, in {@link System#nanoTime()} units, [from, until). */
  public void window(long fromNanos, long untilNanos) {
    this.measureFrom = fromNanos;
    this.measureUntil = untilNanos;
  }

  public boolean measured(long sendNanos) {
    return sendNanos >= measureFrom && sendNanos < measureUntil;
  }

  /** {@code b<user>.<n>.<sendNanos>}: at most ~40 characters of the cid alphabet. */
  public static String cid(int user, long n, long sendNanos) {
    return "b" + user + "." + n + "." + sendNanos;
  }

  /** The send time encoded in a cid of {@link #cid}, or {@code null} when the cid is not ours. */
  public static Long sendNanosOf(String cid) {
    if (cid == null || cid.isEmpty() || cid.charAt(0) != 'b') {
      return null;
    }
    int dot = cid.lastIndexOf('.');
    if (dot < 0 || dot == cid.length() - 1) {
      return null;
    }
    try {
      return Long.parseLong(cid, dot + 1, cid.length(), 10);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** A send left the driver; {@code expectedReceivers} is the room's size minus the sender. */
  public void sent(long sendNanos, int expectedReceivers, int frameBytes) {
    sentTotal.increment();
    bytesSent.add(frameBytes);
    if (measured(sendNanos)) {
      sent.increment();
      expected.add(expectedReceivers);
    }
  }

  /** Whether {@link #complete()} waits for acks (a stock Socket.IO server sends none). */
  public void expectAcks(boolean expect) {
    this.expectAcks = expect;
  }

  /**
   * The server refused a send ({@code storage_unavailable}): it was neither delivered nor stored,
   * so it no longer counts as sent or expected (it is counted as rejected instead).
   */
  public void rejected(String cid, int expectedReceivers) {
    Long sendNanos = sendNanosOf(cid);
    if (sendNanos == null) {
      return;
    }
    rejected.increment();
    if (measured(sendNanos)) {
      rejectedMeasured.increment();
      sent.decrement();
      expected.add(-expectedReceivers);
    }
  }

  /** An {@code ack} arrived for {@code cid}. Latency is recorded for {@code stored:true} only. */
  public void ack(String cid, boolean stored, long nowNanos) {
    Long sendNanos = sendNanosOf(cid);
    if (sendNanos == null) {
      foreign.increment();
      return;
    }
    if (!stored) {
      ackedNotStored.increment();
      return;
    }
    ackedTotal.increment();
    if (measured(sendNanos)) {
      acked.increment();
      ackLatency.recordValue(clamp(nowNanos - sendNanos));
    }
  }

  /** A pong answered a ping sent at {@code pingNanos}; recorded inside the window only. */
  public void pong(long pingNanos, long nowNanos) {
    if (measured(pingNanos)) {
      pingLatency.recordValue(clamp(nowNanos - pingNanos));
    }
  }

  public void error(String code) {
    errors.computeIfAbsent(code == null ? "?" : code, k -> new LongAdder()).increment();
  }

  /** A socket closed while the driver still wanted it open. */
  public void unexpectedClose(String why) {
    closes.computeIfAbsent(why, k -> new LongAdder()).increment();
  }

  /** Payload bytes of a received text frame (UTF-8), counted only inside the window. */
  public void received(int bytes, long nowNanos) {
    if (measured(nowNanos)) {
      bytesReceived.add(bytes);
    }
  }

  public Receiver receiver() {
    return new Receiver();
  }

  /** One connection's view: which (room, seq) it has seen. Not thread-safe; confine to one loop. */
  public final class Receiver {
    /** Seqs seen, and the highest, per room: one lookup per delivery (a user is in one room). */
    private final Map<String, RoomSeen> seen = new HashMap<>();

    private static final class RoomSeen {
      final BitSet seqs = new BitSet();
      long last = -1;
    }

    /** A {@code msg} frame arrived. Returns false when it was a duplicate. */
    public boolean msg(String room, long seq, String cid, long nowNanos) {
      RoomSeen r = seen.computeIfAbsent(room, k -> new RoomSeen());
      if (seq < 0 || seq > Integer.MAX_VALUE) {
        foreign.increment();
        return true;
      }
      if (r.seqs.get((int) seq)) {
        duplicated.increment();
        return false;
      }
      r.seqs.set((int) seq);
      if (seq < r.last) {
        outOfOrder.increment();
      } else {
        r.last = seq;
      }
      deliveredTotal.increment();
      Long sendNanos = sendNanosOf(cid);
      if (sendNanos == null) {
        foreign.increment();
        return true;
      }
      if (measured(sendNanos)) {
        delivered.increment();
        deliveryLatency.recordValue(clamp(nowNanos - sendNanos));
      }
      return true;
    }
  }

  private static long clamp(long nanos) {
    return Math.max(0, Math.min(nanos, MAX_LATENCY_NANOS));
  }

  /** True once every measured message reached every receiver and every measured send was acked. */
  public boolean complete() {
    return delivered.sum() >= expected.sum() && (!expectAcks || acked.sum() >= sent.sum());
  }

  public Snapshot snapshot() {
    Map<String, Long> errs = new TreeMap<>();
    errors.forEach((k, v) -> errs.put(k, v.sum()));
    Map<String, Long> cls = new TreeMap<>();
    closes.forEach((k, v) -> cls.put(k, v.sum()));
    long exp = expected.sum();
    long del = delivered.sum();
    return new Snapshot(sentTotal.sum(), sent.sum(), exp, del, Math.max(0, exp - del), deliveredTotal.sum(),
        duplicated.sum(), outOfOrder.sum(), foreign.sum(), acked.sum(), ackedNotStored.sum(),
        ackedTotal.sum(), bytesReceived.sum(), bytesSent.sum(), rejected.sum(), rejectedMeasured.sum(), errs, cls,
        deliveryLatency.copy(), ackLatency.copy(), pingLatency.copy());
  }

  /** Counters at one instant; {@code lost} = expected − delivered (measured messages only). */
  public record Snapshot(long sentTotal, long sent, long expected, long delivered, long lost,
      long deliveredTotal, long duplicated, long outOfOrder, long foreign, long acked, long ackedNotStored,
      long ackedTotal, long bytesReceived, long bytesSent, long rejected, long rejectedMeasured, Map<String, Long> errors,
      Map<String, Long> unexpectedCloses, Histogram deliveryLatency, Histogram ackLatency,
      Histogram pingLatency) {

    public long errorFrames() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }
  }
}
