package io.switchboard.relay.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The dashboard's numbers: one sample a second, read from the relay's own meters (the registry,
 * not the {@code /metrics} text). Counters become per-second rates against the previous sample;
 * every meter of a name is summed over its tags (event loops, servers, pools); the last
 * {@link #KEEP} samples stay so a page opened late starts with five minutes of history. Confined to
 * one context (the admin server's): no locks.
 */
public final class DashboardSampler {
  /** Five minutes at one sample a second. */
  static final int KEEP = 300;

  private final MeterRegistry registry;
  private final LongSupplier wallMs;
  private final LongSupplier nanoClock;
  private final ArrayDeque<JsonObject> samples = new ArrayDeque<>();
  private final Map<String, Double> lastCounts = new HashMap<>();
  private long seq;
  private long lastNanos;
  /** This sample's meters by name (dots and underscores alike: Vert.x's names use the latter). */
  private Map<String, List<Meter>> byName = Map.of();

  public DashboardSampler(MeterRegistry registry, LongSupplier wallMs, LongSupplier nanoClock) {
    this.registry = registry;
    this.wallMs = wallMs;
    this.nanoClock = nanoClock;
  }

  /** Takes a sample now and keeps it; returns it. */
  public JsonObject sample() {
    long now = nanoClock.getAsLong();
    double seconds = seq == 0 ? 0 : (now - lastNanos) / 1e9;
    lastNanos = now;
    byName = new HashMap<>();
    for (Meter m : registry.getMeters()) {
      byName.computeIfAbsent(normal(m.getId().getName()), k -> new ArrayList<>()).add(m);
    }
    JsonObject s = new JsonObject().put("seq", ++seq).put("t", wallMs.getAsLong())
        .put("connections", gauge("switchboard.connections", m -> true))
        .put("rooms", gauge("switchboard.rooms", m -> true))
        .put("messagesIn", rate("messagesIn", count("switchboard.messages.in", m -> true), seconds))
        .put("messagesOut", rate("messagesOut", count("switchboard.messages.out", m -> true), seconds));
    percentiles(s, "delivery", "switchboard.delivery.latency");
    percentiles(s, "lag", "switchboard.eventloop.lag");
    s.put("heapUsed", gauge("jvm.memory.used", tag("area", "heap")))
        // G1's young spaces have no maximum (-1): the old generation's is the heap's
        .put("heapMax", gauge("jvm.memory.max", tag("area", "heap").and(m -> value(m) > 0)))
        .put("rss", gauge("switchboard.process.resident.memory", m -> true))
        .put("dbInUse", gauge("vertx.pool.in.use", tag("pool_type", "sql")))
        .put("dbWaiting", gauge("vertx.pool.queue.pending", tag("pool_type", "sql")))
        .put("flushes", rate("flushes", count("switchboard.store.batch.size", m -> true), seconds))
        .put("rowsWritten", rate("rowsWritten", count("switchboard.store.rows.written", m -> true), seconds))
        .put("breakerOpen", gauge("switchboard.store.breaker.open", m -> true))
        .put("pending", gauge("switchboard.store.pending", m -> true))
        .put("errors", byTag("errors", "switchboard.errors", "code", seconds))
        .put("paths", byTag("paths", "switchboard.p2p.results", "path", seconds));
    samples.addLast(s);
    while (samples.size() > KEEP) {
      samples.removeFirst();
    }
    return s;
  }

  /** The kept samples after {@code afterSeq} (all with 0), oldest first. */
  public JsonArray after(long afterSeq) {
    JsonArray out = new JsonArray();
    for (JsonObject s : samples) {
      if (s.getLong("seq") > afterSeq) {
        out.add(s);
      }
    }
    return out;
  }

  private static String normal(String name) {
    return name.replace('_', '.');
  }

  private static Predicate<Meter> tag(String key, String value) {
    return m -> value.equals(m.getId().getTag(key));
  }

  private List<Meter> meters(String name, Predicate<Meter> filter) {
    return byName.getOrDefault(name, List.of()).stream().filter(filter).toList();
  }

  /** The sum of the gauges of that name; null when there is none (a binder not installed). */
  private Double gauge(String name, Predicate<Meter> filter) {
    List<Meter> found = meters(name, filter.and(m -> m instanceof Gauge));
    if (found.isEmpty()) {
      return null;
    }
    double sum = found.stream().mapToDouble(DashboardSampler::value).sum();
    return Double.isFinite(sum) ? sum : null;
  }

  private static double value(Meter m) {
    return m instanceof Gauge g ? g.value() : Double.NaN;
  }

  /** The sum of the counts (counters, or how many events summaries and timers saw). */
  private double count(String name, Predicate<Meter> filter) {
    double sum = 0;
    for (Meter m : meters(name, filter)) {
      if (m instanceof Counter c) {
        sum += c.count();
      } else if (m instanceof FunctionCounter c) {
        sum += c.count();
      } else if (m instanceof DistributionSummary d) {
        sum += d.count();
      } else if (m instanceof Timer t) {
        sum += t.count();
      }
    }
    return sum;
  }

  /** Per second since the last sample; null on the first (nothing to compare with). */
  private Double rate(String key, double count, double seconds) {
    Double before = lastCounts.put(key, count);
    if (before == null || seconds <= 0) {
      return null;
    }
    // a meter that went away (and back) restarts at 0: no negative rates
    return Math.max(0, count - before) / seconds;
  }

  /** Per-second rates by one tag's value, only those that ever counted (all codes would be noise). */
  private JsonObject byTag(String key, String name, String tag, double seconds) {
    Map<String, Double> counts = new TreeMap<>();
    for (Meter m : meters(name, m -> m.getId().getTag(tag) != null)) {
      counts.merge(m.getId().getTag(tag), count(m), Double::sum);
    }
    JsonObject out = new JsonObject();
    counts.forEach((value, count) -> {
      Double r = rate(key + "/" + value, count, seconds);
      if (count > 0) {
        out.put(value, new JsonObject().put("rate", r).put("total", count));
      }
    });
    return out;
  }

  private static double count(Meter m) {
    if (m instanceof Counter c) {
      return c.count();
    }
    return m instanceof FunctionCounter c ? c.count() : 0;
  }

  /** p50, p99 and max in ms over the timer's recent window (a minute), summed loops share one timer. */
  private void percentiles(JsonObject s, String key, String name) {
    List<Meter> timers = meters(name, m -> m instanceof Timer);
    if (timers.isEmpty()) {
      return;
    }
    Timer timer = (Timer) timers.get(0);
    for (ValueAtPercentile p : timer.takeSnapshot().percentileValues()) {
      if (p.percentile() == 0.5) {
        s.put(key + "P50", p.value(TimeUnit.MILLISECONDS));
      } else if (p.percentile() == 0.99) {
        s.put(key + "P99", p.value(TimeUnit.MILLISECONDS));
      }
    }
    s.put(key + "Max", timer.max(TimeUnit.MILLISECONDS));
  }
}
