package io.switchboard.relay;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.FrameParser;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.relay.access.Access;
import io.switchboard.relay.access.AccessChange;
import io.switchboard.relay.access.AccessControl;
import io.switchboard.relay.access.LastOwnerException;
import io.switchboard.relay.access.Role;
import io.switchboard.relay.auth.Authenticator;
import io.switchboard.relay.auth.Identity;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.history.RoomHistory;
import io.switchboard.relay.limits.AddressLimits;
import io.switchboard.relay.metrics.RelayMetrics;
import io.switchboard.relay.p2p.PeerCoordinator;
import io.switchboard.relay.room.RoomRegistry;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import io.switchboard.relay.store.BatchWriter;
import io.switchboard.relay.store.MessageStore;
import io.switchboard.relay.store.RoomLeases;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one gate every client frame passes: rate limit, strict parse, authorisation, then one handler
 * per frame type. Owns the connections and their session-level frames (hello, auth, ping, limits,
 * access administration); whatever touches a room goes to the room's {@link RoomShard} as plain
 * data plus the connection as its {@link io.switchboard.relay.room.Member} ({@link #onRoom}).
 */
public final class RelayEngine {
  private static final Logger LOG = LoggerFactory.getLogger(RelayEngine.class);

  private final RelayOptions options;
  private final FrameParser parser;
  private final Authenticator authenticator;
  private final RoomShard shard;
  private final RelayMetrics metrics;
  private final Replies replies;
  private final LongSupplier nanoClock;
  /** Epoch ms for token expiry (tests move it). */
  private final LongSupplier wallClock;
  private final PeerCoordinator peers;
  private final AddressLimits limits;
  private final AccessControl access;
  /** Access changes seen so far: a lookup during which one arrived is repeated before it is relied on. */
  private long accessChanges;
  private final Set<Session> sessions = new LinkedHashSet<>();
  private final ServerFrame.ClientLimits clientLimits;
  private boolean draining;

  public RelayEngine(RelayOptions options, Authenticator authenticator, MessageStore store, BatchWriter writer,
      RoomLeases leases, RoomRegistry.Timers timers, RelayMetrics metrics, PeerCoordinator peers,
      AddressLimits limits, LongSupplier nanoClock, LongSupplier wallClock, AccessControl access) {
    this.peers = peers;
    this.access = access;
    access.onChange(this::accessChanged);
    this.limits = limits;
    this.options = options;
    this.parser = new FrameParser(options.limits());
    this.authenticator = authenticator;
    this.metrics = metrics;
    this.nanoClock = nanoClock;
    this.wallClock = wallClock;
    this.replies = new Replies(options, metrics, nanoClock);
    this.shard = new RoomShard(options, store, writer, leases, timers, metrics, peers, access, replies, nanoClock,
        () -> accessChanges, () -> draining);
    this.clientLimits = new ServerFrame.ClientLimits(options.getMaxFrameBytes(), options.getMaxBodyBytes(),
        options.getMaxRoomsPerConnection(), options.getMaxHistoryLimit());
    metrics.gauges(sessions::size, shard.rooms()::size);
  }

  public PeerCoordinator peers() {
    return peers;
  }

  public RoomRegistry rooms() {
    return shard.rooms();
  }

  public RoomHistory history() {
    return shard.history();
  }

  public int sessionCount() {
    return sessions.size();
  }

  /** What open connections hold on the way out (queued plus unflushed in Netty), per connection. */
  public LongSummaryStatistics outboundHeld() {
    return sessions.stream().mapToLong(Session::heldBytes).summaryStatistics();
  }

  public boolean draining() {
    return draining;
  }

  public void opened(Session session) {
    sessions.add(session);
    session.onSlowConsumer(() -> metrics.disconnect("slow_consumer"));
    session.onRefused(e -> replies.reject(session, e));
  }

  public void closed(Session session) {
    if (!sessions.remove(session)) {
      return;
    }
    session.closed();
    List<String> names = new ArrayList<>(session.rooms());
    session.rooms().clear();
    for (String room : names) {
      onRoom(room, session, null, shard -> shard.closed(session, room));
    }
  }

  /**
   * Runs a room-side operation for this connection on the room's shard. A refusal it throws goes
   * back to the client as the frame's error, like one of the gate's own.
   */
  private void onRoom(String room, Session session, Object id, Consumer<RoomShard> op) {
    try {
      op.accept(shard);
    } catch (ProtocolException e) {
      session.refused(e.withRef(id));
    } catch (RuntimeException e) {
      LOG.error("bug handling a frame of session {} in room {}", session.id(), room, e);
      session.refused(new ProtocolException(ErrorCode.INTERNAL, "internal error; the frame had no effect", id));
    }
  }

  /** A text frame from a client. */
  public void onText(Session session, String text) {
    long now = nanoClock.getAsLong();
    session.seen(now);
    if (session.isClosed()) {
      return;
    }
    if (!session.tryAcquire(now)) {
      replies.reject(session, new ProtocolException(ErrorCode.RATE_LIMITED,
          "more than " + options.getRateFramesPerSecond() + " frames/s; frame dropped"));
      return;
    }
    ClientFrame frame;
    try {
      frame = parser.parse(text);
    } catch (ProtocolException e) {
      metrics.frameIn("invalid");
      replies.reject(session, e);
      return;
    }
    try {
      dispatch(session, frame);
    } catch (ProtocolException e) {
      replies.reject(session, e.withRef(frame.id()));
    } catch (RuntimeException e) {
      LOG.error("bug handling {} on session {}", frame.getClass().getSimpleName(), session.id(), e);
      replies.reject(session, new ProtocolException(ErrorCode.INTERNAL, "internal error; the frame had no effect", frame.id()));
    }
  }

  /** Binary messages are not part of protocol v1. */
  public void onBinary(Session session) {
    session.seen(nanoClock.getAsLong());
    metrics.frameIn("invalid");
    replies.reject(session, new ProtocolException(ErrorCode.BAD_REQUEST, "binary messages are not supported; send JSON text"));
  }

  /** Any sign of life that is not a frame (a pong control frame). */
  public void onPong(Session session) {
    session.seen(nanoClock.getAsLong());
  }

  private void dispatch(Session session, ClientFrame frame) {
    if (frame instanceof ClientFrame.Hello hello) {
      metrics.frameIn("hello");
      hello(session, hello);
      return;
    }
    if (frame instanceof ClientFrame.Ping ping) {
      metrics.frameIn("ping");
      session.send(new ServerFrame.Pong(ping.id(), System.currentTimeMillis()));
      return;
    }
    if (session.identity() == null) {
      throw new ProtocolException(ErrorCode.UNAUTHORIZED, "send hello first");
    }
    if (frame instanceof ClientFrame.Send send) {
      metrics.frameIn("send");
      requireJoined(session, send.room());
      onRoom(send.room(), session, send.id(), shard -> shard.intake().send(session, send));
    } else if (frame instanceof ClientFrame.Batch batch) {
      metrics.frameIn("batch");
      batch(session, batch);
    } else if (frame instanceof ClientFrame.Join join) {
      metrics.frameIn("join");
      join(session, join);
    } else if (frame instanceof ClientFrame.Leave leave) {
      metrics.frameIn("leave");
      requireJoined(session, leave.room());
      session.rooms().remove(leave.room());
      onRoom(leave.room(), session, leave.id(), shard -> shard.leave(session, leave));
    } else if (frame instanceof ClientFrame.SetMode mode) {
      metrics.frameIn("mode");
      requireJoined(session, mode.room());
      onRoom(mode.room(), session, mode.id(), shard -> shard.mode(session, mode));
    } else if (frame instanceof ClientFrame.History h) {
      metrics.frameIn("history");
      history(session, h);
    } else if (frame instanceof ClientFrame.Signal signal) {
      metrics.frameIn("signal");
      requireJoined(session, signal.room());
      peers.admitSignal(session, nanoClock.getAsLong());
      onRoom(signal.room(), session, signal.id(), shard -> shard.signal(session, signal));
    } else if (frame instanceof ClientFrame.Profile profile) {
      metrics.frameIn("profile");
      if (peers.profile(session, profile)) {
        for (String room : session.rooms()) {
          onRoom(room, session, null, shard -> shard.profileChanged(session, room));
        }
      }
    } else if (frame instanceof ClientFrame.P2pResult result) {
      metrics.frameIn("p2p-result");
      requireJoined(session, result.room());
      onRoom(result.room(), session, result.id(), shard -> shard.result(session, result));
    } else if (frame instanceof ClientFrame.Grant grant) {
      metrics.frameIn("grant");
      grant(session, grant);
    } else if (frame instanceof ClientFrame.Revoke revoke) {
      metrics.frameIn("revoke");
      revoke(session, revoke);
    } else if (frame instanceof ClientFrame.Members members) {
      metrics.frameIn("members");
      members(session, members);
    } else if (frame instanceof ClientFrame.Auth auth) {
      metrics.frameIn("auth");
      auth(session, auth);
    }
  }

  private static void requireJoined(Session session, String room) {
    if (!session.rooms().contains(room)) {
      throw Replies.notJoined(room);
    }
  }

  // --- hello / resume ---------------------------------------------------------------------------

  private void hello(Session session, ClientFrame.Hello hello) {
    if (draining) {
      throw new ProtocolException(ErrorCode.SHUTTING_DOWN, "server is shutting down; reconnect later");
    }
    if (session.identity() != null || session.authenticating()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "hello already sent on this connection");
    }
    if (hello.resume().size() > options.getMaxRoomsPerConnection()) {
      throw new ProtocolException(ErrorCode.TOO_MANY_ROOMS,
          "resume names more than " + options.getMaxRoomsPerConnection() + " rooms");
    }
    checkToken(session, hello.token(), ar -> {
      if (ar.failed()) {
        refuseToken(session, hello.id(), ar.cause());
        return;
      }
      Identity identity = ar.result();
      session.identity(identity);
      session.send(new ServerFrame.Welcome(hello.id(), session.id(), identity.user(), identity.token(),
          options.getHeartbeatMs(), clientLimits, peers.welcome(session), identity.name(), expiresAt(identity)));
      for (Map.Entry<String, ClientFrame.ResumePoint> e : hello.resume().entrySet()) {
        resume(session, e.getKey(), e.getValue());
      }
    });
  }

  /** Checks a hello's or auth's token, one at a time per connection; {@code then} runs only on an open one. */
  private void checkToken(Session session, String token, Handler<AsyncResult<Identity>> then) {
    session.authenticating(true);
    authenticator.authenticate(token).onComplete(ar -> {
      session.authenticating(false);
      if (!session.isClosed()) {
        then.handle(ar);
      }
    });
  }

  /**
   * A refused token ends the connection (1008) after its {@code unauthorized}; an unreachable JWKS
   * ({@code auth_unavailable}) closes with 1013 so the client retries with the same token.
   */
  private void refuseToken(Session session, Object id, Throwable cause) {
    replies.fail(session, id, cause);
    if (cause instanceof ProtocolException pe && pe.code() == ErrorCode.AUTH_UNAVAILABLE) {
      metrics.disconnect("auth_unavailable");
      session.close(Session.TRY_AGAIN_LATER, "cannot check tokens now");
    } else {
      metrics.disconnect("unauthorized");
      session.close(Session.POLICY_VIOLATION, "token refused");
    }
  }

  /**
   * A refresh on an open connection: a valid token of the same user replaces the identity (and
   * lifts a pending {@code token_expired}); anything else ends the connection like a bad hello.
   * An unreachable JWKS is no verdict on the client: it gets {@code auth_unavailable} and keeps its
   * connection for as long as its current token lasts.
   */
  private void auth(Session session, ClientFrame.Auth auth) {
    if (session.authenticating()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "an auth is already being checked on this connection");
    }
    checkToken(session, auth.token(), ar -> {
      if (ar.failed()) {
        if (ar.cause() instanceof ProtocolException pe && pe.code() == ErrorCode.AUTH_UNAVAILABLE) {
          replies.fail(session, auth.id(), pe);
        } else {
          refuseToken(session, auth.id(), ar.cause());
        }
        return;
      }
      Identity next = ar.result();
      if (!next.user().equals(session.user())) {
        refuseToken(session, auth.id(), new ProtocolException(ErrorCode.UNAUTHORIZED,
            "auth must carry a token of the connection's own user; connect again to change users"));
        return;
      }
      session.identity(next);
      session.tokenExpiredAtMs(0);
      session.send(new ServerFrame.Authed(auth.id(), next.user(), next.name(), expiresAt(next),
          next.guest() ? next.token() : null));
    });
  }

  private static Long expiresAt(Identity identity) {
    return identity.expiresAtMs() == Long.MAX_VALUE ? null : identity.expiresAtMs();
  }

  /** Access first: the name of a room the user may not read costs no room load. */
  private void resume(Session session, String roomName, ClientFrame.ResumePoint point) {
    long seen = accessChanges;
    whileJoining(session, access.access(roomName, session.user()), checked -> {
      ErrorCode refused = checked.failed() ? ErrorCode.STORAGE_UNAVAILABLE
          : checked.result().canRead() ? null : ErrorCode.FORBIDDEN;
      if (refused != null) {
        replies.error(session, refused, (refused == ErrorCode.FORBIDDEN ? Replies.forbidden(roomName).getMessage()
            : "storage is unavailable; retry later") + "; not resumed", null, roomName);
        return;
      }
      resumeReadable(session, roomName, point, checked.result(), seen);
    });
  }

  private void resumeReadable(Session session, String roomName, ClientFrame.ResumePoint point, Access allowed,
      long seen) {
    // Resumes draw on no per-connection load rate: a client that reconnects after a restart finds
    // all its rooms unloaded, and one hello per connection bounds them already. A refusal names the
    // room (the SDK rejoins it with backoff) and is no strike: many clients behind one address
    // resuming after a restart are not abusing.
    if (!shard.rooms().loadedOrLoading(roomName)) {
      ProtocolException refused = shard.rooms().sizeWithLoading() >= options.getMaxRooms() ? serverBusy(roomName)
          : limits.tryRoomLoad(session.address()) ? null
          : new ProtocolException(ErrorCode.RATE_LIMITED, limits.roomLoadMessage() + " ('" + roomName + "' not resumed)");
      if (refused != null) {
        replies.error(session, refused.code(), refused.getMessage(), null, roomName);
        return;
      }
    }
    session.pendingJoins(1);
    onRoom(roomName, session, null, shard -> shard.resume(session, roomName, point, allowed, seen,
        outcome -> joinEnded(session, roomName, outcome, () -> resume(session, roomName, point))));
  }

  /**
   * Where a join or resume the room side handled ends for the connection: the room is its now, or
   * (an access change overtook the lookup) the whole step is repeated.
   */
  private void joinEnded(Session session, String room, RoomShard.Outcome outcome, Runnable again) {
    session.pendingJoins(-1);
    if (outcome == RoomShard.Outcome.JOINED) {
      if (session.isClosed()) {
        // closed while the room loaded: its close found no room to leave
        onRoom(room, session, null, shard -> shard.closed(session, room));
      } else {
        session.rooms().add(room);
      }
    } else if (outcome == RoomShard.Outcome.STALE && !session.isClosed()) {
      again.run();
    }
  }

  // --- rooms ------------------------------------------------------------------------------------

  private void join(Session session, ClientFrame.Join join) {
    if (session.rooms().contains(join.room())) {
      onRoom(join.room(), session, join.id(), shard -> shard.rejoin(session, join));
      return;
    }
    if (session.rooms().size() + session.pendingJoins() >= options.getMaxRoomsPerConnection()) {
      throw new ProtocolException(ErrorCode.TOO_MANY_ROOMS,
          "at most " + options.getMaxRoomsPerConnection() + " rooms per connection");
    }
    // The room-load rate first: a lookup of a room nobody has asked about yet may cost a query, so
    // a flood of made-up names is paced by the same bucket as the loads it would cause. Then access:
    // the name of a room the user may not read costs no room load.
    if (!admitRoomLoad(session, join)) {
      return;
    }
    long seen = accessChanges;
    whileJoining(session, access.access(join.room(), session.user()), checked -> {
      if (checked.failed()) {
        replies.fail(session, join.id(), checked.cause());
      } else if (!checked.result().canRead()) {
        replies.reject(session, Replies.forbidden(join.room()).withRef(join.id()));
      } else {
        session.pendingJoins(1);
        onRoom(join.room(), session, join.id(), shard -> shard.join(session, join, checked.result(), seen,
            outcome -> joinEnded(session, join.room(), outcome, () -> reporting(session, join.id(), () -> join(session, join)))));
      }
    });
  }

  /**
   * A step of a join or resume: it counts against the connection's room limit while it waits, and
   * {@code then} runs only if the connection is still open.
   */
  private <T> void whileJoining(Session session, Future<T> step, Handler<AsyncResult<T>> then) {
    session.pendingJoins(1);
    step.onComplete(ar -> {
      session.pendingJoins(-1);
      if (!session.isClosed()) {
        then.handle(ar);
      }
    });
  }

  /** Runs a step of a frame from a callback, where its refusals must be reported rather than thrown. */
  private void reporting(Session session, Object id, Runnable step) {
    try {
      step.run();
    } catch (ProtocolException e) {
      replies.reject(session, e.withRef(id));
    }
  }

  /**
   * A join that would load a room not in memory: each costs heap until the room unloads, so a
   * connection may load only so many per second, and the node only so many at all.
   *
   * @return false when refused (the client has been told)
   */
  private boolean admitRoomLoad(Session session, ClientFrame.Join join) {
    String room = join.room();
    if (shard.rooms().loadedOrLoading(room)) {
      return true;
    }
    if (shard.rooms().sizeWithLoading() >= options.getMaxRooms()) {
      throw serverBusy(room);
    }
    long now = nanoClock.getAsLong();
    String refusal = null;
    if (!session.tryAcquireRoomLoad(now,
        t -> new TokenBucket(options.getRoomLoadsPerSecond(), options.getRoomLoadBurst(), t))) {
      refusal = "more than " + options.getRoomLoadsPerSecond() + " joins/s of rooms not in memory; join '" + room
          + "' again later";
    } else if (!limits.tryRoomLoad(session.address())) {
      refusal = limits.roomLoadMessage();
    }
    if (refusal == null) {
      return true;
    }
    // Not a strike towards the abuse limit: an app joining its 100 rooms at start-up paces badly,
    // it does not abuse, and the refusal costs the server nothing.
    replies.error(session, ErrorCode.RATE_LIMITED, refusal, join.id(), null);
    return false;
  }

  private ProtocolException serverBusy(String room) {
    return new ProtocolException(ErrorCode.SERVER_BUSY,
        "the server holds " + options.getMaxRooms() + " rooms and cannot load '" + room + "'; retry later");
  }

  // --- messages ---------------------------------------------------------------------------------

  /**
   * Messages a peer already delivered over a DataChannel: the connection pays a rate token for every
   * item here, the room takes the batch whole or not at all.
   */
  private void batch(Session session, ClientFrame.Batch batch) {
    requireJoined(session, batch.room());
    int items = batch.items().size();
    if (items > 1 && !session.tryAcquire(nanoClock.getAsLong(), items - 1)) {
      throw new ProtocolException(ErrorCode.RATE_LIMITED,
          "a batch of " + items + " takes " + items + " frame tokens and fewer are left; retry it later");
    }
    onRoom(batch.room(), session, batch.id(), shard -> shard.intake().batch(session, batch));
  }

  // --- history ----------------------------------------------------------------------------------

  private void history(Session session, ClientFrame.History h) {
    if (!session.rooms().contains(h.room())) {
      // not in the room: say forbidden when the user may not read it at all, as join would
      access.access(h.room(), session.user()).onComplete(ar -> {
        if (!session.isClosed()) {
          replies.reject(session, (ar.succeeded() && !ar.result().canRead() ? Replies.forbidden(h.room())
              : Replies.notJoined(h.room())).withRef(h.id()));
        }
      });
      return;
    }
    onRoom(h.room(), session, h.id(), shard -> shard.history(session, h));
  }

  // --- access -----------------------------------------------------------------------------------

  /** A committed change: the room's shard re-checks the members it concerns. */
  private void accessChanged(AccessChange change) {
    accessChanges++;
    shard.recheck(change.room(), change.user());
  }

  private void grant(Session session, ClientFrame.Grant grant) {
    Role role = Role.parse(grant.role());
    asOwner(session, grant.room(), grant.id(), () -> access.setRole(grant.room(), grant.user(), role, true)
        .map(v -> new ServerFrame.Granted(grant.id(), grant.room(), grant.user(), role.wire())));
  }

  private void revoke(Session session, ClientFrame.Revoke revoke) {
    asOwner(session, revoke.room(), revoke.id(), () -> access.removeMember(revoke.room(), revoke.user(), true)
        .map(removed -> new ServerFrame.Revoked(revoke.id(), revoke.room(), revoke.user())));
  }

  private void members(Session session, ClientFrame.Members members) {
    asOwner(session, members.room(), members.id(), () -> access.members(members.room())
        .map(list -> new ServerFrame.MemberList(members.id(), members.room(), list.visibility().wire(),
            list.members().stream().map(m -> new ServerFrame.RoomMember(m.user(), m.role().wire())).toList())));
  }

  /** Runs an owner's frame when the user owns the room ({@code forbidden} otherwise) and sends its reply. */
  private void asOwner(Session session, String room, Object id, Supplier<Future<? extends ServerFrame>> action) {
    access.access(room, session.user())
        .compose(a -> a.canManage() ? action.get() : Future.failedFuture(
            new ProtocolException(ErrorCode.FORBIDDEN, "only owners of room '" + room + "' manage its members")))
        .onComplete(ar -> {
          if (session.isClosed()) {
            return;
          }
          if (ar.succeeded()) {
            session.send(ar.result());
          } else if (ar.cause() instanceof LastOwnerException last) {
            replies.reject(session, new ProtocolException(ErrorCode.BAD_REQUEST, last.getMessage(), id));
          } else {
            replies.fail(session, id, ar.cause());
          }
        });
  }

  // --- timers -----------------------------------------------------------------------------------

  /** Pings quiet sockets, closes dead ones and those that never said hello. */
  public void heartbeatTick() {
    long now = nanoClock.getAsLong();
    long heartbeat = TimeUnit.MILLISECONDS.toNanos(options.getHeartbeatMs());
    long dead = heartbeat * 5 / 2;
    long helloTimeout = TimeUnit.MILLISECONDS.toNanos(options.getHelloTimeoutMs());
    for (Session s : new ArrayList<>(sessions)) {
      long quiet = now - s.lastSeenNanos();
      if (s.identity() == null && !s.authenticating() && now - s.connectedNanos() > helloTimeout) {
        metrics.disconnect("hello_timeout");
        s.close(Session.POLICY_VIOLATION, "no hello in time");
      } else if (quiet > dead) {
        metrics.disconnect("heartbeat");
        s.close(Session.GOING_AWAY, "heartbeat timeout");
      } else if (quiet > heartbeat / 2) {
        s.ping();
      }
    }
  }

  /**
   * Every second: a connection whose token expired gets {@code token_expired} once, and is closed
   * (1008) {@code auth.expiryGraceMs} later unless an {@code auth} refresh came meanwhile.
   */
  public void expiryTick() {
    long now = wallClock.getAsLong();
    long grace = options.getAuth().getExpiryGraceMs();
    for (Session s : new ArrayList<>(sessions)) {
      Identity identity = s.identity();
      if (identity == null || s.isClosed()) {
        continue;
      }
      if (s.tokenExpiredAtMs() == 0 && now >= identity.expiresAtMs()) {
        s.tokenExpiredAtMs(now);
        metrics.error(ErrorCode.TOKEN_EXPIRED);
        s.send(new ServerFrame.Error(ErrorCode.TOKEN_EXPIRED,
            "the token expired; send auth with a fresh one within " + grace + " ms or the connection closes", null));
      } else if (s.tokenExpiredAtMs() != 0 && now - s.tokenExpiredAtMs() >= grace) {
        metrics.disconnect("token_expired");
        s.close(Session.POLICY_VIOLATION, "token expired");
      }
    }
  }

  public void unreadTick() {
    shard.unreadTick();
  }

  public Future<Integer> renewLeases() {
    return shard.renewLeases();
  }

  public void evictTick() {
    shard.evictTick();
  }

  public void blankRoomTick() {
    shard.blankRoomTick();
  }

  /**
   * Graceful shutdown: refuse new sends, write everything sequenced (its acks go out), then close
   * every socket with 1001 after its queued frames.
   */
  public Future<Void> drain() {
    draining = true;
    return shard.drain()
        .eventually(() -> {
          for (Session s : new ArrayList<>(sessions)) {
            s.close(Session.GOING_AWAY, "server shutting down");
          }
          return Future.succeededFuture();
        })
        .mapEmpty();
  }
}
