package io.switchboard.signaling.stun;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.datagram.DatagramSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Vert.x instance whose uncaught exceptions are recorded (and must stay none), a meter
 * registry, and a STUN server on loopback ports chosen by the kernel.
 */
abstract class StunTestBase {

  protected Vertx vertx;
  protected SimpleMeterRegistry registry;
  protected StunServer server;
  protected final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
  private final List<DatagramSocket> clientSockets = new ArrayList<>();

  @BeforeAll
  static void routeJulToSlf4j() {
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger();
      SLF4JBridgeHandler.install();
    }
  }

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
    vertx.exceptionHandler(uncaught::add);
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void stopAll() {
    try {
      for (DatagramSocket socket : clientSockets) {
        await(socket.close());
      }
      if (server != null) {
        await(server.close());
      }
    } finally {
      await(vertx.close());
    }
    assertThat(uncaught).as("exceptions that reached Vert.x's exception handler").isEmpty();
  }

  /**
   * One address (127.0.0.1), both ports ephemeral. The per-source limit is out of reach: these
   * tests send thousands of datagrams from one socket and count each (the limit has its own tests).
   */
  static StunOptions oneAddress() {
    return unlimited(new StunOptions().setAddresses(List.of("127.0.0.1")).setPort(0).setAltPort(0));
  }

  /** RFC 5780: 127.0.0.1 and 127.0.0.2 (both local on Linux), both ports ephemeral; no limit in reach. */
  static StunOptions twoAddresses() {
    return unlimited(new StunOptions().setAddresses(List.of("127.0.0.1", "127.0.0.2")).setPort(0).setAltPort(0));
  }

  static StunOptions unlimited(StunOptions options) {
    return options.setRatePerSource(1_000_000).setBurstPerSource(1_000_000);
  }

  StunServer start(StunOptions options) {
    server = await(StunServer.start(vertx, options, registry));
    return server;
  }

  InetSocketAddress endpoint(int index) {
    return server.endpoints().get(index);
  }

  /** A Vert.x UDP socket on 127.0.0.1, closed after the test. */
  DatagramSocket clientSocket() {
    DatagramSocket socket = await(vertx.createDatagramSocket().listen(0, "127.0.0.1"));
    clientSockets.add(socket);
    return socket;
  }

  /**
   * A probe on a new client socket whose RTO (5 s) no loaded machine reaches on loopback, for
   * tests that count requests exactly: a retransmission would be answered and counted twice.
   */
  StunProbe probe(DatagramSocket socket) {
    return new StunProbe(vertx, socket, 5_000, 2);
  }

  static InetSocketAddress localAddress(DatagramSocket socket) {
    return new InetSocketAddress(socket.localAddress().hostAddress(), socket.localAddress().port());
  }

  double count(String result) {
    return registry.get(StunMetrics.REQUESTS).tag(StunMetrics.RESULT_TAG, result).counter().count();
  }

  double counted() {
    return count("answered") + count("error") + count("dropped") + count("rate_limited");
  }

  /** Blocks the test thread (never an event loop) for a future's result; unwraps its failure. */
  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("future not completed within 20 s", e);
    }
  }

  /** The failure of a future that must fail. */
  static Throwable failureOf(Future<?> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
    throw new AssertionError("expected the future to fail");
  }
}
