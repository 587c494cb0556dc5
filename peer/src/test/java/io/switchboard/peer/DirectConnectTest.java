package io.switchboard.peer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Two real ice4j peers in one JVM, host candidates on 127.0.0.1 only. */
class DirectConnectTest {

  @Test
  void hostCandidatesOnLoopbackConnectDirectlyAndCarryMessagesExactlyOnce() throws Exception {
    try (IcePeer alice = IcePeer.create(Loopback.options("alice", true));
         IcePeer bob = IcePeer.create(Loopback.options("bob", false))) {
      List<String> atAlice = new CopyOnWriteArrayList<>();
      List<String> atBob = new CopyOnWriteArrayList<>();
      alice.onMessage(m -> atAlice.add(new String(m, UTF_8)));
      bob.onMessage(m -> atBob.add(new String(m, UTF_8)));

      IceDescription offer = alice.localDescription();
      assertThat(offer.parsedCandidates()).isNotEmpty()
          .allSatisfy(c -> assertThat(c.type()).isEqualTo(IceCandidate.HOST));
      Loopback.assertLoopbackOnly(offer);
      assertThatThrownBy(() -> alice.send(new byte[1]))
          .isInstanceOfSatisfying(IceException.class, e -> assertThat(e.reason()).isEqualTo(IceException.Reason.NOT_CONNECTED));

      IceResult[] results = Loopback.connect(alice, bob);
      for (IceResult r : results) {
        assertThat(r.path()).isEqualTo(IceResult.DIRECT);
        assertThat(r.localType()).isEqualTo("host");
        assertThat(r.remoteType()).isEqualTo("host");
        assertThat(r.local().getAddress().isLoopbackAddress()).isTrue();
        assertThat(r.remote().getAddress().isLoopbackAddress()).isTrue();
        assertThat(r.setupMs()).isBetween(0L, 10_000L);
      }
      assertThat(results[0].local()).isEqualTo(results[1].remote());
      assertThat(results[0].remote()).isEqualTo(results[1].local());

      List<String> toBob = IntStream.range(0, 200).mapToObj(i -> "a->b " + i).toList();
      List<String> toAlice = IntStream.range(0, 200).mapToObj(i -> "b->a " + i).toList();
      toBob.forEach(m -> alice.send(m.getBytes(UTF_8)));
      toAlice.forEach(m -> bob.send(m.getBytes(UTF_8)));
      await().atMost(Duration.ofSeconds(5)).until(() -> atBob.size() >= toBob.size() && atAlice.size() >= toAlice.size());

      // A round trip after the data: anything still in flight (a duplicate) would have landed by now.
      Duration rtt = alice.rtt().get(10, TimeUnit.SECONDS);
      assertThat(rtt).isPositive().isLessThan(Duration.ofMillis(100));
      assertThat(bob.rtt().get(10, TimeUnit.SECONDS)).isPositive().isLessThan(Duration.ofMillis(100));
      assertThat(atBob).containsExactlyInAnyOrderElementsOf(toBob);
      assertThat(atAlice).containsExactlyInAnyOrderElementsOf(toAlice);
      assertThat(alice.droppedDatagrams()).isZero();
      assertThat(bob.droppedDatagrams()).isZero();
    }
  }

  @Test
  void largestPayloadArrivesIntactAndLargerIsRefused() throws Exception {
    try (IcePeer alice = IcePeer.create(Loopback.options("alice", true));
         IcePeer bob = IcePeer.create(Loopback.options("bob", false))) {
      List<byte[]> atBob = new CopyOnWriteArrayList<>();
      bob.onMessage(atBob::add);
      Loopback.connect(alice, bob);

      byte[] largest = new byte[IcePeer.MAX_PAYLOAD_BYTES];
      Arrays.fill(largest, (byte) 0x5a);
      largest[largest.length - 1] = 1;
      alice.send(largest);
      alice.send(new byte[0]);
      await().atMost(Duration.ofSeconds(5)).until(() -> atBob.size() == 2);
      assertThat(atBob.get(0)).isEqualTo(largest);
      assertThat(atBob.get(1)).isEmpty();
      assertThatThrownBy(() -> alice.send(new byte[IcePeer.MAX_PAYLOAD_BYTES + 1]))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void ipv6LoopbackWorksToo() throws Exception {
    Assumptions.assumeTrue(canBind("::1"), "::1 is not configured on this host");
    IcePeerOptions base = new IcePeerOptions().setAllowedAddresses(List.of("::1"));
    try (IcePeer alice = IcePeer.create(new IcePeerOptions(base).setName("alice6").setControlling(true));
         IcePeer bob = IcePeer.create(new IcePeerOptions(base).setName("bob6"))) {
      List<byte[]> atBob = new CopyOnWriteArrayList<>();
      bob.onMessage(atBob::add);
      IceResult[] results = Loopback.connect(alice, bob);
      assertThat(results[0].path()).isEqualTo(IceResult.DIRECT);
      assertThat(results[0].local().getAddress().isLoopbackAddress()).isTrue();
      assertThat(results[0].local().getAddress()).isInstanceOf(java.net.Inet6Address.class);
      alice.send(new byte[] {42});
      await().atMost(Duration.ofSeconds(5)).until(() -> atBob.size() == 1);
    }
  }

  private static boolean canBind(String address) {
    try (java.net.DatagramSocket s = new java.net.DatagramSocket(new java.net.InetSocketAddress(address, 0))) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void connectIsOnceAndClosedPeersRefuseWork() throws Exception {
    IcePeer alice = IcePeer.create(Loopback.options("alice", true));
    IcePeer bob = IcePeer.create(Loopback.options("bob", false));
    try {
      Loopback.connect(alice, bob);
      assertThatThrownBy(() -> alice.connect(bob.localDescription())).isInstanceOf(IllegalStateException.class);
    } finally {
      alice.close();
      bob.close();
    }
    alice.close(); // idempotent
    assertThat(alice.isConnected()).isFalse();
    for (Runnable r : List.<Runnable>of(alice::localDescription, () -> alice.send(new byte[1]))) {
      assertThatThrownBy(r::run).isInstanceOfSatisfying(IceException.class,
          e -> assertThat(e.reason()).isEqualTo(IceException.Reason.CLOSED));
    }
    assertThat(alice.rtt()).failsWithin(Duration.ofSeconds(1));
  }
}
