package io.switchboard.signaling.steer;

import static io.switchboard.protocol.NatClass.CONE;
import static io.switchboard.protocol.NatClass.FULL_CONE;
import static io.switchboard.protocol.NatClass.NONE;
import static io.switchboard.protocol.NatClass.PORT_RESTRICTED;
import static io.switchboard.protocol.NatClass.RESTRICTED_CONE;
import static io.switchboard.protocol.NatClass.SYMMETRIC;
import static io.switchboard.protocol.NatClass.UDP_BLOCKED;
import static io.switchboard.protocol.NatClass.UNKNOWN;
import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.NatBehaviour;
import io.switchboard.protocol.NatClass;
import io.switchboard.protocol.PeerPath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every row of docs/steering.md's rule table, and the learning rule. */
class SteeringPolicyTest {
  private final SteeringOptions options = new SteeringOptions();

  private static NatProfile peer(NatClass c) {
    return new NatProfile(c, NatBehaviour.UNKNOWN, NatBehaviour.UNKNOWN, c != UDP_BLOCKED, null);
  }

  private static NatProfile peerWithoutTurn(NatClass c) {
    return new NatProfile(c, NatBehaviour.UNKNOWN, NatBehaviour.UNKNOWN, c != UDP_BLOCKED, false);
  }

  private SteeringPolicy policy(boolean turn) {
    return new SteeringPolicy(options, turn, new OutcomeStats(options));
  }

  @ParameterizedTest(name = "{0} <-> {1}: {2} ({3})")
  @CsvSource({
      // row 2: UDP blocked on either side
      "UDP_BLOCKED, NONE, TURN, udp-blocked",
      "UDP_BLOCKED, SYMMETRIC, TURN, udp-blocked",
      "CONE, UDP_BLOCKED, TURN, udp-blocked",
      "UDP_BLOCKED, UDP_BLOCKED, TURN, udp-blocked",
      // row 3: a side that accepts packets from anyone
      "NONE, NONE, P2P, reachable",
      "NONE, SYMMETRIC, P2P, reachable",
      "FULL_CONE, SYMMETRIC, P2P, reachable",
      "FULL_CONE, PORT_RESTRICTED, P2P, reachable",
      "UNKNOWN, FULL_CONE, P2P, reachable",
      // row 4 and 5: direct checks cannot succeed
      "SYMMETRIC, SYMMETRIC, TURN, symmetric-both",
      "SYMMETRIC, PORT_RESTRICTED, TURN, symmetric-port-restricted",
      "PORT_RESTRICTED, SYMMETRIC, TURN, symmetric-port-restricted",
      // row 6: hole punching
      "SYMMETRIC, RESTRICTED_CONE, P2P, hole-punch",
      "SYMMETRIC, CONE, P2P, hole-punch",
      "PORT_RESTRICTED, PORT_RESTRICTED, P2P, hole-punch",
      "RESTRICTED_CONE, PORT_RESTRICTED, P2P, hole-punch",
      "CONE, CONE, P2P, hole-punch",
      "UNKNOWN, SYMMETRIC, P2P, hole-punch",
      "UNKNOWN, UNKNOWN, P2P, hole-punch",
  })
  void ruleTableWithTurn(NatClass a, NatClass b, PeerPath mode, String reason) {
    assertThat(policy(true).decide(peer(a), peer(b), 2, 0)).isEqualTo(new Decision(mode, reason));
    assertThat(policy(true).decide(peer(b), peer(a), 2, 0)).as("symmetric in its arguments")
        .isEqualTo(new Decision(mode, reason));
  }

  @ParameterizedTest(name = "{0} <-> {1} without TURN: {2} ({3})")
  @CsvSource({
      "UDP_BLOCKED, NONE, RELAY, udp-blocked-no-turn",
      "SYMMETRIC, SYMMETRIC, RELAY, symmetric-both-no-turn",
      "SYMMETRIC, PORT_RESTRICTED, RELAY, symmetric-port-restricted-no-turn",
      "CONE, CONE, P2P, hole-punch",
      "FULL_CONE, SYMMETRIC, P2P, reachable",
  })
  void ruleTableWithoutTurn(NatClass a, NatClass b, PeerPath mode, String reason) {
    assertThat(policy(false).decide(peer(a), peer(b), 2, 0)).isEqualTo(new Decision(mode, reason));
    // A peer that could not reach TURN makes it unusable for the pair even when configured.
    assertThat(policy(true).decide(peerWithoutTurn(a), peer(b), 2, 0)).isEqualTo(new Decision(mode, reason));
  }

  @Test
  void row1MeshLimitBeatsEverything() {
    SteeringPolicy policy = policy(true);
    assertThat(policy.decide(peer(NONE), peer(NONE), 6, 0)).isEqualTo(new Decision(PeerPath.P2P, "reachable"));
    assertThat(policy.decide(peer(NONE), peer(NONE), 7, 0)).isEqualTo(new Decision(PeerPath.RELAY, "mesh-limit"));
    assertThat(policy.decide(peer(UDP_BLOCKED), peer(SYMMETRIC), 7, 0))
        .isEqualTo(new Decision(PeerPath.RELAY, "mesh-limit"));
    options.setMeshMax(10);
    assertThat(policy(true).decide(peer(CONE), peer(CONE), 10, 0)).isEqualTo(new Decision(PeerPath.P2P, "hole-punch"));
  }

  @Test
  void aClassPairThatKeepsFailingDirectIsSteeredToTurnThenRelay() {
    SteeringPolicy policy = policy(true);
    ClassPair pair = new ClassPair(SYMMETRIC, CONE);
    OutcomeStats stats = policy.stats();
    // Four failures are not enough evidence (minSamples 5).
    for (int i = 0; i < 4; i++) {
      stats.record(pair, PeerPath.P2P, PeerPath.TURN, 1000);
    }
    assertThat(policy.decide(peer(CONE), peer(SYMMETRIC), 2, 1000).mode()).isEqualTo(PeerPath.P2P);
    stats.record(pair, PeerPath.P2P, PeerPath.RELAY, 1000);
    assertThat(policy.decide(peer(CONE), peer(SYMMETRIC), 2, 1000))
        .isEqualTo(new Decision(PeerPath.TURN, "learned-direct-fails"));
    // Other class pairs are unaffected.
    assertThat(policy.decide(peer(CONE), peer(CONE), 2, 1000).mode()).isEqualTo(PeerPath.P2P);
    // Without usable TURN the same evidence means relay.
    assertThat(policy.decide(peerWithoutTurn(CONE), peer(SYMMETRIC), 2, 1000))
        .isEqualTo(new Decision(PeerPath.RELAY, "learned-direct-fails"));
    // TURN failing too for the pair class: relay.
    for (int i = 0; i < 5; i++) {
      stats.record(pair, PeerPath.TURN, PeerPath.RELAY, 2000);
    }
    assertThat(policy.decide(peer(CONE), peer(SYMMETRIC), 2, 2000))
        .isEqualTo(new Decision(PeerPath.RELAY, "learned-turn-fails"));
  }

  @Test
  void enoughDirectSuccessesKeepP2p() {
    SteeringPolicy policy = policy(true);
    ClassPair pair = new ClassPair(SYMMETRIC, CONE);
    for (int i = 0; i < 4; i++) {
      policy.stats().record(pair, PeerPath.P2P, PeerPath.P2P, 0);
    }
    for (int i = 0; i < 16; i++) {
      policy.stats().record(pair, PeerPath.P2P, PeerPath.TURN, 0);
    }
    // 4 of 20 = 20 %: not below the threshold.
    assertThat(policy.decide(peer(CONE), peer(SYMMETRIC), 2, 0).mode()).isEqualTo(PeerPath.P2P);
    policy.stats().record(pair, PeerPath.P2P, PeerPath.TURN, 0);
    // The window keeps the newest 20: the oldest success drops out, 3 of 20.
    assertThat(policy.decide(peer(CONE), peer(SYMMETRIC), 2, 0).mode()).isEqualTo(PeerPath.TURN);
  }

  @Test
  void learnedDemotionsExpireSoTheDirectPathIsTriedAgain() {
    SteeringPolicy policy = policy(true);
    ClassPair pair = new ClassPair(PORT_RESTRICTED, RESTRICTED_CONE);
    for (int i = 0; i < 5; i++) {
      policy.stats().record(pair, PeerPath.P2P, PeerPath.RELAY, 0);
    }
    assertThat(policy.decide(peer(PORT_RESTRICTED), peer(RESTRICTED_CONE), 2, 0).mode()).isEqualTo(PeerPath.TURN);
    long later = options.getLearningWindowMs() + 1;
    assertThat(policy.decide(peer(PORT_RESTRICTED), peer(RESTRICTED_CONE), 2, later))
        .isEqualTo(new Decision(PeerPath.P2P, "hole-punch"));
    assertThat(policy.stats().snapshot(later)).singleElement().satisfies(s -> {
      assertThat(s.pair()).isEqualTo("restricted-cone|port-restricted");
      assertThat(s.totals()).containsEntry(PeerPath.RELAY, 5L);
      assertThat(s.recent().samples()).isZero();
    });
  }

  @Test
  void classPairsAreUnordered() {
    assertThat(new ClassPair(SYMMETRIC, NONE)).isEqualTo(new ClassPair(NONE, SYMMETRIC));
    assertThat(new ClassPair(SYMMETRIC, NONE).key()).isEqualTo("none|symmetric");
  }
}
