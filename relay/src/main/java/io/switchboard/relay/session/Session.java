package io.switchboard.relay.session;

import io.switchboard.signaling.limit.TokenBucket;
import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Priority;
import io.switchboard.relay.auth.Identity;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.room.Loop;
import io.switchboard.relay.room.Member;
import io.switchboard.signaling.steer.NatProfile;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One client connection: its identity, the names of its rooms, outbound queue, rate limit and abuse
 * score. Lives on the event loop that accepted it, so it has no locks; what a room reads of it
 * ({@link Member}) is volatile.
 */
public final class Session implements OutboundQueue.Sink, Member {
  /** Close codes, documented in docs/protocol.md. */
  public static final short GOING_AWAY = 1001;
  public static final short POLICY_VIOLATION = 1008;
  public static final short TRY_AGAIN_LATER = 1013;

  private final String id;
  /** The event loop that accepted the connection: everything that touches the socket runs there. */
  private Loop loop = Loop.DIRECT;
  private final Connection connection;
  private final OutboundQueue out;
  private final TokenBucket bucket;
  private final int maxErrors;
  /** Times of the last {@code maxErrors} rejected frames, created on the first one. */
  private long[] errorTimes;
  /** Rooms this connection is in; the memberships themselves belong to the rooms. */
  private final Set<String> rooms = new HashSet<>();
  /**
   * In a cluster: the node each room's membership (or join) is on, so the room's frames follow it
   * there even if the placement changes meanwhile. Empty on a relay alone.
   */
  private final Map<String, String> routes = new HashMap<>();
  /** In a cluster: every other node this connection sent a room op to (each keeps a proxy of it until told it closed). */
  private final Set<String> nodes = new HashSet<>();
  /** Rooms whose join went to the room's loop and has not come back: frames for them follow it there. */
  private final Set<String> joining = new HashSet<>();
  private final long connectedNanos;
  private volatile Identity identity;
  private volatile String helloName;
  private long lastSeenNanos;
  private int errorIndex;
  private int pendingJoins;
  private boolean authenticating;
  /** When this connection was told {@code token_expired} (wall clock ms); 0: not expired. */
  private long tokenExpiredAtMs;
  private volatile String closeReason;
  private Runnable onSlowConsumer = () -> { };
  private Consumer<ProtocolException> onRefused = e -> { };
  private volatile String host = "";
  private volatile String address = "";
  private volatile NatProfile profile;
  private long profileChangedAtMs;
  private TokenBucket signalBucket;
  private TokenBucket roomLoadBucket;

  public Session(String id, Connection connection, OutboundQueue out, TokenBucket bucket, int maxErrors,
      long nowNanos) {
    this.id = id;
    this.connection = connection;
    this.out = out;
    this.bucket = bucket;
    this.maxErrors = maxErrors;
    this.connectedNanos = nowNanos;
    this.lastSeenNanos = nowNanos;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Loop loop() {
    return loop;
  }

  /** Set once, where the connection is accepted, before any room knows it. */
  public void loop(Loop loop) {
    this.loop = loop;
  }

  public Identity identity() {
    return identity;
  }

  public void identity(Identity identity) {
    this.identity = identity;
  }

  /** The client's address key for per-address limits (an IPv6 client's /64). */
  @Override
  public String address() {
    return address;
  }

  public void address(String address) {
    this.address = address;
  }

  /** The host the client connected to (Host header), for URLs it must reach the same way. */
  @Override
  public String host() {
    return host;
  }

  public void host(String host) {
    this.host = host;
  }

  /** Null until the client reports one; only connections with a profile are steered. */
  @Override
  public NatProfile profile() {
    return profile;
  }

  public void profile(NatProfile profile, long nowMs) {
    this.profile = profile;
    this.profileChangedAtMs = nowMs;
  }

  public long profileChangedAtMs() {
    return profileChangedAtMs;
  }

  /** Signals have their own bucket, created on the first signal: most connections never send one. */
  public boolean tryAcquireSignal(long nowNanos, java.util.function.LongFunction<TokenBucket> create) {
    if (signalBucket == null) {
      signalBucket = create.apply(nowNanos);
    }
    return signalBucket.tryAcquire(nowNanos);
  }

  /** Loads of rooms not in memory have their own bucket, created on the first one. */
  public boolean tryAcquireRoomLoad(long nowNanos, java.util.function.LongFunction<TokenBucket> create) {
    if (roomLoadBucket == null) {
      roomLoadBucket = create.apply(nowNanos);
    }
    return roomLoadBucket.tryAcquire(nowNanos);
  }

  @Override
  public String user() {
    return identity == null ? null : identity.user();
  }

  /** The user's display name: its token's, else the one its hello gave; null: none. */
  @Override
  public String name() {
    Identity id = identity;
    return id == null ? null : id.name() != null ? id.name() : helloName;
  }

  /** A guest's {@code hello.name} (used only when the token gives no name). */
  public void helloName(String name) {
    this.helloName = name;
  }

  public long tokenExpiredAtMs() {
    return tokenExpiredAtMs;
  }

  public void tokenExpiredAtMs(long atMs) {
    this.tokenExpiredAtMs = atMs;
  }

  public boolean authenticating() {
    return authenticating;
  }

  public void authenticating(boolean authenticating) {
    this.authenticating = authenticating;
  }

  /** Names of the rooms this connection joined (not those it is still joining). */
  public Set<String> rooms() {
    return rooms;
  }

  /** Room → node its membership is on (cluster only). */
  public Map<String, String> routes() {
    return routes;
  }

  /** Other nodes this connection sent room ops to (cluster only). */
  public Set<String> nodes() {
    return nodes;
  }

  /** Rooms handed to their room's loop to join, not answered yet. */
  public Set<String> joining() {
    return joining;
  }

  /**
   * Whether a room frame may go to the room: joined, or its join is on its way there ahead of the
   * frame (the room answers {@code not_joined} itself if that join fails).
   */
  public boolean inRoom(String room) {
    return rooms.contains(room) || joining.contains(room);
  }

  @Override
  public void removedFrom(String room) {
    if (!loop.inLoop()) {
      loop.execute(() -> removedFrom(room));
      return;
    }
    rooms.remove(room);
    routes.remove(room);
  }

  public int pendingJoins() {
    return pendingJoins;
  }

  public void pendingJoins(int delta) {
    pendingJoins += delta;
  }

  public long connectedNanos() {
    return connectedNanos;
  }

  public long lastSeenNanos() {
    return lastSeenNanos;
  }

  public void seen(long nowNanos) {
    lastSeenNanos = nowNanos;
  }

  public boolean tryAcquire(long nowNanos) {
    return bucket.tryAcquire(nowNanos);
  }

  /** All {@code count} tokens from the frame bucket, or none (a batch costs one per item). */
  public boolean tryAcquire(long nowNanos, int count) {
    return bucket.tryAcquire(nowNanos, count);
  }

  /**
   * Records a rejected frame; returns true when the last {@code maxErrors} errors, this one
   * included, all happened within {@code windowNanos}.
   */
  public boolean strike(long nowNanos, long windowNanos) {
    if (errorTimes == null) {
      errorTimes = new long[maxErrors];
      java.util.Arrays.fill(errorTimes, Long.MIN_VALUE);
    }
    errorTimes[errorIndex] = nowNanos;
    errorIndex = (errorIndex + 1) % errorTimes.length;
    long oldest = errorTimes[errorIndex];
    return oldest != Long.MIN_VALUE && nowNanos - oldest <= windowNanos;
  }

  @Override
  public boolean isClosed() {
    return closeReason != null;
  }

  public String closeReason() {
    return closeReason;
  }

  @Override
  public void send(ServerFrame frame) {
    // encoded where it was sent from: the connection's loop only queues it
    sendText(FrameEncoder.encode(frame), frame.priority());
  }

  /** Queues an already encoded frame (fanout encodes a message once for all receivers). */
  @Override
  public void sendText(String text, Priority priority) {
    if (closeReason != null) {
      return;
    }
    if (!loop.inLoop()) {
      loop.execute(() -> sendText(text, priority));
      return;
    }
    if (!out.offer(text, priority, this)) {
      slowConsumer();
    }
  }

  /** Cuts the connection off because it does not read fast enough (1013). */
  @Override
  public void slowConsumer() {
    if (!loop.inLoop()) {
      loop.execute(this::slowConsumer);
      return;
    }
    if (closeReason == null) {
      onSlowConsumer.run();
      close(TRY_AGAIN_LATER, "slow consumer");
    }
  }

  public void onSlowConsumer(Runnable listener) {
    this.onSlowConsumer = listener;
  }

  @Override
  public void refused(ProtocolException e) {
    if (!loop.inLoop()) {
      loop.execute(() -> refused(e));
      return;
    }
    if (closeReason == null) {
      onRefused.accept(e);
    }
  }

  /** Who answers a refused frame (error frame, abuse count): the engine. */
  public void onRefused(Consumer<ProtocolException> listener) {
    this.onRefused = listener;
  }

  public void onDrain() {
    out.drain(this);
  }

  @Override
  public long queuedChars() {
    return out.queuedChars();
  }

  /** Queued characters plus bytes the socket still holds: what the outbound bound limits. */
  public long heldBytes() {
    return out.held(this);
  }

  public void ping() {
    if (closeReason == null) {
      connection.ping();
    }
  }

  /** Closes once; what is queued is dropped except on a graceful close. */
  public void close(short code, String reason) {
    if (closeReason != null) {
      return;
    }
    closeReason = reason;
    if (code == GOING_AWAY) {
      out.flushAll(this);
    } else {
      out.clear();
    }
    connection.close(code, reason);
  }

  /** The socket went away (either side closed it). */
  public void closed() {
    if (closeReason == null) {
      closeReason = "closed by peer";
    }
    out.clear();
  }

  @Override
  public boolean full() {
    return connection.writeQueueFull();
  }

  @Override
  public long pendingBytes() {
    return connection.pendingBytes();
  }

  @Override
  public void write(String text) {
    connection.write(text);
  }
}
