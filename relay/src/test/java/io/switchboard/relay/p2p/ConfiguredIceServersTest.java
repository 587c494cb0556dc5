package io.switchboard.relay.p2p;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.relay.config.LimitsOptions;
import io.switchboard.relay.limits.AddressLimits;
import io.switchboard.signaling.turn.CredentialCache;
import io.switchboard.signaling.turn.TurnCredentials;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** TURN credentials as welcomes and steers hand them out: per user reused, per address rate-limited. */
class ConfiguredIceServersTest {
  private static final List<String> TURN = List.of("turn:turn.example:3478?transport=udp");
  private long nanos;
  private final Clock clock = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);
  private final AddressLimits limits = new AddressLimits(new LimitsOptions().setTurnCredentialsPerAddressPerMinute(30)
      .setTurnCredentialBurst(30), () -> nanos, new SimpleMeterRegistry());
  private final ConfiguredIceServers servers = new ConfiguredIceServers("relay.example", List.of(3490, 3491), TURN,
      new CredentialCache(new TurnCredentials("switchboard-turn-test-secret", 3600, clock), clock, 1000),
      limits::tryTurnCredential);

  private static ServerFrame.IceServer turnOf(ServerFrame.P2pConfig config) {
    return config.iceServers().stream().filter(s -> s.username() != null).findFirst().orElse(null);
  }

  @Test
  void anonymousHelloFloodFromOneAddressMintsAtMostTheBurstOfTurnUsers() {
    Set<String> turnUsers = new HashSet<>();
    int withheld = 0;
    for (int i = 0; i < 200; i++) {
      ServerFrame.P2pConfig welcome = servers.welcome("u-anon" + i, "relay.example", "203.0.113.5");
      ServerFrame.IceServer turn = turnOf(welcome);
      if (turn == null) {
        withheld++;
        assertThat(welcome.turnWithheld()).isEqualTo("rate_limited");
        assertThat(welcome.iceServers()).hasSize(1); // STUN still there
      } else {
        assertThat(turn.username()).isEqualTo("1700003600:u-anon" + i);
        turnUsers.add(turn.username());
      }
    }
    assertThat(turnUsers).hasSize(30);
    assertThat(withheld).isEqualTo(170);
    // Another address has its own budget; two seconds later this one has one more.
    assertThat(turnOf(servers.welcome("u-other", "relay.example", "198.51.100.1"))).isNotNull();
    nanos += TimeUnit.SECONDS.toNanos(2);
    assertThat(turnOf(servers.welcome("u-late", "relay.example", "203.0.113.5"))).isNotNull();
  }

  @Test
  void aUserReusesItsCredentialInWelcomesAndSteersWithoutSpendingTokens() {
    ServerFrame.IceServer first = turnOf(servers.welcome("alice", "relay.example", "203.0.113.9"));
    for (int i = 0; i < 100; i++) {
      ServerFrame.IceServer again = turnOf(servers.welcome("alice", "relay.example", "203.0.113.9"));
      assertThat(again.username()).isEqualTo(first.username());
      assertThat(again.credential()).isEqualTo(first.credential());
      List<ServerFrame.IceServer> steer = servers.forMode(PeerPath.TURN, "alice", "relay.example", "203.0.113.9");
      assertThat(steer).singleElement().satisfies(s -> assertThat(s.username()).isEqualTo(first.username()));
    }
    // The address's bucket is untouched by the reuse: 29 other users still get one.
    for (int i = 0; i < 29; i++) {
      assertThat(turnOf(servers.welcome("u-" + i, "relay.example", "203.0.113.9"))).isNotNull();
    }
    assertThat(turnOf(servers.welcome("u-30", "relay.example", "203.0.113.9"))).isNull();
  }
}
