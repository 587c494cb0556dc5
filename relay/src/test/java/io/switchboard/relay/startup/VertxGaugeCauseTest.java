package io.switchboard.relay.startup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Why {@link VertxGaugeReRegistration} may drop the warning: with Main's metrics options, Vert.x
 * Micrometer registers a server's connection gauge again for every connection (the cause), and the
 * one gauge still counts them right. If a Vert.x upgrade stops re-registering, the first assertion
 * fails: then the filter can go.
 */
class VertxGaugeCauseTest {
  private static final String GAUGE = "vertx.http.server.active.connections";

  @Test
  void everyConnectionRegistersTheGaugeAgainAndItsValueIsStillRight() throws Exception {
    Logger micrometer = (Logger) LoggerFactory.getLogger(VertxGaugeReRegistration.MICROMETER_REGISTRY);
    Level before = micrometer.getLevel();
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    micrometer.addAppender(seen);
    // Micrometer warns once per JVM, then logs the same at DEBUG: catch either
    micrometer.setLevel(Level.DEBUG);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).addLabels(Label.LOCAL)))
        .withMetrics(new MicrometerMetricsFactory(registry)).build();
    List<Socket> sockets = new ArrayList<>();
    try {
      HttpServer server = vertx.createHttpServer().requestHandler(r -> r.response().end("ok"))
          .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      for (int i = 0; i < 3; i++) {
        sockets.add(new Socket(InetAddress.getLoopbackAddress(), server.actualPort()));
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> value(registry) == 3.0);
      assertThat(registry.find(GAUGE).gauges()).as("one gauge for the server").hasSize(1);
      assertThat(seen.list).as("a re-registration per connection after the first")
          .filteredOn(e -> e.getFormattedMessage().contains("already registered (MeterId{name='" + GAUGE + "'"))
          .hasSizeGreaterThanOrEqualTo(2);
      for (Socket s : sockets) {
        s.close();
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> value(registry) == 0.0);
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      micrometer.detachAppender(seen);
      micrometer.setLevel(before);
    }
  }

  private static double value(PrometheusMeterRegistry registry) {
    Collection<Gauge> gauges = registry.find(GAUGE).gauges();
    return gauges.stream().mapToDouble(Gauge::value).sum();
  }
}
