package io.switchboard.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Repeated create/connect/close in one JVM leaves no threads, bound ports or sockets behind.
 *
 * <p>ice4j keeps a few process-wide executors (thread names {@code ice4j.*}); their threads are
 * shared by all agents and expire after 60 s idle, so they are not counted as per-peer threads.
 * Everything else a peer starts (ice4j's {@code IceConnector@…} and {@code MergingDatagramSocket
 * reader} threads, our reader) must be gone after close.
 */
class LeakTest {
  private static final int PAIRS = 10; // 20 peers

  @Test
  void twentyPeersCreatedConnectedAndClosedLeaveNothingBehind() throws Exception {
    runPairs(1); // warm-up: ice4j's static pools, jitsi config, class loading
    awaitOnlyBaselineThreads(Set.of());
    Set<Thread> baselineThreads = liveThreads();
    Set<String> baselineSockets = socketInodes();
    Set<String> baselineBound = boundUdpInodes(baselineSockets);

    List<IcePeer> peers = runPairs(PAIRS);
    assertThat(liveThreads().stream().filter(t -> t.getName().startsWith("switchboard-peer-rx-"))).hasSize(2 * PAIRS);
    assertThat(socketInodes().size()).isGreaterThan(baselineSockets.size() + 2 * PAIRS);
    peers.forEach(IcePeer::close);

    // Our reader threads are joined by close(); ice4j's per-socket threads notice the close shortly after.
    assertThat(liveThreads().stream().filter(t -> t.getName().startsWith("switchboard-peer-rx-"))).isEmpty();
    awaitOnlyBaselineThreads(baselineThreads);
    assertThat(liveThreads().size())
        .as("live threads: before %d, after %s", baselineThreads.size(), names(liveThreads()))
        .isLessThanOrEqualTo(baselineThreads.size() + sharedIce4jThreadsAdded(baselineThreads));

    // No UDP port stays bound...
    Set<String> stillBound = boundUdpInodes(socketInodes());
    stillBound.removeAll(baselineBound);
    assertThat(stillBound).as("UDP sockets still bound after close").isEmpty();
    // ...and the unbound placeholder sockets ice4j's DelegatingDatagramSocket opens (its
    // MultiplexedDatagramSocket.close() skips super.close()) are released once collected.
    await().pollInSameThread().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
      System.gc();
      return socketInodes().size() <= baselineSockets.size();
    });
  }

  private static List<IcePeer> runPairs(int pairs) throws Exception {
    List<IcePeer> peers = new ArrayList<>();
    for (int i = 0; i < pairs; i++) {
      IcePeer a = IcePeer.create(Loopback.options("leak-a" + i, true));
      IcePeer b = IcePeer.create(Loopback.options("leak-b" + i, false));
      peers.add(a);
      peers.add(b);
      Loopback.connect(a, b);
      a.send(new byte[] {1});
      assertThat(b.rtt(1, Duration.ofSeconds(1)).get()).isPositive();
    }
    if (pairs == 1) {
      peers.forEach(IcePeer::close);
    }
    return peers;
  }

  /** Waits until every live thread is either from the baseline or one of ice4j's shared pools. */
  private static void awaitOnlyBaselineThreads(Set<Thread> baseline) {
    await().pollInSameThread().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
      Set<Thread> extra = liveThreads();
      extra.removeAll(baseline);
      extra.removeIf(LeakTest::isSharedPoolThread);
      if (baseline.isEmpty()) { // warm-up: only per-peer threads must be gone
        extra.removeIf(t -> !isPerPeerThread(t));
      }
      assertThat(names(extra)).as("threads left over").isEmpty();
    });
  }

  private static boolean isSharedPoolThread(Thread t) {
    return t.getName().startsWith("ice4j.") || t.getName().equals("switchboard-peer-timer");
  }

  private static boolean isPerPeerThread(Thread t) {
    String n = t.getName();
    return n.startsWith("IceConnector@") || n.startsWith("MergingDatagramSocket") || n.startsWith("switchboard-peer-rx-");
  }

  private static int sharedIce4jThreadsAdded(Set<Thread> baseline) {
    Set<Thread> added = liveThreads();
    added.removeAll(baseline);
    added.removeIf(t -> !isSharedPoolThread(t));
    return added.size();
  }

  private static Set<Thread> liveThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).collect(Collectors.toCollection(HashSet::new));
  }

  private static List<String> names(Set<Thread> threads) {
    return threads.stream().map(Thread::getName).sorted().toList();
  }

  /** Inodes of this process's sockets (Linux /proc). */
  private static Set<String> socketInodes() throws IOException {
    Set<String> inodes = new HashSet<>();
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String link = Files.readSymbolicLink(fd).toString();
          if (link.startsWith("socket:[")) {
            inodes.add(link.substring(8, link.length() - 1));
          }
        } catch (IOException e) {
          // the fd closed while listing
        }
      }
    }
    return inodes;
  }

  /** Those of {@code inodes} that are UDP sockets bound to a port (unbound ones are not listed). */
  private static Set<String> boundUdpInodes(Set<String> inodes) throws IOException {
    Set<String> bound = new HashSet<>();
    for (String table : List.of("/proc/net/udp", "/proc/net/udp6")) {
      for (String line : Files.readAllLines(Path.of(table))) {
        String[] columns = line.trim().split("\\s+");
        if (columns.length > 9 && inodes.contains(columns[9])) {
          bound.add(columns[9]);
        }
      }
    }
    return bound;
  }
}
