package io.switchboard.relay;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.relay.config.LimitsOptions;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;

/**
 * Starts a real relay (embedded Postgres in a temp data folder, ports chosen by the OS) once per
 * test class, and closes clients after each test.
 */
public abstract class RelayTestBase {
  protected static Vertx vertx;
  protected static Path dataDir;
  protected static RelayVerticle relay;
  protected static String deployment;
  protected static RelayOptions options;
  protected static PrometheusMeterRegistry registry;
  /**
   * The relay's wall clock (token expiry, JWT time claims): real time plus {@link #clockOffsetMs},
   * which tests move instead of sleeping.
   */
  protected static final AtomicLong clockOffsetMs = new AtomicLong();
  private final List<TestClient> clients = new ArrayList<>();

  /** The relay's wall clock now (epoch ms). */
  protected static long relayNowMs() {
    return System.currentTimeMillis() + clockOffsetMs.get();
  }

  /**
   * Subclasses override to change settings (auth options: {@code baseOptions().setAuth(...)}); ports
   * and data folder are set afterwards.
   */
  protected static RelayOptions baseOptions() {
    return new RelayOptions().setRateFramesPerSecond(10_000).setRateBurst(10_000).setLimits(generousLimits());
  }

  /** Every test client connects from 127.0.0.1: per-address limits high enough for any test but LimitsTest. */
  protected static LimitsOptions generousLimits() {
    return new LimitsOptions().setMaxConnectionsPerAddress(100_000)
        .setHandshakesPerAddressPerSecond(100_000).setHandshakeBurst(100_000)
        .setHttpRequestsPerAddressPerSecond(100_000).setHttpBurst(100_000)
        .setRoomLoadsPerAddressPerSecond(100_000).setRoomLoadBurst(100_000)
        .setTurnCredentialsPerAddressPerMinute(100_000).setTurnCredentialBurst(100_000)
        .setMaxConcurrentHistoryReads(1_000);
  }

  protected static void startRelay(RelayOptions relayOptions) {
    try {
      if (dataDir == null) {
        dataDir = Files.createTempDirectory("switchboard-test");
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    if (vertx == null) {
      vertx = Vertx.vertx();
    }
    StoreOptions store = new StoreOptions(relayOptions.getStore()).setDataDir(dataDir.toString());
    // Any free ports, loopback only: tests run beside other relays and never bind public interfaces.
    // The admin port keeps its default host, loopback (PortGuardsTest checks it binds nothing else).
    P2pOptions p2p = new P2pOptions(relayOptions.getP2p().toJson()).setStunAddresses("127.0.0.1").setStunPort(0)
        .setStunAltPort(0);
    options = new RelayOptions(relayOptions).setHost("127.0.0.1").setPort(0).setAdminPort(0).setStore(store).setP2p(p2p);
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    clockOffsetMs.set(0);
    relay = new RelayVerticle(options, registry, RelayTestBase::relayNowMs);
    deployment = TestClient.sync(vertx.deployVerticle(relay), 60);
  }

  protected static void stopRelay() {
    if (deployment != null) {
      TestClient.sync(vertx.undeploy(deployment), 60);
      deployment = null;
    }
  }

  @AfterAll
  static void tearDown() throws IOException {
    stopRelay();
    if (vertx != null) {
      TestClient.sync(vertx.close(), 30);
      vertx = null;
    }
    if (dataDir != null) {
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
      dataDir = null;
    }
  }

  @AfterEach
  void closeClients() {
    for (TestClient c : clients) {
      try {
        c.close();
      } catch (RuntimeException ignored) {
        // already closed by the server
      }
    }
    clients.clear();
  }

  protected TestClient client() {
    TestClient c = TestClient.connect(vertx, relay.port());
    clients.add(c);
    return c;
  }

  /** A client connecting from another loopback address (Linux routes all of 127.0.0.0/8 to lo). */
  protected TestClient clientFrom(String localAddress) {
    TestClient c = TestClient.connect(vertx, relay.port(),
        new io.vertx.core.http.WebSocketClientOptions().setLocalAddress(localAddress));
    clients.add(c);
    return c;
  }

  /** A client that said hello and joined the given rooms. */
  protected TestClient member(String... rooms) {
    TestClient c = client();
    c.hello();
    for (String room : rooms) {
      c.join(room);
    }
    return c;
  }

  protected static List<Row> query(String sql, Object... args) {
    List<Row> rows = new ArrayList<>();
    TestClient.sync(relay.database().pool().preparedQuery(sql).execute(Tuple.from(args)), 10).forEach(rows::add);
    return rows;
  }

  protected static long count(String sql, Object... args) {
    return query(sql, args).get(0).getLong(0);
  }

  /** HTTP/1.1 only: the JDK client's default would try an h2c upgrade. */
  protected static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  protected static HttpResponse<byte[]> get(int port, String path, String... headers) {
    return call("GET", port, path, headers);
  }

  protected static HttpResponse<byte[]> call(String method, int port, String path, String... headers) {
    return call(HTTP, method, port, path, headers);
  }

  protected static HttpResponse<byte[]> call(HttpClient http, String method, int port, String path,
      String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The admin port's Prometheus text. */
  protected static String scrapeMetrics() {
    return new String(get(relay.adminPort(), "/metrics").body(), java.nio.charset.StandardCharsets.UTF_8);
  }
}
