package io.switchboard.peer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Relay-only peers through a real coturn on 127.0.0.1. */
class TurnRelayTest {
  private static Coturn coturn;

  @BeforeAll
  static void startCoturn() throws Exception {
    if (Coturn.isInstalled()) {
      coturn = Coturn.start();
    }
  }

  /** Per test, so a missing coturn shows up as skipped tests (or failures with CI=true). */
  @BeforeEach
  void requireCoturn() {
    Coturn.assumeInstalled();
  }

  @AfterAll
  static void stopCoturn() {
    if (coturn != null) {
      coturn.close();
    }
  }

  private static IcePeerOptions relayOnly(String name, boolean controlling) {
    return Loopback.options(name, controlling).setRelayOnly(true).addIceServer(coturn.server(name));
  }

  @Test
  void relayOnlyPeersConnectThroughTurnAndCarryMessages() throws Exception {
    try (IcePeer alice = IcePeer.create(relayOnly("alice", true));
         IcePeer bob = IcePeer.create(relayOnly("bob", false))) {
      List<String> atAlice = new CopyOnWriteArrayList<>();
      List<byte[]> atBob = new CopyOnWriteArrayList<>();
      alice.onMessage(m -> atAlice.add(new String(m, UTF_8)));
      bob.onMessage(atBob::add);

      for (IcePeer peer : List.of(alice, bob)) {
        IceDescription description = peer.localDescription();
        assertThat(description.parsedCandidates()).as(coturn.log()).isNotEmpty().allSatisfy(c -> {
          assertThat(c.type()).isEqualTo(IceCandidate.RELAY);
          assertThat(c.address().getPort()).isBetween(coturn.minRelayPort, coturn.maxRelayPort);
          assertThat(c.relatedAddress()).isNotNull();
        });
        Loopback.assertLoopbackOnly(description);
      }

      IceResult[] results = Loopback.connect(alice, bob);
      for (IceResult r : results) {
        assertThat(r.path()).isEqualTo(IceResult.TURN);
        assertThat(r.localType()).isEqualTo("relay");
        assertThat(r.remoteType()).isEqualTo("relay");
        assertThat(r.local().getPort()).isBetween(coturn.minRelayPort, coturn.maxRelayPort);
        assertThat(r.remote().getPort()).isBetween(coturn.minRelayPort, coturn.maxRelayPort);
      }

      List<String> toAlice = IntStream.range(0, 100).mapToObj(i -> "via turn " + i).toList();
      toAlice.forEach(m -> bob.send(m.getBytes(UTF_8)));
      byte[] largest = new byte[IcePeer.MAX_PAYLOAD_BYTES];
      Arrays.fill(largest, (byte) 7);
      alice.send(largest);
      await().atMost(Duration.ofSeconds(5)).until(() -> atAlice.size() >= toAlice.size() && atBob.size() >= 1);
      assertThat(alice.rtt().get(10, TimeUnit.SECONDS)).isPositive().isLessThan(Duration.ofMillis(200));
      assertThat(atAlice).containsExactlyInAnyOrderElementsOf(toAlice);
      assertThat(atBob).hasSize(1);
      assertThat(atBob.get(0)).isEqualTo(largest);
    }
  }

  @Test
  void withTurnAvailableButNotRelayOnlyTheDirectPathWins() throws Exception {
    try (IcePeer alice = IcePeer.create(Loopback.options("alice", true).addIceServer(coturn.server("alice")));
         IcePeer bob = IcePeer.create(Loopback.options("bob", false).addIceServer(coturn.server("bob")))) {
      assertThat(alice.localDescription().parsedCandidates()).extracting(IceCandidate::type)
          .as(coturn.log()).containsExactly("host", "relay");
      for (IceResult r : Loopback.connect(alice, bob)) {
        assertThat(r.path()).isEqualTo(IceResult.DIRECT);
        assertThat(r.localType()).isEqualTo("host");
      }
    }
  }

  @Test
  void closingAPeerDeletesItsRelayAllocation() {
    IcePeer carol = IcePeer.create(relayOnly("carol", true));
    assertThat(carol.localDescription().candidates()).hasSize(1);
    carol.close();
    // coturn -v logs "refreshed, ..., username=<expiry:carol>, lifetime=0" when a Refresh deletes an allocation
    await().atMost(Duration.ofSeconds(5)).until(() -> coturn.log().matches("(?s).*username=<\\d+:carol>, lifetime=0.*"));
  }

  @Test
  void relayOnlyIgnoresHostCandidatesOfTheRemote() throws Exception {
    try (IcePeer alice = IcePeer.create(relayOnly("alice", true));
         IcePeer bob = IcePeer.create(Loopback.options("bob", false))) {
      CompletableFuture<IceResult> result = alice.connect(bob.localDescription());
      assertThat(result).failsWithin(Duration.ofSeconds(1)).withThrowableOfType(Exception.class)
          .havingCause().isInstanceOfSatisfying(IceException.class,
              e -> assertThat(e.reason()).isEqualTo(IceException.Reason.NO_REMOTE_CANDIDATES));
    }
  }

  @Test
  void wrongTurnSecretLeavesNoCandidatesAndConnectFailsAtOnce() throws Exception {
    IcePeerOptions options = Loopback.options("mallory", true).setRelayOnly(true)
        .addIceServer(coturn.serverWithSecret("mallory", "not-the-secret"));
    try (IcePeer mallory = IcePeer.create(options);
         IcePeer bob = IcePeer.create(Loopback.options("bob", false))) {
      assertThat(mallory.localDescription().candidates()).isEmpty();
      assertThat(mallory.connect(bob.localDescription())).failsWithin(Duration.ofSeconds(1))
          .withThrowableOfType(Exception.class)
          .havingCause().isInstanceOfSatisfying(IceException.class,
              e -> assertThat(e.reason()).isEqualTo(IceException.Reason.NO_LOCAL_CANDIDATES));
    }
  }
}
