package io.switchboard.relay;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.relay.cluster.ClusterStart;
import io.switchboard.relay.config.ConfigLoader;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.startup.EmbeddedPlatform;
import io.switchboard.relay.startup.LogFormat;
import io.switchboard.relay.startup.StartMessages;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * {@code java -jar switchboard.jar [--config FILE]}. Settings come from defaults, the JSON file and
 * environment variables (docs/operations.md). SIGTERM drains gracefully.
 */
public final class Main {
  /** Exit status when the drain ended with messages unwritten (or did not end in time). */
  static final int EXIT_UNCLEAN_SHUTDOWN = 3;

  private Main() {
  }

  public static void main(String[] args) {
    // before the first logger: logback picks its appender by this value and would print nothing on a typo
    String logFormatProblem = LogFormat.problem(System.getenv(LogFormat.ENV));
    if (logFormatProblem != null) {
      System.err.println("switchboard: bad configuration: " + logFormatProblem);
      System.exit(2);
      return;
    }
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    Logger log = LoggerFactory.getLogger(Main.class);

    RelayOptions options;
    try {
      options = ConfigLoader.load(System.getenv(), configArg(args));
    } catch (IllegalArgumentException e) {
      System.err.println("switchboard: bad configuration: " + e.getMessage());
      System.exit(2);
      return;
    }

    String clusterProblem = ClusterStart.problem(options);
    if (clusterProblem != null) {
      System.err.println("switchboard: " + clusterProblem);
      System.exit(2);
      return;
    }
    String dbUrl = options.getStore().getDatabaseUrl();
    String platformProblem = dbUrl == null ? EmbeddedPlatform.problem() : null;
    if (platformProblem != null) {
      System.err.println("switchboard: " + platformProblem);
      System.exit(2);
      return;
    }
    // at once: a first start is otherwise silent for seconds (unpacking and initdb)
    log.info(StartMessages.starting(StartMessages.version(), dbUrl, Path.of(options.getStore().getDataDir())));

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    VertxOptions vertxOptions = new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
        // the public and admin servers would otherwise share (and fight over) one set of gauges
        .addLabels(Label.LOCAL));
    // a loop per shard at least, else shards share loops (correct, but not parallel)
    vertxOptions.setEventLoopPoolSize(Math.max(vertxOptions.getEventLoopPoolSize(), options.effectiveEventLoops()));
    VertxBuilder builder = Vertx.builder().with(vertxOptions).withMetrics(new MicrometerMetricsFactory(registry));
    RelayVerticle relay = new RelayVerticle(options, registry);
    Vertx vertx;
    if (options.getCluster().enabled()) {
      try {
        vertx = ClusterStart.start(builder, vertxOptions, options, relay.incarnation()).await();
      } catch (Exception e) {
        // e.g. "Port [5701] is already in use": name the settings that chose it
        log.error("joining the cluster failed (this member {}:{}, SWITCHBOARD_CLUSTER_HOST/_PORT; members {}): {}",
            options.getCluster().getHost(), options.getCluster().getPort(), options.getCluster().getMembers(),
            e.getMessage(), e);
        System.exit(1);
        return;
      }
    } else {
      vertx = builder.build();
    }
    String deployment;
    try {
      deployment = vertx.deployVerticle(relay).await();
    } catch (Exception e) {
      // names the port taken, if that was it; everything started has been stopped
      log.error("relay failed to start: {}", e.getMessage(), e);
      vertx.close();
      System.exit(1);
      return;
    }
    long graceMs = options.getShutdownGraceMs() + 5000;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down: draining connections and pending writes");
      boolean clean = true;
      try {
        vertx.undeploy(deployment).toCompletionStage().toCompletableFuture().get(graceMs, TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        // e.g. "N messages unwritten after ... ms": acked messages that are not stored
        log.error("unclean shutdown: {}", e.getCause() != null ? e.getCause().getMessage() : e.toString());
        clean = false;
        // Never leave an embedded Postgres running behind a dead JVM.
        relay.database().close().toCompletionStage().toCompletableFuture().join();
      }
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("vert.x did not close cleanly: {}", e.toString());
      }
      if (!clean) {
        // a signal's exit status (143) would look like a clean drain to a supervisor
        Runtime.getRuntime().halt(EXIT_UNCLEAN_SHUTDOWN);
      }
    }, "switchboard-shutdown"));
  }

  private static Path configArg(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        return Path.of(args[i + 1]);
      }
      if (args[i].startsWith("--config=")) {
        return Path.of(args[i].substring("--config=".length()));
      }
    }
    return null;
  }
}
