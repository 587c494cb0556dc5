package io.switchboard.relay.p2p;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.PeerInfo;
import io.switchboard.protocol.ServerFrame.PresenceEvent;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.relay.metrics.RelayMetrics;
import io.switchboard.relay.room.Member;
import io.switchboard.relay.room.Membership;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import io.switchboard.signaling.steer.ClassPair;
import io.switchboard.signaling.steer.Decision;
import io.switchboard.signaling.steer.NatProfile;
import io.switchboard.signaling.steer.OutcomeStats;
import io.switchboard.signaling.steer.SteeringPolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Presence, signaling and steering for the relay's rooms. Each room's part runs on its shard's
 * event loop; the steering policy's shared statistics are locked (steers are rare, chat never
 * waits). Pair state exists only for rooms within the mesh limit (at most meshMax² / 2 pairs each),
 * so large rooms cost nothing here beyond presence.
 */
public final class PeerCoordinator {
  /** The last decision sent to a pair, and whether an outcome for it may still be counted. */
  private static final class PairState {
    final ClassPair classes;
    final Decision decision;
    boolean awaitingResult;

    PairState(ClassPair classes, Decision decision) {
      this.classes = classes;
      this.decision = decision;
      this.awaitingResult = decision.mode() != PeerPath.RELAY;
    }
  }

  private record PairKey(String low, String high) {
    static PairKey of(String a, String b) {
      return a.compareTo(b) < 0 ? new PairKey(a, b) : new PairKey(b, a);
    }
  }

  private static final long PROFILE_CHANGE_INTERVAL_MS = 1000;

  private final P2pOptions options;
  private final SteeringPolicy policy;
  private final IceServers iceServers;
  private final RelayMetrics metrics;
  private final LongSupplier clockMs;
  private final int signalQueueLimit;
  // Each room's entry is touched only on its shard's loop; the map is shared by all shards.
  private final Map<Room, Map<PairKey, PairState>> pairs = new ConcurrentHashMap<>();

  public PeerCoordinator(P2pOptions options, SteeringPolicy policy, IceServers iceServers, RelayMetrics metrics,
      LongSupplier clockMs, int outboundQueueMaxChars) {
    this.options = options;
    this.policy = policy;
    this.iceServers = iceServers;
    this.metrics = metrics;
    this.clockMs = clockMs;
    // A peer may push a receiver's queue to a quarter of its bound, never into a slow-consumer close.
    this.signalQueueLimit = outboundQueueMaxChars / 4;
  }

  public ServerFrame.P2pConfig welcome(Session session) {
    if (!options.isEnabled()) {
      return null;
    }
    synchronized (iceServers) { // its TURN credential cache is shared by every loop
      return iceServers.welcome(session.user(), session.host(), session.address());
    }
  }

  /** The other connections in a room, for {@code joined.peers}. */
  public List<PeerInfo> peers(Room room, Member self) {
    List<PeerInfo> peers = new ArrayList<>(room.members().size());
    for (Membership m : room.members()) {
      if (m.member() != self) {
        peers.add(info(m.member()));
      }
    }
    return peers;
  }

  /** After {@code member} was added to its room and told {@code joined}. */
  public void joined(Membership member) {
    broadcast(member.room(), member.member(), PresenceEvent.JOIN);
    steer(member.room());
  }

  /** After {@code member} left its room (or its connection closed). */
  public void left(Membership member) {
    Room room = member.room();
    broadcast(room, member.member(), PresenceEvent.LEAVE);
    Map<PairKey, PairState> roomPairs = pairs.get(room);
    if (roomPairs != null) {
      String gone = member.member().id();
      roomPairs.keySet().removeIf(k -> k.low().equals(gone) || k.high().equals(gone));
    }
    steer(room);
  }

  /**
   * Records the connection's reported profile and answers it; the caller tells each of its rooms
   * ({@link #profileChanged}) when this returns true.
   */
  public boolean profile(Session session, ClientFrame.Profile report) {
    if (!options.isEnabled()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "peer-to-peer is disabled on this server");
    }
    NatProfile profile = NatProfile.from(report);
    NatProfile previous = session.profile();
    long now = clockMs.getAsLong();
    boolean changed = !profile.equals(previous);
    // A change reaches every member of every room of the session: at most one a second, so a
    // client cannot turn its frame budget into presence floods.
    if (changed && previous != null && now - session.profileChangedAtMs() < PROFILE_CHANGE_INTERVAL_MS) {
      throw new ProtocolException(ErrorCode.RATE_LIMITED, "profile changes at most once a second; profile dropped");
    }
    metrics.profile(profile.natClass());
    session.send(new ServerFrame.ProfileSet(report.id(), profile.natClass(), profile.mapping(), profile.filtering(),
        profile.udp(), profile.turn()));
    if (!changed) {
      return false;
    }
    session.profile(profile, now);
    return true;
  }

  /** After the member's profile changed: its room hears of it and is steered again. */
  public void profileChanged(Membership member) {
    broadcast(member.room(), member.member(), PresenceEvent.PROFILE);
    steer(member.room());
  }

  /** The connection's own signal rate, checked where the connection lives, before the room is asked. */
  public void admitSignal(Session session, long nowNanos) {
    if (!session.tryAcquireSignal(nowNanos,
        now -> new TokenBucket(options.getSignalRatePerSecond(), options.getSignalBurst(), now))) {
      throw new ProtocolException(ErrorCode.RATE_LIMITED,
          "more than " + options.getSignalRatePerSecond() + " signals/s; signal dropped");
    }
  }

  /** Forwards a signal (already admitted by {@link #admitSignal}) to another member of the room. */
  public void signal(Membership from, ClientFrame.Signal signal) {
    Member session = from.member();
    Member to = peer(from.room(), session, signal.to());
    if (to.queuedChars() > signalQueueLimit) {
      throw new ProtocolException(ErrorCode.RATE_LIMITED, "peer " + signal.to() + " is not keeping up; signal dropped");
    }
    to.send(new ServerFrame.Signal(signal.room(), session.id(), signal.data()));
    metrics.signalForwarded();
  }

  public void result(Membership from, ClientFrame.P2pResult result) {
    Member session = from.member();
    Member peer = peer(from.room(), session, result.peer());
    Map<PairKey, PairState> roomPairs = pairs.get(from.room());
    PairState state = roomPairs == null ? null : roomPairs.get(PairKey.of(session.id(), result.peer()));
    if (state == null || !state.awaitingResult) {
      metrics.p2pResultIgnored();
      return;
    }
    state.awaitingResult = false;
    // Once per pair of users (and of addresses) and learning window, however often they rejoin.
    boolean counted;
    synchronized (policy) {
      counted = policy.stats().recordOnce(state.classes, new OutcomeStats.Party(session.user(), session.address()),
          new OutcomeStats.Party(peer.user(), peer.address()), state.decision.mode(), result.path(), clockMs.getAsLong());
    }
    if (!counted) {
      metrics.p2pResultIgnored();
      return;
    }
    metrics.p2pResult(state.classes.key(), state.decision.mode(), result.path(), result.setupMs());
  }

  /** Success rates per class pair, and the current options, for the admin endpoint. */
  public List<OutcomeStats.ModeStats> stats() {
    synchronized (policy) {
      return policy.stats().snapshot(clockMs.getAsLong());
    }
  }

  /** The other member {@code peerId} of {@code room}, or the error the protocol names. */
  private static Member peer(Room room, Member self, String peerId) {
    if (peerId.equals(self.id())) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "peer is this connection itself");
    }
    Membership m = room.member(peerId);
    if (m == null) {
      throw new ProtocolException(ErrorCode.NOT_IN_ROOM, "peer " + peerId + " is not in room '" + room.name() + "'");
    }
    return m.member();
  }

  private static PeerInfo info(Member s) {
    NatProfile p = s.profile();
    return new PeerInfo(s.id(), s.user(), p == null ? null : new ServerFrame.PeerProfile(p.natClass(), p.udp(), p.turn()),
        s.name());
  }

  private static void broadcast(Room room, Member subject, PresenceEvent event) {
    ServerFrame.Presence presence = new ServerFrame.Presence(room.name(), event, info(subject));
    String encoded = null;
    for (Membership m : room.members()) {
      if (m.member() != subject) {
        if (encoded == null) {
          encoded = FrameEncoder.encode(presence);
        }
        m.member().sendText(encoded, presence.priority());
      }
    }
  }

  /**
   * Brings the room's steering up to date: every pair of profiled peers within the mesh limit gets
   * a steer when it forms or its decision's mode changes. Crossing the mesh limit moves every
   * steered pair to the relay and forgets the pairs; a pair without a steer stays on the relay.
   */
  private void steer(Room room) {
    if (!options.isEnabled()) {
      return;
    }
    int size = room.members().size();
    Map<PairKey, PairState> roomPairs = pairs.get(room);
    if (size > options.getMeshMax()) {
      if (roomPairs != null) {
        pairs.remove(room);
        for (Map.Entry<PairKey, PairState> e : roomPairs.entrySet()) {
          if (e.getValue().decision.mode() != PeerPath.RELAY) {
            send(room, e.getKey(), new Decision(PeerPath.RELAY, "mesh-limit"));
          }
        }
      }
      return;
    }
    List<Member> profiled = new ArrayList<>();
    for (Membership m : room.members()) {
      if (m.member().profile() != null) {
        profiled.add(m.member());
      }
    }
    if (profiled.size() < 2) {
      if (roomPairs != null && roomPairs.isEmpty()) {
        pairs.remove(room);
      }
      return;
    }
    if (roomPairs == null) {
      roomPairs = new HashMap<>();
      pairs.put(room, roomPairs);
    }
    long now = clockMs.getAsLong();
    for (int i = 0; i < profiled.size(); i++) {
      for (int j = i + 1; j < profiled.size(); j++) {
        Member a = profiled.get(i);
        Member b = profiled.get(j);
        PairKey key = PairKey.of(a.id(), b.id());
        Decision decision;
        synchronized (policy) { // its outcome statistics are shared by every shard's rooms
          decision = policy.decide(a.profile(), b.profile(), size, now);
        }
        PairState previous = roomPairs.get(key);
        if (previous == null || previous.decision.mode() != decision.mode()) {
          roomPairs.put(key, new PairState(new ClassPair(a.profile().natClass(), b.profile().natClass()), decision));
          send(room, key, decision);
        }
      }
    }
  }

  private void send(Room room, PairKey key, Decision decision) {
    Membership lowMember = room.member(key.low());
    Membership highMember = room.member(key.high());
    if (lowMember == null || highMember == null) {
      return;
    }
    metrics.steer(decision.mode(), decision.reason());
    Member low = lowMember.member();
    Member high = highMember.member();
    // The higher id is polite: exactly one side of every pair yields on glare.
    low.send(steer(room, low, high, decision, false));
    high.send(steer(room, high, low, decision, true));
  }

  private ServerFrame.Steer steer(Room room, Member to, Member peer, Decision decision, boolean polite) {
    List<ServerFrame.IceServer> ice;
    synchronized (iceServers) {
      ice = iceServers.forMode(decision.mode(), to.user(), to.host(), to.address());
    }
    return new ServerFrame.Steer(room.name(), peer.id(), decision.mode(), polite, ice, decision.reason());
  }
}
