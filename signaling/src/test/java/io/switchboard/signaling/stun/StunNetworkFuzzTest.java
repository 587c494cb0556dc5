package io.switchboard.signaling.stun;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.switchboard.signaling.stun.BindingHandler.Result;
import io.vertx.core.datagram.DatagramSocket;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile datagrams over real UDP to a running two-address server: 22,500 random ones (0-2000
 * bytes) and 22,500 mutations of valid requests, to random server sockets. The server must count
 * every one exactly as the socket-free handler classifies it, log no warning, let nothing reach
 * Vert.x's exception handler, and still answer correctly afterwards.
 * <p>
 * Sent in bursts of 32, each followed by a wait until the server has counted it, so the socket
 * buffer never overflows and no datagram is lost. Reproduce with {@code -Dstun.fuzz.seed=<seed>}.
 */
class StunNetworkFuzzTest extends StunTestBase {

  static final long SEED = Long.getLong("stun.fuzz.seed", System.nanoTime());
  static final int EACH = 22_500;
  static final int BURST = 32;

  @Test
  void survivesHostileDatagramsAndStillAnswers() throws Exception {
    start(twoAddresses());
    ListAppender<ILoggingEvent> log = captureLogs();
    List<Thread> eventLoops = Thread.getAllStackTraces().keySet().stream()
      .filter(t -> t.getName().startsWith("vert.x-eventloop-thread-")).toList();
    BindingHandler oracle = new BindingHandler(server.endpoints());
    StunMutator mutator = new StunMutator(SEED);
    Random targets = new Random(SEED);
    Map<Result, Integer> expected = new EnumMap<>(Result.class);
    int sent = 0;

    try (java.net.DatagramSocket fuzzer = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      InetSocketAddress self = (InetSocketAddress) fuzzer.getLocalSocketAddress();
      for (int i = 0; i < 2 * EACH; i++) {
        byte[] datagram = i % 2 == 0 ? mutator.randomDatagram(2000) : mutator.mutateSeed();
        int target = targets.nextInt(4);
        expected.merge(oracle.handle(datagram, self, target).result(), 1, Integer::sum);
        fuzzer.send(new DatagramPacket(datagram, datagram.length, endpoint(target)));
        sent++;
        if (sent % BURST == 0) {
          waitUntilCounted(sent);
        }
      }
      waitUntilCounted(sent);
    } finally {
      ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(log);
    }

    String seed = "seed " + SEED;
    System.out.printf("StunNetworkFuzzTest %s: %d datagrams, %s%n", seed, sent, expected);
    assertThat(counted()).as(seed).isEqualTo((double) sent);
    for (Result result : Result.values()) {
      assertThat(count(result.tag())).as("%s %s", seed, result).isEqualTo((double) expected.getOrDefault(result, 0));
    }
    assertThat(expected.get(Result.ANSWERED)).as(seed).isGreaterThan(500);
    assertThat(expected.get(Result.ERROR)).as(seed).isGreaterThan(100);
    assertThat(log.list).as("WARN/ERROR lines logged during the fuzz; %s", seed)
      .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).isEmpty();
    assertThat(uncaught).as(seed).isEmpty();
    assertThat(eventLoops).as("event-loop threads alive").allMatch(Thread::isAlive);

    // every socket still answers a valid request correctly
    DatagramSocket client = clientSocket();
    StunProbe probe = new StunProbe(vertx, client);
    for (int i = 0; i < 4; i++) {
      StunProbe.Binding binding = await(probe.bind(endpoint(i), false, true));
      assertThat(binding.mapped()).isEqualTo(localAddress(client));
      assertThat(binding.from()).isEqualTo(endpoint(i ^ 1));
    }
  }

  private void waitUntilCounted(int sent) {
    Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10))
      .until(() -> counted() >= sent);
  }

  private static ListAppender<ILoggingEvent> captureLogs() {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(appender);
    return appender;
  }
}
