package io.switchboard.relay.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class EventLoopLagTest {
  private static final long MS = 1_000_000L;

  @Test
  void recordsHowLateTheProbeFired() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AtomicLong now = new AtomicLong(5 * MS);
    EventLoopLag lag = new EventLoopLag(registry, now::get);

    lag.armed(100 * MS);
    now.addAndGet(103 * MS);
    lag.fired();
    lag.armed(100 * MS);
    now.addAndGet(100 * MS);
    lag.fired();

    Timer timer = registry.get("switchboard.eventloop.lag").timer();
    assertThat(timer.count()).isEqualTo(2);
    assertThat(timer.max(TimeUnit.MILLISECONDS)).isEqualTo(3.0);
    assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(3.0);
  }

  @Test
  void anEarlyOrUnarmedFiringRecordsNoNegativeLag() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AtomicLong now = new AtomicLong(0);
    EventLoopLag lag = new EventLoopLag(registry, now::get);

    lag.fired(); // never armed
    lag.armed(100 * MS);
    now.addAndGet(99 * MS);
    lag.fired();
    lag.fired(); // fired twice for one arming

    Timer timer = registry.get("switchboard.eventloop.lag").timer();
    assertThat(timer.count()).isEqualTo(1);
    assertThat(timer.max(TimeUnit.MILLISECONDS)).isZero();
  }
}
