package io.switchboard.relay.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How late one of the relay's event loops runs a timer (one probe per shard loop, all recorded in
 * the one timer). Every frame, fanout, storage callback and timer of a shard shares its loop, so
 * this is how long any of them may have waited to start: the first number to look at when latency
 * tails grow. It includes the loop's timer granularity (up to about a millisecond with Java NIO's
 * selector).
 */
public final class EventLoopLag {
  private final Timer lag;
  private final LongSupplier nanoClock;
  private long dueNanos = Long.MIN_VALUE;

  public EventLoopLag(MeterRegistry registry, LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.lag = Timer.builder("switchboard.eventloop.lag")
        .description("How much later than due the relay's event loop ran its lag probe timer")
        .publishPercentiles(0.5, 0.99)
        .distributionStatisticExpiry(Duration.ofMinutes(1))
        .register(registry);
  }

  /** A probe timer was just armed to fire after {@code delayNanos}. */
  public void armed(long delayNanos) {
    dueNanos = nanoClock.getAsLong() + delayNanos;
  }

  /** The probe timer fired: records how late, if it was armed. */
  public void fired() {
    if (dueNanos == Long.MIN_VALUE) {
      return;
    }
    lag.record(Math.max(0, nanoClock.getAsLong() - dueNanos), TimeUnit.NANOSECONDS);
    dueNanos = Long.MIN_VALUE;
  }
}
