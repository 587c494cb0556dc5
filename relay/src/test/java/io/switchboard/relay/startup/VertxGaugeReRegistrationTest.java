package io.switchboard.relay.startup;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

/** The filter drops Vert.x's by-design gauge re-registration warning and nothing else. */
class VertxGaugeReRegistrationTest {
  private final LoggerContext context = new LoggerContext();
  private final VertxGaugeReRegistration filter = new VertxGaugeReRegistration();

  private FilterReply decide(String logger, Level level, String message) {
    return filter.decide(null, context.getLogger(logger), level, message, null, null);
  }

  private static String warning(String meter) {
    // Micrometer 1.15's text, as logged at the admin port's second connection
    return "This Gauge has been already registered (MeterId{name='" + meter + "', tags=[tag(local=127.0.0.1:8081)]}), "
        + "the registration will be ignored. Note that subsequent logs will be logged at debug level.";
  }

  @Test
  void vertxConnectionGaugesReRegisteredPerConnectionAreDropped() {
    assertThat(decide(VertxGaugeReRegistration.MICROMETER_REGISTRY, Level.WARN,
        warning("vertx.http.server.active.connections"))).isEqualTo(FilterReply.DENY);
    assertThat(decide(VertxGaugeReRegistration.MICROMETER_REGISTRY, Level.WARN,
        warning("vertx.pool.queue.pending"))).isEqualTo(FilterReply.DENY);
  }

  @Test
  void theRelaysOwnGaugesOtherLoggersAndOtherWarningsStillShow() {
    assertThat(decide(VertxGaugeReRegistration.MICROMETER_REGISTRY, Level.WARN, warning("switchboard.connections")))
        .isEqualTo(FilterReply.NEUTRAL);
    assertThat(decide(VertxGaugeReRegistration.MICROMETER_REGISTRY, Level.WARN,
        "This FunctionCounter has been already registered (MeterId{name='vertx.x'})")).isEqualTo(FilterReply.NEUTRAL);
    assertThat(decide("io.switchboard.relay.Main", Level.WARN, warning("vertx.http.server.active.connections")))
        .isEqualTo(FilterReply.NEUTRAL);
    assertThat(decide(VertxGaugeReRegistration.MICROMETER_REGISTRY, Level.ERROR,
        warning("vertx.http.server.active.connections"))).isEqualTo(FilterReply.NEUTRAL);
    assertThat(decide(VertxGaugeReRegistration.MICROMETER_REGISTRY, Level.WARN, null)).isEqualTo(FilterReply.NEUTRAL);
  }
}
