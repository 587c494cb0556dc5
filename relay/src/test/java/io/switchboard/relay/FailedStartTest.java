package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Finding 10: a start that fails on a taken port says which port, protocol and setting, and
 * leaves nothing running: no Postgres of its data folder, no bound socket.
 */
class FailedStartTest {
  private static Vertx vertx;
  // one folder for both: initdb once
  private static Path dataDir;

  @BeforeAll
  static void setUp() throws IOException {
    vertx = Vertx.vertx();
    dataDir = Files.createTempDirectory("switchboard-failed-start");
  }

  @AfterAll
  static void tearDown() throws IOException {
    TestClient.sync(vertx.close(), 30);
    // a failing test must not leave its Postgres behind
    String folder = dataDir.toString();
    ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(c -> c.contains(folder)).orElse(false))
        .forEach(p -> {
          p.destroy();
          p.onExit().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> p).join();
        });
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private RelayOptions options(int stunPort, int publicPort) {
    return new RelayOptions().setHost("127.0.0.1").setPort(publicPort).setAdminHost("127.0.0.1").setAdminPort(0)
        .setStore(new StoreOptions().setDataDir(dataDir.toString()))
        .setP2p(new P2pOptions().setStunAddresses("127.0.0.1").setStunPort(stunPort).setStunAltPort(0));
  }

  private Throwable failedStart(RelayOptions options) {
    RelayVerticle relay = new RelayVerticle(options, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    return assertThrows(Throwable.class, () -> TestClient.sync(vertx.deployVerticle(relay), 60));
  }

  @Test
  void aTakenStunPortIsNamedAndPostgresIsStopped() throws Exception {
    try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      int port = taken.getLocalPort();
      Throwable failure = failedStart(options(port, 0));
      assertNothingOfTheFolderRuns();
      assertThat(messages(failure)).contains("UDP 127.0.0.1:" + port + " (STUN, SWITCHBOARD_P2P_STUN_PORT) is already in use");
    }
  }

  @Test
  void aTakenPublicPortIsNamedAndEverythingStartedIsStopped() throws Exception {
    int stunPort;
    try (DatagramSocket free = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      stunPort = free.getLocalPort();
    }
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Throwable failure = failedStart(options(stunPort, port));
      assertNothingOfTheFolderRuns();
      assertThat(messages(failure)).contains("TCP 127.0.0.1:" + port + " (public HTTP/WebSocket, SWITCHBOARD_PORT) is already in use");
    }
    // the STUN socket the start had bound is free again
    new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), stunPort)).close();
  }

  private void assertNothingOfTheFolderRuns() {
    String folder = dataDir.toString();
    List<String> left = ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(folder)).orElse(false))
        .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
    assertThat(left).as("processes of " + folder).isEmpty();
    assertThat(dataDir.resolve("pg/postmaster.pid")).as("Postgres stopped cleanly").doesNotExist();
  }

  private static String messages(Throwable t) {
    StringBuilder all = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      all.append(c.getMessage()).append(" / ");
    }
    return all.toString();
  }
}
