package io.switchboard.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Frames the server sends. {@link #priority()} decides their place in a connection's outbound queue. */
public sealed interface ServerFrame {

  /** Outbound classes, most urgent first. Messages of one room always share a class, so stay ordered. */
  enum Priority { CONTROL, LIVE, BULK }

  default Priority priority() {
    return Priority.CONTROL;
  }

  /** The limits a client must respect on this connection. */
  record ClientLimits(int maxFrameBytes, int maxBodyBytes, int maxRooms, int maxHistoryLimit) {}

  /**
   * {@code p2p} is null when the server offers no peer-to-peer service. {@code session} is also the
   * connection's peer id in {@code presence}, {@code signal} and {@code steer}. {@code name} is the
   * user's display name from its token (null: none); {@code expiresAt} when the identity's token
   * expires (epoch ms; null: never), before which the client refreshes it with {@code auth}.
   */
  record Welcome(Object id, String session, String user, String token, long heartbeatMs, ClientLimits limits,
      P2pConfig p2p, String name, Long expiresAt) implements ServerFrame {
    public Welcome(Object id, String session, String user, String token, long heartbeatMs, ClientLimits limits,
        P2pConfig p2p) {
      this(id, session, user, token, heartbeatMs, limits, p2p, null, null);
    }
  }

  /** An RTCIceServer as WebRTC takes it; {@code username}/{@code credential} only for TURN. */
  record IceServer(List<String> urls, String username, String credential) {
    public IceServer {
      urls = List.copyOf(urls);
    }
  }

  /** The STUN endpoints to probe for a NAT profile (primary port first) and ICE servers with fresh TURN credentials. */
  /** {@code turnWithheld}: why no TURN server is listed although the server has one (null: not withheld). */
  record P2pConfig(List<String> probe, List<IceServer> iceServers, String turnWithheld) {
    public P2pConfig {
      probe = List.copyOf(probe);
      iceServers = List.copyOf(iceServers);
    }

    public P2pConfig(List<String> probe, List<IceServer> iceServers) {
      this(probe, iceServers, null);
    }
  }

  /** What a peer's profile says about it; {@code turn} null when the peer did not try TURN. */
  record PeerProfile(NatClass natClass, boolean udp, Boolean turn) {}

  /** Another connection in a room; {@code profile} is null until it reports one, {@code name} when the user has none. */
  record PeerInfo(String peer, String user, PeerProfile profile, String name) {
    public PeerInfo(String peer, String user, PeerProfile profile) {
      this(peer, user, profile, null);
    }
  }

  /**
   * Reply to {@code join}, and one per room resumed by {@code hello}. {@code epoch} names the room's
   * current sequencing epoch. {@code recovered} is only set for resumed rooms: true when every missed
   * message follows, false when the client must page history for messages older than
   * {@code replayFrom}. {@code divergedAfter} (resume only, else null) says the client's copy past
   * that seq may name messages that do not exist: it replaces them by the replay and history.
   * {@code visibility} ({@code public}/{@code private}) and the joiner's {@code role} ({@code owner},
   * {@code member}, {@code reader}; null: none, i.e. a public room's default) say what it may do;
   * {@code names} maps members that have a display name to it; {@code reads} maps users to their
   * read cursors (the most recently moved, the joiner's own included).
   */
  record Joined(Object id, String room, long head, RoomMode mode, List<String> members, List<PeerInfo> peers,
      String epoch, Boolean recovered, Long divergedAfter, Long replayFrom, String visibility, String role,
      Map<String, String> names, Map<String, Long> reads, Long rev, Boolean changesRecovered, Boolean encrypted)
      implements ServerFrame {
    public Joined {
      members = List.copyOf(members);
      peers = List.copyOf(peers);
      names = names == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(names));
      reads = reads == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(reads));
    }

    /** {@code encrypted}: true for an end-to-end encrypted room, null otherwise. */
    public Joined(Object id, String room, long head, RoomMode mode, List<String> members, List<PeerInfo> peers,
        String epoch, Boolean recovered, Long divergedAfter, Long replayFrom, String visibility, String role,
        Map<String, String> names, Map<String, Long> reads, Long rev, Boolean changesRecovered) {
      this(id, room, head, mode, members, peers, epoch, recovered, divergedAfter, replayFrom, visibility, role, names,
          reads, rev, changesRecovered, null);
    }

    public Joined(Object id, String room, long head, RoomMode mode, List<String> members, List<PeerInfo> peers,
        String epoch, Boolean recovered, Long divergedAfter, Long replayFrom, String visibility, String role,
        Map<String, String> names, Map<String, Long> reads) {
      this(id, room, head, mode, members, peers, epoch, recovered, divergedAfter, replayFrom, visibility, role, names,
          reads, null, null);
    }

    /**
     * {@code rev}: the room's current change rev (0: none yet); {@code changesRecovered} only when the
     * client asked for changes since a rev: false when more changed than are sent (it drops its cached copies).
     */
    public Joined(Object id, String room, long head, RoomMode mode, List<String> members, List<PeerInfo> peers,
        String epoch, Boolean recovered, Long divergedAfter, Long replayFrom, String visibility, String role,
        Map<String, String> names, Long rev, Boolean changesRecovered) {
      this(id, room, head, mode, members, peers, epoch, recovered, divergedAfter, replayFrom, visibility, role, names,
          null, rev, changesRecovered);
    }

    public Joined(Object id, String room, long head, RoomMode mode, List<String> members, List<PeerInfo> peers,
        String epoch, Boolean recovered, Long divergedAfter, Long replayFrom, String visibility, String role,
        Map<String, String> names) {
      this(id, room, head, mode, members, peers, epoch, recovered, divergedAfter, replayFrom, visibility, role, names,
          null, null, null);
    }

    public Joined(Object id, String room, long head, RoomMode mode, List<String> members, List<PeerInfo> peers,
        String epoch, Boolean recovered, Long divergedAfter, Long replayFrom) {
      this(id, room, head, mode, members, peers, epoch, recovered, divergedAfter, replayFrom, null, null, null);
    }
  }

  /**
   * Reply to {@code leave} ({@code reason} null), or the server taking the connection out of a room
   * ({@code id} null, {@code reason} e.g. {@code removed}).
   */
  record Left(Object id, String room, String reason) implements ServerFrame {
    public Left(Object id, String room) {
      this(id, room, null);
    }
  }

  record ModeSet(Object id, String room, RoomMode mode, long head) implements ServerFrame {}

  /**
   * The user's role in a room it is in changed and it may still read the room; the next send follows
   * it. {@code role} null: no longer listed (a public room's default).
   */
  record RoleChanged(String room, String role) implements ServerFrame {}

  /** Reply to {@code grant}. */
  record Granted(Object id, String room, String user, String role) implements ServerFrame {}

  /** Reply to {@code revoke}. */
  record Revoked(Object id, String room, String user) implements ServerFrame {}

  /** Reply to {@code encrypt} ({@code id} set), or a member told the room it is in became encrypted ({@code id} null). */
  record Encrypted(Object id, String room) implements ServerFrame {}

  /** One listed user of a room. */
  record RoomMember(String user, String role) {}

  /** Reply to {@code members} ({@code t:"members"}): owners first, then by user id. */
  record MemberList(Object id, String room, String visibility, List<RoomMember> members) implements ServerFrame {
    public MemberList {
      members = List.copyOf(members);
    }
  }

  /**
   * One chat message as stored: room-scoped gap-free {@code seq}, sender's {@code cid}, server time;
   * {@code name} the sender's display name when it sent (null: none); and its current mutable state:
   * {@code rev} of its last change (0: never changed), {@code edited} (epoch ms of the last edit,
   * null: never), {@code deleted} (then {@code body} is null) and its {@code reactions} in order of
   * each emoji's first reaction.
   */
  record Message(String room, long seq, String cid, String from, String body, long ts, String name, long rev,
      Long edited, boolean deleted, List<Reaction> reactions) {
    public Message {
      reactions = reactions == null ? List.of() : List.copyOf(reactions);
    }

    public Message(String room, long seq, String cid, String from, String body, long ts) {
      this(room, seq, cid, from, body, ts, null, 0, null, false, List.of());
    }

    public Message(String room, long seq, String cid, String from, String body, long ts, String name) {
      this(room, seq, cid, from, body, ts, name, 0, null, false, List.of());
    }

    public Message(String room, long seq, String cid, String from, String body, long ts, long rev, Long edited,
        boolean deleted, List<Reaction> reactions) {
      this(room, seq, cid, from, body, ts, null, rev, edited, deleted, reactions);
    }
  }

  /** One emoji on a message: the exact {@code count} and the first users (at most 50) in reaction order. */
  record Reaction(String emoji, int count, List<String> users) {
    public Reaction {
      users = List.copyOf(users);
    }
  }

  /**
   * A message's complete current mutable state after an edit, delete or reaction (or as change
   * catch-up after {@code joined}); {@code id} only on the changer's own copy.
   */
  record Changed(Object id, Message message) implements ServerFrame {
    @Override
    public Priority priority() {
      return Priority.LIVE; // the class of its room's msgs: a change never overtakes the msg it changes
    }
  }

  record Msg(Message message) implements ServerFrame {
    @Override
    public Priority priority() {
      return Priority.LIVE;
    }
  }

  record Ack(Object id, String room, String cid, long seq, boolean stored) implements ServerFrame {}

  /**
   * The seqs and times a batch gave messages this connection already holds (its DataChannel
   * delivered them): {@code msg} without the bodies, one frame per batch.
   */
  record Seqs(String room, String from, List<SeqItem> items) implements ServerFrame {
    public Seqs {
      items = List.copyOf(items);
    }

    @Override
    public Priority priority() {
      return Priority.LIVE;
    }
  }

  /** One message of {@link Seqs}. */
  record SeqItem(String cid, long seq, long ts) {}

  /** Throttled summary for a background room: messages since it went to the background; {@code preview} null in an encrypted room. */
  record Unread(String room, long count, long lastSeq, String preview) implements ServerFrame {
    @Override
    public Priority priority() {
      return Priority.LIVE;
    }
  }

  /** A history page in ascending seq order; {@code hasMore} when older messages exist. */
  record Page(Object id, String room, List<Message> messages, boolean hasMore) implements ServerFrame {
    public Page {
      messages = List.copyOf(messages);
    }

    @Override
    public Priority priority() {
      return Priority.BULK;
    }
  }

  /** {@code room} is set only for errors about a room as a whole ({@code room_unavailable}, a resume's refusals). */
  record Error(ErrorCode code, String message, Object ref, String room) implements ServerFrame {
    public Error(ErrorCode code, String message, Object ref) {
      this(code, message, ref, null);
    }

    public static Error of(ProtocolException e) {
      return new Error(e.code(), e.getMessage(), e.ref());
    }
  }

  record Pong(Object id, long ts) implements ServerFrame {}

  /**
   * The answer to {@code auth}: the connection now runs on the new token. {@code expiresAt} as in
   * {@link Welcome}; {@code token} only for guests (a fresh guest token to keep), null otherwise.
   */
  record Authed(Object id, String user, String name, Long expiresAt, String token) implements ServerFrame {}

  enum PresenceEvent {
    JOIN("join"), LEAVE("leave"), PROFILE("profile");

    private final String wire;

    PresenceEvent(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }
  }

  /** Another connection joined or left a room, or reported a new profile. */
  record Presence(String room, PresenceEvent event, PeerInfo peer) implements ServerFrame {}

  /** Read cursors of a room that moved since its last {@code reads} frame: user → last read seq. */
  record Reads(String room, Map<String, Long> reads) implements ServerFrame {
    public Reads {
      reads = Collections.unmodifiableMap(new LinkedHashMap<>(reads));
    }

    @Override
    public Priority priority() {
      return Priority.LIVE;
    }
  }

  /** Connection {@code peer} of {@code user} started ({@code on}) or stopped typing in {@code room}. */
  record Typing(String room, String peer, String user, String name, boolean on) implements ServerFrame {
    @Override
    public Priority priority() {
      return Priority.LIVE;
    }
  }

  /** A peer's signaling payload, {@code data} being the raw JSON object it sent. */
  record Signal(String room, String from, String data) implements ServerFrame {}

  /** The server's classification of this connection, in reply to {@code profile}. */
  record ProfileSet(Object id, NatClass natClass, NatBehaviour mapping, NatBehaviour filtering, boolean udp,
      Boolean turn) implements ServerFrame {}

  /**
   * How to reach {@code peer} in {@code room}. For {@code p2p} and {@code turn} the ICE servers to use
   * ({@code turn} means relay candidates only); {@code polite} gives the perfect-negotiation role;
   * {@code reason} says which rule decided.
   */
  record Steer(String room, String peer, PeerPath mode, boolean polite, List<IceServer> iceServers, String reason)
      implements ServerFrame {
    public Steer {
      iceServers = List.copyOf(iceServers);
    }
  }
}
