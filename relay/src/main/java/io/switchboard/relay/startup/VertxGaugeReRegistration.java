package io.switchboard.relay.startup;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops one false alarm, and only it: Micrometer's "This Gauge has been already registered
 * (MeterId{name='vertx.…'})" WARN. Vert.x Micrometer 5.0.8 registers a server's connection gauge
 * again for every accepted connection (and the request, WebSocket and pool gauges per request,
 * socket and acquisition), keeping the value in its own map by meter id, so the re-registration is
 * by design and the values are right; Micrometer since 1.13.9 warns on any second registration of
 * a gauge. It showed on the admin port first because every Prometheus scrape is a new connection.
 * Upstream: vert-x3/vertx-micrometer-metrics#259, closed by documenting it. The relay's own gauges
 * ({@code switchboard.*}) are registered once at start; a double registration of one of those is a
 * real bug, and its warning still shows.
 */
public final class VertxGaugeReRegistration extends TurboFilter {
  static final String MICROMETER_REGISTRY = "io.micrometer.core.instrument.MeterRegistry";

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level == Level.WARN && format != null && MICROMETER_REGISTRY.equals(logger.getName())
        && format.startsWith("This Gauge has been already registered (MeterId{name='vertx.")) {
      return FilterReply.DENY;
    }
    return FilterReply.NEUTRAL;
  }
}
