package io.switchboard.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The cluster scenario's send-to-deliver bookkeeping, fed by every {@link ChaosClient} (on their
 * contexts, hence thread-safe): each message sent in the measured window, delivered live, goes to
 * {@link #same} when the receiver's relay port is the one the sender used, else to {@link #cross};
 * once a node was killed, deliveries go to {@link #afterKill} instead (resume replays are slow by
 * nature). {@link #catchUp}: kill to caught up, per client of the killed node.
 */
final class ClusterLatency implements ChaosClient.Probe {
  static final long NANOS_MAX = 120_000_000_000L;

  // cid -> {send nanos, sender's port}; a re-send keeps the first send's time
  private final ConcurrentHashMap<String, long[]> sends = new ConcurrentHashMap<>();
  final Histogram same = new ConcurrentHistogram(NANOS_MAX, 3);
  final Histogram cross = new ConcurrentHistogram(NANOS_MAX, 3);
  final Histogram all = new ConcurrentHistogram(NANOS_MAX, 3);
  final Histogram afterKill = new ConcurrentHistogram(NANOS_MAX, 3);
  final Histogram catchUp = new ConcurrentHistogram(NANOS_MAX, 3);
  final LongAdder sentInWindow = new LongAdder();
  private volatile long windowFrom = Long.MAX_VALUE;
  private volatile long windowTo = Long.MAX_VALUE;
  private volatile long killNanos;

  /** Sends in [from, to) (System.nanoTime) are measured. */
  void window(long from, long to) {
    windowFrom = from;
    windowTo = to;
  }

  void killedAt(long nanos) {
    killNanos = nanos;
  }

  @Override
  public void sent(String cid, int port, long nanos) {
    sends.putIfAbsent(cid, new long[] {nanos, port});
    if (nanos >= windowFrom && nanos < windowTo) {
      sentInWindow.increment();
    }
  }

  @Override
  public void delivered(String cid, int port, long nanos) {
    long[] s = cid == null ? null : sends.get(cid);
    if (s == null || s[0] < windowFrom || s[0] >= windowTo) {
      return;
    }
    long d = Math.min(NANOS_MAX, Math.max(0, nanos - s[0]));
    long k = killNanos;
    if (k != 0 && nanos >= k) {
      afterKill.recordValue(d);
      return;
    }
    all.recordValue(d);
    (s[1] == port ? same : cross).recordValue(d);
  }

  @Override
  public void caughtUp(int idx, long nanos) {
    catchUp.recordValue(Math.min(NANOS_MAX, nanos));
  }
}
