package io.switchboard.signaling.steer;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.NatClass;
import io.switchboard.protocol.PeerPath;
import org.junit.jupiter.api.Test;

/** Outcomes count once per pair of users (and of addresses) and learning window, with bounded memory for that. */
class OutcomeStatsTest {
  private static final ClassPair CONES = new ClassPair(NatClass.CONE, NatClass.CONE);
  private final SteeringOptions options = new SteeringOptions().setLearningWindowMs(60_000);

  @Test
  void oneUserPairCountsOncePerWindowWhicheverSideReports() {
    OutcomeStats stats = new OutcomeStats(options);
    assertThat(stats.recordOnce(CONES, party("u-a", "1"), party("u-b", "2"), PeerPath.P2P, PeerPath.RELAY, 0)).isTrue();
    for (int i = 1; i <= 10; i++) {
      // Same users from other addresses, either side reporting: still the same pair of users.
      OutcomeStats.Party a = party("u-a", "a" + i);
      OutcomeStats.Party b = party("u-b", "b" + i);
      assertThat(stats.recordOnce(CONES, i % 2 == 0 ? a : b, i % 2 == 0 ? b : a, PeerPath.P2P, PeerPath.RELAY, i * 1000))
          .isFalse();
    }
    assertThat(stats.rate(CONES, PeerPath.P2P, 10_000)).isEqualTo(new OutcomeStats.Rate(0, 1));
    // A new window, a new count.
    assertThat(stats.recordOnce(CONES, party("u-b", "2"), party("u-a", "1"), PeerPath.P2P, PeerPath.P2P, 60_001)).isTrue();
    assertThat(stats.rate(CONES, PeerPath.P2P, 60_001)).isEqualTo(new OutcomeStats.Rate(1, 1));
  }

  private static OutcomeStats.Party party(String user, String address) {
    return new OutcomeStats.Party(user, address);
  }

  @Test
  void freshGuestIdentitiesFromTheSameTwoAddressesCountOnce() {
    OutcomeStats stats = new OutcomeStats(options);
    for (int i = 0; i < 10; i++) {
      stats.recordOnce(CONES, party("u-x" + i, "203.0.113.1"), party("u-y" + i, "203.0.113.1"), PeerPath.P2P,
          PeerPath.RELAY, i);
    }
    assertThat(stats.rate(CONES, PeerPath.P2P, 10)).isEqualTo(new OutcomeStats.Rate(0, 1));
  }

  @Test
  void distinctUserPairsStillTeachTheClassPair() {
    SteeringPolicy policy = new SteeringPolicy(options, false, new OutcomeStats(options));
    NatProfile cone = new NatProfile(NatClass.CONE, io.switchboard.protocol.NatBehaviour.UNKNOWN,
        io.switchboard.protocol.NatBehaviour.UNKNOWN, true, null);
    for (int i = 0; i < options.getMinSamples(); i++) {
      policy.stats().recordOnce(CONES, party("u-" + i, "198.51.100." + i), party("u-peer" + i, "203.0.113." + i),
          PeerPath.P2P, PeerPath.RELAY, 1000);
    }
    assertThat(policy.decide(cone, cone, 2, 1000).reason()).isEqualTo("learned-direct-fails");
  }

  @Test
  void theCountedSetIsBoundedAndExpires() {
    OutcomeStats stats = new OutcomeStats(new SteeringOptions(options).setMaxCountedPairs(1000));
    for (int i = 0; i < 20_000; i++) {
      stats.recordOnce(CONES, party("u-" + i, "a" + i), party("u-x", "x"), PeerPath.P2P, PeerPath.P2P, i);
    }
    assertThat(stats.countedPairs()).isEqualTo(1000);
    stats.recordOnce(CONES, party("late", "l"), party("u-x", "x"), PeerPath.P2P, PeerPath.P2P, 200_000);
    assertThat(stats.countedPairs()).isEqualTo(2);
  }
}
