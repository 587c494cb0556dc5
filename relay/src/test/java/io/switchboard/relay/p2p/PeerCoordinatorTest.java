package io.switchboard.relay.p2p;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.NatBehaviour;
import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.RoomMode;
import io.switchboard.relay.auth.Identity;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.relay.metrics.RelayMetrics;
import io.switchboard.relay.room.Membership;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.room.FixedClaims;
import io.switchboard.relay.room.RoomRegistry;
import io.switchboard.relay.session.OutboundQueue;
import io.switchboard.relay.session.RecordingConnection;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import io.switchboard.signaling.steer.OutcomeStats;
import io.switchboard.signaling.steer.SteeringOptions;
import io.switchboard.signaling.steer.SteeringPolicy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The coordinator without a server: sessions over recording sockets, rooms from a registry. */
class PeerCoordinatorTest {
  private static final int QUEUE_MAX = 10_000;
  private final RoomRegistry rooms = FixedClaims.registry(0, 8, 16, 100, m -> { });
  private final SteeringOptions steering = new SteeringOptions();
  private final PeerCoordinator coordinator = new PeerCoordinator(new P2pOptions(),
      new SteeringPolicy(steering, false, new OutcomeStats(steering)),
      new ConfiguredIceServers("", List.of(3490, 3491), List.of(), null, address -> false),
      new RelayMetrics(new SimpleMeterRegistry()), () -> 0L, QUEUE_MAX);
  private final List<RecordingConnection> sockets = new ArrayList<>();

  private Session session(String id) {
    RecordingConnection socket = new RecordingConnection();
    sockets.add(socket);
    Session s = new Session(id, socket, new OutboundQueue(QUEUE_MAX), new TokenBucket(100, 100, 0), 5, 0);
    s.identity(Identity.guest("u-" + id, "t", Long.MAX_VALUE));
    return s;
  }

  private Membership join(Session s, Room room) {
    Membership m = room.join(s, RoomMode.ACTIVE);
    s.rooms().add(room.name());
    coordinator.joined(m);
    return m;
  }

  /** A cone profile reported by {@code s}; its rooms hear of a change, as the engine has them. */
  private void profile(Session s) {
    if (coordinator.profile(s, cone())) {
      for (String name : s.rooms()) {
        coordinator.profileChanged(rooms.get(name).member(s.id()));
      }
    }
  }

  private static ClientFrame.Profile cone() {
    return new ClientFrame.Profile(null, true, List.of("198.51.100.1:1", "198.51.100.1:1"), List.of(),
        NatBehaviour.UNKNOWN, NatBehaviour.UNKNOWN, null, List.of());
  }

  @Test
  void aSignalToAReceiverThatIsNotReadingIsDroppedBeforeItCanGetThatReceiverClosed() {
    Room room = rooms.open("r", 0).result();
    Session a = session("a");
    Session b = session("b");
    Membership fromA = join(a, room);
    join(b, room);
    sockets.get(1).full = true; // b stops reading: its frames queue up on our side
    String data = "{\"sdp\":\"" + "x".repeat(1000) + "\"}";
    int forwarded = 0;
    try {
      for (int i = 0; i < 50; i++) {
        coordinator.admitSignal(a, i * 1_000_000_000L);
        coordinator.signal(fromA, new ClientFrame.Signal(null, "r", "b", data));
        forwarded++;
      }
    } catch (ProtocolException e) {
      assertThat(e.code()).isEqualTo(ErrorCode.RATE_LIMITED);
      assertThat(e.getMessage()).contains("not keeping up");
    }
    assertThat(forwarded).isBetween(2, 4);
    assertThat(b.isClosed()).isFalse();
    assertThat(b.queuedChars()).isLessThanOrEqualTo(QUEUE_MAX / 4 + 1100);
  }

  @Test
  void roomsPastTheMeshLimitKeepNoPairState() {
    Room room = rooms.open("big", 0).result();
    List<Session> members = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Session s = session("p" + i);
      members.add(s);
      join(s, room);
      profile(s);
    }
    // Only the first meshMax (6) formed pairs: 15 steers p2p, then one relay per pair when the 7th came.
    long steers = sockets.stream().flatMap(c -> c.written.stream()).filter(f -> f.contains("\"t\":\"steer\"")).count();
    assertThat(steers).isEqualTo(2 * 15 + 2 * 15);
    assertThat(sockets.get(0).written).filteredOn(f -> f.contains("\"mode\":\"relay\"")).hasSize(5)
        .allMatch(f -> f.contains("\"reason\":\"mesh-limit\""));
    assertThat(sockets.get(39).written).noneMatch(f -> f.contains("\"t\":\"steer\""));
  }

  @Test
  void resultsForPeersOutsideTheRoomAreRefused() {
    Room room = rooms.open("r2", 0).result();
    Session a = session("a");
    Membership m = join(a, room);
    assertThatThrownBy(() -> coordinator.result(m,
        new ClientFrame.P2pResult(null, "r2", "ghost", io.switchboard.protocol.PeerPath.P2P, 5, null)))
        .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_IN_ROOM));
  }

  @Test
  void anUnchangedProfileIsAnsweredWithoutTellingTheRoomAgain() {
    Room room = rooms.open("r3", 0).result();
    Session a = session("a");
    Session b = session("b");
    join(a, room);
    join(b, room);
    profile(a);
    int seenByB = sockets.get(1).written.size();
    profile(a);
    profile(a);
    assertThat(sockets.get(1).written).hasSize(seenByB);
    assertThat(sockets.get(0).written).filteredOn(f -> f.startsWith("{\"t\":\"profile\"")).hasSize(3);
  }

  @Test
  void oneClientRejoiningAndReportingRelayCannotFlipItsClassPairForEveryone() {
    Room room = rooms.open("poison", 0).result();
    Session attacker = session("a");
    Session victim = session("b");
    join(victim, room);
    profile(victim);
    Membership m = join(attacker, room);
    profile(attacker);
    // Five leave/rejoin cycles, each steered afresh and each answered with "relay".
    for (int i = 0; i < 5; i++) {
      coordinator.result(m, new ClientFrame.P2pResult(null, "poison", "b", PeerPath.RELAY, 5, null));
      attacker.rooms().remove("poison");
      room.leave(m, 0);
      coordinator.left(m);
      m = join(attacker, room);
    }
    // A newcomer of the same classes is still steered by the rule table, not by the poisoned stats.
    Session newcomer = session("c");
    join(newcomer, room);
    profile(newcomer);
    assertThat(sockets.get(2).written).filteredOn(f -> f.contains("\"t\":\"steer\""))
        .isNotEmpty().allMatch(f -> f.contains("\"mode\":\"p2p\"") && !f.contains("learned"));
    assertThat(coordinator.stats()).singleElement()
        .satisfies(s -> assertThat(s.recent().samples()).isEqualTo(1));
  }
}
