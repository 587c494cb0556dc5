package io.switchboard.relay.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The sampler on a plain registry and a clock the test moves: rates, sums, gaps, the kept window. */
class DashboardSamplerTest {
  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final DashboardSampler sampler = new DashboardSampler(registry, () -> nanos.get() / 1_000_000, nanos::get);

  private void elapse(long ms) {
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  @Test
  void countersBecomeRatesPerSecondOfTheTimeThatPassed() {
    Counter in = Counter.builder("switchboard.messages.in").register(registry);
    in.increment(1000); // before the first sample: history, not rate
    assertThat(sampler.sample().getValue("messagesIn")).as("no rate without a previous sample").isNull();
    in.increment(30);
    elapse(500);
    assertThat(sampler.sample().getDouble("messagesIn")).isCloseTo(60.0, within(1e-9));
    elapse(2000);
    assertThat(sampler.sample().getDouble("messagesIn")).isZero();
  }

  @Test
  void metersOfOneNameAreSummedOverTagsAndVertxUnderscoreNamesFound() {
    AtomicLong a = new AtomicLong(3);
    AtomicLong b = new AtomicLong(4);
    Gauge.builder("vertx_pool_in_use", a, AtomicLong::get).tag("pool_type", "sql").tag("pool_name", "one").register(registry);
    Gauge.builder("vertx_pool_in_use", b, AtomicLong::get).tag("pool_type", "sql").tag("pool_name", "two").register(registry);
    Gauge.builder("vertx_pool_in_use", () -> 100).tag("pool_type", "worker").register(registry);
    Gauge.builder("jvm.memory.max", () -> -1).tag("area", "heap").tag("id", "eden").register(registry);
    Gauge.builder("jvm.memory.max", () -> 256).tag("area", "heap").tag("id", "old").register(registry);
    Gauge.builder("jvm.memory.max", () -> 1000).tag("area", "nonheap").tag("id", "meta").register(registry);
    JsonObject s = sampler.sample();
    assertThat(s.getDouble("dbInUse")).as("sql pools only, both of them").isEqualTo(7.0);
    assertThat(s.getDouble("heapMax")).as("heap only, no -1").isEqualTo(256.0);
    assertThat(s.getValue("heapUsed")).as("no such meter: null, not 0").isNull();
    assertThat(s.getValue("rss")).isNull();
  }

  @Test
  void errorsByCodeOnlyForCodesThatCounted() {
    Counter storage = Counter.builder("switchboard.errors").tag("code", "storage_unavailable").register(registry);
    Counter.builder("switchboard.errors").tag("code", "not_joined").register(registry);
    sampler.sample();
    storage.increment(4);
    elapse(1000);
    JsonObject errors = sampler.sample().getJsonObject("errors");
    assertThat(errors.fieldNames()).containsExactly("storage_unavailable");
    assertThat(errors.getJsonObject("storage_unavailable").getDouble("rate")).isEqualTo(4.0);
    assertThat(errors.getJsonObject("storage_unavailable").getDouble("total")).isEqualTo(4.0);
  }

  @Test
  void timerPercentilesInMilliseconds() {
    Timer t = Timer.builder("switchboard.delivery.latency").publishPercentiles(0.5, 0.99).register(registry);
    for (int i = 1; i <= 100; i++) {
      t.record(i, TimeUnit.MILLISECONDS);
    }
    JsonObject s = sampler.sample();
    assertThat(s.getDouble("deliveryP50")).isBetween(45.0, 55.0);
    assertThat(s.getDouble("deliveryP99")).isBetween(95.0, 101.0);
    assertThat(s.getDouble("deliveryMax")).isEqualTo(100.0);
    assertThat(s.containsKey("lagP99")).as("no lag timer here").isFalse();
  }

  @Test
  void keepsFiveMinutesAndAnswersOnlyNewerSamples() {
    for (int i = 0; i < DashboardSampler.KEEP + 20; i++) {
      elapse(1000);
      sampler.sample();
    }
    JsonArray all = sampler.after(0);
    assertThat(all).hasSize(DashboardSampler.KEEP);
    assertThat(all.getJsonObject(0).getLong("seq")).isEqualTo(21);
    JsonArray newer = sampler.after(all.getJsonObject(all.size() - 2).getLong("seq"));
    assertThat(newer).hasSize(1);
    assertThat(newer.getJsonObject(0).getLong("seq")).isEqualTo(DashboardSampler.KEEP + 20L);
    assertThat(sampler.after(DashboardSampler.KEEP + 20L)).isEmpty();
  }
}
