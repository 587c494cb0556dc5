package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.protocol.NatClass;
import io.switchboard.protocol.PeerPath;
import io.switchboard.relay.metrics.RelayMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/prometheus and deploy/grafana cannot rot: Debian's promtool checks the alert rules, runs
 * their unit tests and parses every Grafana query, and every metric they name must be in the
 * {@code /metrics} of a real relay (Main in a child JVM, so the JVM and Vert.x meters are there too).
 * Skips loudly without promtool ({@code apt-get install prometheus}); never under {@code CI=true}.
 */
class MonitoringRulesTest {
  private static final Path DEPLOY = Path.of("..", "deploy");
  private static final Path ALERTS = DEPLOY.resolve("prometheus/alerts.yml");
  private static final Path GRAFANA = DEPLOY.resolve("grafana/switchboard.json");
  private static final String PROMTOOL = "/usr/bin/promtool";
  /** The metric families we name: ours, the JVM's and Vert.x's (Prometheus' own {@code up} aside). */
  private static final Pattern METRIC = Pattern.compile("\\b(?:switchboard|jvm|vertx|process|system)_[a-z0-9_]+\\b");
  /**
   * Named before its meter exists on this branch: the database size gauge comes with issue 16's
   * database work (dbpaths). Once merged, the scrape has it and this exemption does nothing.
   */
  private static final Set<String> COMING = Set.of("switchboard_database_bytes");

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static Path dataDir;
  private static Process relay;
  private static Path work;

  @BeforeAll
  static void requirePromtool() throws IOException {
    if (!Files.isExecutable(Path.of(PROMTOOL))) {
      String why = "MonitoringRulesTest needs " + PROMTOOL + " (apt-get install prometheus)";
      if ("true".equals(System.getenv("CI"))) {
        fail(why + "; CI must run it");
      }
      System.err.println("*** SKIPPED: " + why + " ***");
      org.junit.jupiter.api.Assumptions.abort(why);
    }
    work = Files.createTempDirectory("switchboard-rules");
  }

  @AfterAll
  static void stop() throws Exception {
    if (relay != null) {
      relay.destroy(); // SIGTERM: the relay drains and stops its Postgres
      if (!relay.waitFor(30, TimeUnit.SECONDS)) {
        relay.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    for (Path dir : new Path[] {dataDir, work}) {
      if (dir != null) {
        try (Stream<Path> files = Files.walk(dir)) {
          files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  @Test
  void alertRulesPassPromtoolAndTheirUnitTests() throws Exception {
    Result check = promtool("check", "rules", ALERTS.toString());
    assertThat(check.exit()).as(check.output()).isZero();
    assertThat(check.output()).contains("SUCCESS: 9 rules found");
    Result unit = promtool("test", "rules", DEPLOY.resolve("prometheus/alerts.test.yml").toString());
    assertThat(unit.exit()).as(unit.output()).isZero();
    Result config = promtool("check", "config", DEPLOY.resolve("prometheus/prometheus.yml").toString());
    assertThat(config.exit()).as(config.output()).isZero();
  }

  @Test
  void promtoolRefusesABrokenRule() throws Exception {
    Path broken = work.resolve("broken.yml");
    Files.writeString(broken, "groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum by (instance (up)\n");
    assertThat(promtool("check", "rules", broken.toString()).exit()).isNotZero();
  }

  /** Grafana's variables filled in, each query becomes a recording rule: promtool parses it. */
  @Test
  void everyGrafanaQueryParses() throws Exception {
    List<String> exprs = grafanaExprs();
    assertThat(exprs).hasSizeGreaterThan(10);
    StringBuilder rules = new StringBuilder("groups:\n  - name: grafana\n    rules:\n");
    for (int i = 0; i < exprs.size(); i++) {
      String expr = exprs.get(i).replace("$__range", "1h").replace("$instance", ".*");
      rules.append("      - record: grafana:query_").append(i).append("\n        expr: ")
          .append(new JsonArray().add(expr).encode(), 1, new JsonArray().add(expr).encode().length() - 1).append('\n');
    }
    Path file = work.resolve("grafana-queries.yml");
    Files.writeString(file, rules);
    Result check = promtool("check", "rules", file.toString());
    assertThat(check.exit()).as(rules + "\n" + check.output()).isZero();
  }

  @Test
  void everyMetricTheRulesAndDashboardNameIsExported() throws Exception {
    Set<String> named = new TreeSet<>(names(Files.readAllLines(ALERTS).stream()
        .filter(line -> !line.trim().startsWith("#")).reduce("", (a, b) -> a + "\n" + b)));
    grafanaExprs().forEach(e -> named.addAll(names(e)));
    // the extraction found what is there (an empty set would pass anything)
    assertThat(named).contains("switchboard_store_breaker_open", "switchboard_delivery_latency_seconds",
        "jvm_memory_used_bytes", "vertx_pool_in_use", "switchboard_p2p_results_total", "switchboard_ready");

    Set<String> exported = new TreeSet<>(exported(scrapeRealRelay()));
    exported.addAll(exported(lazyMeters()));
    Set<String> missing = new TreeSet<>(named);
    missing.removeAll(exported);
    missing.removeAll(COMING);
    assertThat(missing).as("named in deploy/ but not in a relay's /metrics").isEmpty();
  }

  /** The comparison above can fail: a renamed meter (or a typo in a rule) is named but not exported. */
  @Test
  void aMetricNameMissingFromTheScrapeIsFound() {
    Set<String> exported = exported("""
        # HELP switchboard_store_breaker_open 1 while open
        # TYPE switchboard_store_breaker_open gauge
        switchboard_store_breaker_open 0.0
        switchboard_errors_total{code="not_joined"} 3.0
        """);
    assertThat(exported).containsExactlyInAnyOrder("switchboard_store_breaker_open", "switchboard_errors_total");
    Set<String> named = names("max(switchboard_store_breaker_opened) or rate(switchboard_errors_total{code=\"x\"}[5m])");
    named.removeAll(exported);
    assertThat(named).containsExactly("switchboard_store_breaker_opened");
  }

  /** Meters registered on first use (outcomes by NAT pair): the relay's own code, exercised. */
  private static String lazyMeters() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RelayMetrics metrics = new RelayMetrics(registry);
    metrics.p2pResult(NatClass.values()[0].wire() + "/" + NatClass.values()[0].wire(), PeerPath.P2P, PeerPath.P2P, 5);
    metrics.steer(PeerPath.TURN, "learned");
    metrics.disconnect("idle");
    return registry.scrape();
  }

  private static String scrapeRealRelay() throws Exception {
    dataDir = Files.createTempDirectory("switchboard-rules-relay");
    int port = RelayChildProcess.freePort();
    int adminPort = RelayChildProcess.freePort();
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    relay = RelayChildProcess.start(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath, Main.class.getName()),
        dataDir, port, adminPort, Map.of("SWITCHBOARD_P2P_ENABLED", "false"), HTTP, Duration.ofSeconds(90));
    HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    return metrics.body();
  }

  /** Metric names in Prometheus text: every sample's name and every TYPE line's family. */
  static Set<String> exported(String text) {
    Set<String> names = new TreeSet<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        names.add(line.split(" ")[2]);
      } else if (!line.isBlank() && !line.startsWith("#")) {
        int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
        names.add(line.substring(0, end));
      }
    }
    return names;
  }

  static Set<String> names(String promql) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(promql);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }

  private static List<String> grafanaExprs() throws IOException {
    List<String> exprs = new ArrayList<>();
    JsonObject dashboard = new JsonObject(Files.readString(GRAFANA));
    for (Object panel : dashboard.getJsonArray("panels")) {
      for (Object target : ((JsonObject) panel).getJsonArray("targets", new JsonArray())) {
        exprs.add(((JsonObject) target).getString("expr"));
      }
    }
    return exprs;
  }

  private record Result(int exit, String output) {}

  private static Result promtool(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(PROMTOOL));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), output);
  }
}
