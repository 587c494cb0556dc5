package io.switchboard.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** Connecting fails within its bound, with a reason, when nothing can be reached. */
class ConnectFailureTest {

  @Test
  void unreachableRemoteCandidateFailsWithinConnectTimeout() throws Exception {
    long timeoutMs = 3_000;
    try (IcePeer alice = IcePeer.create(Loopback.options("alice", true).setConnectTimeoutMs(timeoutMs));
         IcePeer bob = IcePeer.create(Loopback.options("bob", false))) {
      IceDescription real = bob.localDescription();
      // bob's credentials, but a host candidate on a loopback port nobody listens on
      IceDescription unreachable = new IceDescription(real.ufrag(), real.pwd(),
          List.of("candidate:1 1 udp 2130706431 127.0.0.1 " + Loopback.unusedUdpPort() + " typ host"));

      long start = System.nanoTime();
      CompletableFuture<IceResult> result = alice.connect(unreachable);
      ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> result.get(timeoutMs + 2_000, java.util.concurrent.TimeUnit.MILLISECONDS));
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;

      assertThat(failure.getCause()).isInstanceOfSatisfying(IceException.class, e -> {
        assertThat(e.reason()).isIn(IceException.Reason.TIMEOUT, IceException.Reason.ICE_FAILED);
        assertThat(e.getMessage()).contains("alice");
      });
      assertThat(elapsedMs).isLessThan(timeoutMs + 1_000);
      assertThat(alice.isConnected()).isFalse();
    }
  }

  @Test
  void descriptionWithoutCandidatesFailsAtOnce() {
    try (IcePeer alice = IcePeer.create(Loopback.options("alice", true));
         IcePeer bob = IcePeer.create(Loopback.options("bob", false))) {
      IceDescription real = bob.localDescription();
      assertThat(alice.connect(new IceDescription(real.ufrag(), real.pwd(), List.of())))
          .failsWithin(Duration.ofMillis(500))
          .withThrowableOfType(ExecutionException.class)
          .havingCause().isInstanceOfSatisfying(IceException.class,
              e -> assertThat(e.reason()).isEqualTo(IceException.Reason.NO_REMOTE_CANDIDATES));
    }
  }

  @Test
  void remoteCandidatesOfAnotherAddressFamilyAreUnusable() {
    try (IcePeer alice = IcePeer.create(Loopback.options("alice", true));
         IcePeer bob = IcePeer.create(Loopback.options("bob", false))) {
      IceDescription real = bob.localDescription();
      IceDescription ipv6Only = new IceDescription(real.ufrag(), real.pwd(),
          List.of("candidate:1 1 udp 2130706431 ::1 " + 50_000 + " typ host"));
      assertThat(alice.connect(ipv6Only))
          .failsWithin(Duration.ofMillis(500))
          .withThrowableOfType(ExecutionException.class)
          .havingCause().isInstanceOfSatisfying(IceException.class,
              e -> assertThat(e.reason()).isEqualTo(IceException.Reason.NO_REMOTE_CANDIDATES));
    }
  }

  @Test
  void closingFailsAPendingConnect() {
    IcePeer alice = IcePeer.create(Loopback.options("alice", true));
    try (IcePeer bob = IcePeer.create(Loopback.options("bob", false))) {
      CompletableFuture<IceResult> result = alice.connect(bob.localDescription()); // bob never answers
      alice.close();
      assertThat(result).failsWithin(Duration.ofMillis(500))
          .withThrowableOfType(ExecutionException.class)
          .havingCause().isInstanceOfSatisfying(IceException.class,
              e -> assertThat(e.reason()).isEqualTo(IceException.Reason.CLOSED));
    }
  }

  @Test
  void bindingAnAddressThisHostDoesNotHaveFailsGathering() {
    // 192.0.2.123 (TEST-NET-1) is not assigned here; binding fails locally, nothing is sent
    try (IcePeer peer = IcePeer.create(new IcePeerOptions().setAllowedAddresses(List.of("192.0.2.123")))) {
      org.assertj.core.api.Assertions.assertThatThrownBy(peer::localDescription)
          .isInstanceOfSatisfying(IceException.class,
              e -> assertThat(e.reason()).isEqualTo(IceException.Reason.GATHERING_FAILED))
          .hasMessageContaining("192.0.2.123");
    }
  }
}
