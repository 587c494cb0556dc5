package io.switchboard.relay;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.FrameParser;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.RoomMode;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Message;
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
import io.switchboard.relay.room.Membership;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.room.RoomRegistry;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import io.switchboard.relay.store.BatchWriter;
import io.switchboard.relay.store.MessageStore;
import io.switchboard.relay.store.PendingWrite;
import io.switchboard.relay.store.RoomLeases;
import io.switchboard.relay.store.StoredMessage;
import io.switchboard.relay.store.WriteListener;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one gate every client frame passes: rate limit, strict parse, authorisation, then one handler
 * per frame type. Owns sessions and rooms; runs entirely on the relay's event loop, so no locks.
 */
public final class RelayEngine {
  private static final Logger LOG = LoggerFactory.getLogger(RelayEngine.class);
  /** Live messages a resuming member may have held back while its replay loads; past it, 1013. */
  private static final int LIVE_HELD_DURING_RESUME_MAX = 10_000;

  private final RelayOptions options;
  private final FrameParser parser;
  private final Authenticator authenticator;
  private final RoomRegistry rooms;
  private final RoomHistory history;
  private final MessageStore store;
  private final BatchWriter writer;
  private final RoomLeases leases;
  private final RelayMetrics metrics;
  private final LongSupplier nanoClock;
  /** Epoch ms for token expiry (tests move it). */
  private final LongSupplier wallClock;
  private final PeerCoordinator peers;
  private final AddressLimits limits;
  private final AccessControl access;
  /** Access changes seen so far: a lookup during which one arrived is repeated before it is relied on. */
  private long accessChanges;
  private final Set<Session> sessions = new LinkedHashSet<>();
  private final Set<Membership> unreadDue = new LinkedHashSet<>();
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
    this.store = store;
    this.writer = writer;
    this.leases = leases;
    this.metrics = metrics;
    this.nanoClock = nanoClock;
    this.wallClock = wallClock;
    this.rooms = new RoomRegistry(new RoomRegistry.Claimer() {
      @Override
      public Future<RoomLeases.Claim> claim(String room) {
        return leases.claim(room);
      }

      @Override
      public Future<Void> release(List<String> names, List<String> epochs, List<Long> heads) {
        return leases.release(names, epochs, heads)
            .onFailure(e -> LOG.warn("releasing {} rooms failed; their leases run out instead: {}", names.size(), e.toString()));
      }
    }, timers, nanoClock, leases.leaseMs(), options.getRingSize(), options.getDedupeWindow(),
        options.getResumeMaxReplay() + LIVE_HELD_DURING_RESUME_MAX, unreadDue::add);
    this.history = new RoomHistory(store::after);
    this.clientLimits = new ServerFrame.ClientLimits(options.getMaxFrameBytes(), options.getMaxBodyBytes(),
        options.getMaxRoomsPerConnection(), options.getMaxHistoryLimit());
    metrics.gauges(sessions::size, rooms::size);
  }

  public PeerCoordinator peers() {
    return peers;
  }

  public RoomRegistry rooms() {
    return rooms;
  }

  public RoomHistory history() {
    return history;
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
  }

  public void closed(Session session) {
    if (!sessions.remove(session)) {
      return;
    }
    session.closed();
    long now = nanoClock.getAsLong();
    List<Membership> memberships = new ArrayList<>(session.memberships().values());
    session.memberships().clear();
    // Every room first, then presence: room state never depends on reaching the others.
    for (Membership m : memberships) {
      m.room().leave(m, now);
      rooms.emptied(m.room(), now);
      unreadDue.remove(m);
    }
    for (Membership m : memberships) {
      peers.left(m);
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
      reject(session, new ProtocolException(ErrorCode.RATE_LIMITED,
          "more than " + options.getRateFramesPerSecond() + " frames/s; frame dropped"));
      return;
    }
    ClientFrame frame;
    try {
      frame = parser.parse(text);
    } catch (ProtocolException e) {
      metrics.frameIn("invalid");
      reject(session, e);
      return;
    }
    try {
      dispatch(session, frame);
    } catch (ProtocolException e) {
      reject(session, e.withRef(frame.id()));
    } catch (RuntimeException e) {
      LOG.error("bug handling {} on session {}", frame.getClass().getSimpleName(), session.id(), e);
      reject(session, new ProtocolException(ErrorCode.INTERNAL, "internal error; the frame had no effect", frame.id()));
    }
  }

  /** Binary messages are not part of protocol v1. */
  public void onBinary(Session session) {
    session.seen(nanoClock.getAsLong());
    metrics.frameIn("invalid");
    reject(session, new ProtocolException(ErrorCode.BAD_REQUEST, "binary messages are not supported; send JSON text"));
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
      send(session, send);
    } else if (frame instanceof ClientFrame.Batch batch) {
      metrics.frameIn("batch");
      batch(session, batch);
    } else if (frame instanceof ClientFrame.Join join) {
      metrics.frameIn("join");
      join(session, join);
    } else if (frame instanceof ClientFrame.Leave leave) {
      metrics.frameIn("leave");
      leave(session, leave);
    } else if (frame instanceof ClientFrame.SetMode mode) {
      metrics.frameIn("mode");
      mode(session, mode);
    } else if (frame instanceof ClientFrame.History h) {
      metrics.frameIn("history");
      history(session, h);
    } else if (frame instanceof ClientFrame.Signal signal) {
      metrics.frameIn("signal");
      peers.signal(session, membership(session, signal.room()), signal, nanoClock.getAsLong());
    } else if (frame instanceof ClientFrame.Profile profile) {
      metrics.frameIn("profile");
      peers.profile(session, profile);
    } else if (frame instanceof ClientFrame.P2pResult result) {
      metrics.frameIn("p2p-result");
      peers.result(session, membership(session, result.room()), result);
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

  private void reject(Session session, ProtocolException e) {
    metrics.error(e.code());
    session.send(ServerFrame.Error.of(e));
    if (!isClientFault(e.code())) {
      return;
    }
    long window = TimeUnit.MILLISECONDS.toNanos(options.getAbuseWindowMs());
    if (session.strike(nanoClock.getAsLong(), window)) {
      metrics.disconnect("abuse");
      session.close(Session.POLICY_VIOLATION, "too many errors");
    }
  }

  /** Only the client's own mistakes count towards the abuse limit, never the server's trouble. */
  private static boolean isClientFault(ErrorCode code) {
    return code != ErrorCode.STORAGE_UNAVAILABLE && code != ErrorCode.SHUTTING_DOWN && code != ErrorCode.INTERNAL
        && code != ErrorCode.SERVER_BUSY && code != ErrorCode.ROOM_UNAVAILABLE && code != ErrorCode.AUTH_UNAVAILABLE;
  }

  private void fail(Session session, Object id, Throwable cause) {
    if (session.isClosed()) {
      return;
    }
    if (cause instanceof ProtocolException pe) {
      reject(session, pe.withRef(id));
    } else {
      LOG.warn("storage read failed: {}", cause.toString());
      metrics.error(ErrorCode.STORAGE_UNAVAILABLE);
      session.send(new ServerFrame.Error(ErrorCode.STORAGE_UNAVAILABLE, "storage is unavailable; retry later", id));
    }
  }

  /** A room could not be opened; {@code room_unavailable} names the room, as when a room is dropped. */
  private void failOpen(Session session, Object id, String room, Throwable cause) {
    if (!session.isClosed() && cause instanceof ProtocolException pe && pe.code() == ErrorCode.ROOM_UNAVAILABLE) {
      metrics.error(pe.code());
      session.send(new ServerFrame.Error(pe.code(), pe.getMessage(), id, room));
    } else {
      fail(session, id, cause);
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
    fail(session, id, cause);
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
          fail(session, auth.id(), pe);
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
        metrics.error(refused);
        session.send(new ServerFrame.Error(refused, (refused == ErrorCode.FORBIDDEN ? forbidden(roomName).getMessage()
            : "storage is unavailable; retry later") + "; not resumed", null, roomName));
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
    if (!rooms.loadedOrLoading(roomName)) {
      ProtocolException refused = rooms.sizeWithLoading() >= options.getMaxRooms() ? serverBusy(roomName)
          : limits.tryRoomLoad(session.address()) ? null
          : new ProtocolException(ErrorCode.RATE_LIMITED, limits.roomLoadMessage() + " ('" + roomName + "' not resumed)");
      if (refused != null) {
        metrics.error(refused.code());
        session.send(new ServerFrame.Error(refused.code(), refused.getMessage(), null, roomName));
        return;
      }
    }
    whileJoining(session, rooms.open(roomName, nanoClock.getAsLong()), ar -> {
      if (ar.failed()) {
        failOpen(session, null, roomName, ar.cause());
        return;
      }
      if (accessChanges != seen) {
        // a change arrived while this loaded: look again before letting the user in
        resume(session, roomName, point);
        return;
      }
      Room room = ar.result();
      Membership m = session.memberships().get(roomName);
      boolean isNew = m == null;
      if (isNew) {
        m = room.join(session, RoomMode.ACTIVE);
        m.access(allowed);
        session.memberships().put(roomName, m);
      }
      long head = room.head();
      long lastSeq = point.seq();
      long shared = room.divergedAfter(point.epoch());
      long oldest = head - options.getResumeMaxReplay() + 1;
      long from;
      boolean recovered;
      Long divergedAfter = null;
      if (lastSeq > shared) {
        // the client may hold messages past `shared` that an unclean takeover lost: it replaces them
        divergedAfter = shared;
        from = Math.max(shared + 1, oldest);
        recovered = false;
      } else {
        from = Math.max(lastSeq + 1, oldest);
        recovered = from == lastSeq + 1 || lastSeq >= head;
      }
      session.send(joined(null, room, m, recovered, divergedAfter, Math.min(from, head + 1)));
      if (isNew) {
        peers.joined(m);
      }
      Membership membership = m;
      membership.beginCatchUp();
      history.range(room, from, head).onComplete(replay -> {
        if (session.memberships().get(roomName) != membership) {
          return; // taken out (removed, left) meanwhile: its replay must not reach it
        }
        if (replay.succeeded()) {
          membership.endCatchUp(replay.result());
        } else {
          fail(session, null, replay.cause());
          membership.endCatchUp(List.of());
        }
      });
    });
  }

  // --- rooms ------------------------------------------------------------------------------------

  private void join(Session session, ClientFrame.Join join) {
    Membership existing = session.memberships().get(join.room());
    if (existing != null) {
      existing.mode(join.mode());
      session.send(joined(join.id(), existing.room(), existing, null, null, null));
      return;
    }
    if (session.memberships().size() + session.pendingJoins() >= options.getMaxRoomsPerConnection()) {
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
        fail(session, join.id(), checked.cause());
      } else if (!checked.result().canRead()) {
        reject(session, forbidden(join.room()).withRef(join.id()));
      } else {
        openForJoin(session, join, checked.result(), seen);
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
      reject(session, e.withRef(id));
    }
  }

  private void openForJoin(Session session, ClientFrame.Join join, Access allowed, long seen) {
    whileJoining(session, rooms.open(join.room(), nanoClock.getAsLong()), ar -> {
      if (ar.failed()) {
        failOpen(session, join.id(), join.room(), ar.cause());
        return;
      }
      if (accessChanges != seen) {
        // a change arrived while this loaded: look again before letting the user in
        reporting(session, join.id(), () -> join(session, join));
        return;
      }
      Room room = ar.result();
      Membership m = session.memberships().get(join.room());
      boolean isNew = m == null;
      if (isNew) {
        m = room.join(session, join.mode());
        m.access(allowed);
        session.memberships().put(room.name(), m);
      } else {
        m.mode(join.mode());
      }
      session.send(joined(join.id(), room, m, null, null, null));
      if (isNew) {
        peers.joined(m);
      }
    });
  }

  /**
   * A join that would load a room not in memory: each costs heap until the room unloads, so a
   * connection may load only so many per second, and the node only so many at all.
   *
   * @return false when refused (the client has been told)
   */
  private boolean admitRoomLoad(Session session, ClientFrame.Join join) {
    String room = join.room();
    if (rooms.loadedOrLoading(room)) {
      return true;
    }
    if (rooms.sizeWithLoading() >= options.getMaxRooms()) {
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
    metrics.error(ErrorCode.RATE_LIMITED);
    session.send(new ServerFrame.Error(ErrorCode.RATE_LIMITED, refusal, join.id()));
    return false;
  }

  private ProtocolException serverBusy(String room) {
    return new ProtocolException(ErrorCode.SERVER_BUSY,
        "the server holds " + options.getMaxRooms() + " rooms and cannot load '" + room + "'; retry later");
  }

  private static ProtocolException forbidden(String room) {
    return new ProtocolException(ErrorCode.FORBIDDEN, "room '" + room + "' is private and you are not a member");
  }

  private ServerFrame.Joined joined(Object id, Room room, Membership m, Boolean recovered, Long divergedAfter,
      Long replayFrom) {
    Role role = m.access().role();
    return new ServerFrame.Joined(id, room.name(), room.head(), m.mode(), room.users(), peers.peers(room, m.session()),
        room.epoch(), recovered, divergedAfter, replayFrom, m.access().visibility().wire(),
        role == null ? null : role.wire(), room.names());
  }

  /** The membership of a room the user may send to; {@code forbidden} for a reader. */
  private Membership sender(Session session, String room) {
    Membership m = membership(session, room);
    requireSend(m);
    return m;
  }

  private static void requireSend(Membership m) {
    if (!m.access().canSend()) {
      throw new ProtocolException(ErrorCode.FORBIDDEN, "readers cannot send to room '" + m.room().name() + "'");
    }
  }

  private Membership membership(Session session, String room) {
    Membership m = session.memberships().get(room);
    if (m == null) {
      throw new ProtocolException(ErrorCode.NOT_JOINED, "join room '" + room + "' first");
    }
    return m;
  }

  private void leave(Session session, ClientFrame.Leave leave) {
    Membership m = membership(session, leave.room());
    session.memberships().remove(leave.room());
    long now = nanoClock.getAsLong();
    m.room().leave(m, now);
    rooms.emptied(m.room(), now);
    unreadDue.remove(m);
    session.send(new ServerFrame.Left(leave.id(), leave.room()));
    peers.left(m);
  }

  private void mode(Session session, ClientFrame.SetMode mode) {
    Membership m = membership(session, mode.room());
    m.mode(mode.mode());
    session.send(new ServerFrame.ModeSet(mode.id(), mode.room(), mode.mode(), m.room().head()));
  }

  // --- messages ---------------------------------------------------------------------------------

  private void send(Session session, ClientFrame.Send send) {
    sender(session, send.room());
    inOrder(session, send.id(), () -> sendInOrder(session, send));
  }

  private void sendInOrder(Session session, ClientFrame.Send send) {
    Room room = sender(session, send.room()).room();
    Long known = room.knownSeq(session.user(), send.cid());
    if (known != null) {
      duplicate(session, room, send.id(), send.cid(), known);
    } else if (send.resend()) {
      // Beyond the memory window only storage knows; look there before sequencing.
      session.messageOrder().suspend();
      store.findSeq(room.name(), session.user(), send.cid()).onComplete(ar -> {
        try {
          if (session.isClosed()) {
            return;
          }
          if (ar.failed()) {
            fail(session, send.id(), ar.cause());
          } else if (ar.result().isPresent()) {
            duplicate(session, room, send.id(), send.cid(), ar.result().get());
          } else {
            Long raced = room.knownSeq(session.user(), send.cid());
            if (raced != null) {
              duplicate(session, room, send.id(), send.cid(), raced);
            } else {
              whileStillJoined(session, send.room(), send.id(), current -> accept(session, current, send));
            }
          }
        } finally {
          session.messageOrder().resume();
        }
      });
    } else {
      accept(session, room, send);
    }
  }

  /**
   * Runs a send or batch in the connection's arrival order (see {@link MessageOrder}). A step that
   * had to wait runs from a storage callback, so it reports its own errors.
   */
  private void inOrder(Session session, Object id, Runnable step) {
    boolean taken = session.messageOrder().submit(() -> {
      if (session.isClosed()) {
        return;
      }
      try {
        step.run();
      } catch (ProtocolException e) {
        reject(session, e.withRef(id));
      } catch (RuntimeException e) {
        LOG.error("bug handling a message of session {}", session.id(), e);
        reject(session, new ProtocolException(ErrorCode.INTERNAL, "internal error; the frame had no effect", id));
      }
    });
    if (!taken) {
      throw new ProtocolException(ErrorCode.RATE_LIMITED,
          "too many messages are waiting behind a storage lookup; resend later");
    }
  }

  /**
   * Runs a step that follows a storage lookup, unless the client left the room meanwhile; the step
   * gets the room as it is now (it may have been unloaded and loaded again).
   */
  private void whileStillJoined(Session session, String room, Object id, Consumer<Room> step) {
    Membership m = session.memberships().get(room);
    if (m == null) {
      reject(session, new ProtocolException(ErrorCode.NOT_JOINED,
          "left room '" + room + "' before its messages were sequenced", id));
      return;
    }
    try {
      requireSend(m);
      step.accept(m.room());
    } catch (ProtocolException e) {
      reject(session, e.withRef(id));
    }
  }

  private void duplicate(Session session, Room room, Object id, String cid, long seq) {
    metrics.duplicate();
    Room.Unstored pending = room.unstored(seq);
    if (pending != null) {
      pending.redirectAck(session, id);
    }
    session.send(new ServerFrame.Ack(id, room.name(), cid, seq, pending == null));
  }

  private void accept(Session session, Room room, ClientFrame.Send send) {
    requireCapacity(1);
    sequence(session, room, send.id(), send.cid(), send.body());
  }

  /** Refuses new messages while draining or when storage could not take all {@code messages} of them. */
  private void requireCapacity(int messages) {
    if (draining) {
      throw new ProtocolException(ErrorCode.SHUTTING_DOWN, "server is shutting down; resend after reconnecting");
    }
    if (!writer.hasCapacity(messages)) {
      throw new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE,
          "storage is down and its queue is full; keep the message and resend later");
    }
  }

  /** Assigns the next seq, fans the message out and queues it for storage; its ack follows the write. */
  private void sequence(Session session, Room room, Object id, String cid, String body) {
    Room.Unstored pending = room.sequence(session, id, cid, body, System.currentTimeMillis());
    Message m = pending.message();
    metrics.message(room.fanout(m, session));
    writer.offer(new PendingWrite(new StoredMessage(m.room(), m.seq(), m.from(), m.cid(), m.body(), m.ts()),
        room.epoch(), new WriteListener() {
          @Override
          public void onDelayed() {
            ack(pending, m.seq(), false);
          }

          @Override
          public void onStored(long storedSeq) {
            room.stored(pending, storedSeq);
            ack(pending, storedSeq, true);
          }

          @Override
          public void onFenced() {
            takenOver(room);
          }
        }));
  }

  /**
   * Another relay sequences the room now: this node's copy and its unstored messages are dead.
   * Members lose the membership and are told to join again (their client then reaches the room
   * wherever it lives); senders of the unstored messages never get {@code stored:true}, so their
   * outboxes resend.
   */
  private void takenOver(Room room) {
    if (!rooms.drop(room)) {
      return;
    }
    LOG.warn("room {} was taken over by another relay; dropping it here", room.name());
    long now = nanoClock.getAsLong();
    List<Membership> members = new ArrayList<>(room.members());
    for (Membership m : members) {
      m.session().memberships().remove(room.name(), m);
      room.leave(m, now);
      unreadDue.remove(m);
    }
    for (Membership m : members) {
      peers.left(m);
      metrics.error(ErrorCode.ROOM_UNAVAILABLE);
      m.session().send(new ServerFrame.Error(ErrorCode.ROOM_UNAVAILABLE,
          "room '" + room.name() + "' moved to another relay; join it again", null, room.name()));
    }
  }

  /**
   * Messages a peer already delivered over a DataChannel. Every item is a send with resend semantics,
   * but the batch is admitted whole: rate tokens for every item, storage room for every new one, or
   * nothing of it happens.
   */
  private void batch(Session session, ClientFrame.Batch batch) {
    sender(session, batch.room());
    int items = batch.items().size();
    if (items > 1 && !session.tryAcquire(nanoClock.getAsLong(), items - 1)) {
      throw new ProtocolException(ErrorCode.RATE_LIMITED,
          "a batch of " + items + " takes " + items + " frame tokens and fewer are left; retry it later");
    }
    inOrder(session, batch.id(), () -> batchInOrder(session, batch));
  }

  private void batchInOrder(Session session, ClientFrame.Batch batch) {
    Room room = sender(session, batch.room()).room();
    List<String> unknown = batch.items().stream().map(ClientFrame.BatchItem::cid)
        .filter(cid -> room.knownSeq(session.user(), cid) == null).distinct().toList();
    if (unknown.isEmpty()) {
      sequenceBatch(session, room, batch, Map.of());
      return;
    }
    session.messageOrder().suspend();
    store.findSeqs(room.name(), session.user(), unknown).onComplete(ar -> {
      try {
        if (session.isClosed()) {
          return;
        }
        if (ar.failed()) {
          fail(session, batch.id(), ar.cause());
        } else {
          whileStillJoined(session, batch.room(), batch.id(), current -> sequenceBatch(session, current, batch, ar.result()));
        }
      } finally {
        session.messageOrder().resume();
      }
    });
  }

  /**
   * Memory is asked again here, not only before the storage lookup: a send or another batch may
   * have sequenced some of these cids meanwhile. Items are handled in array order, so a cid twice in
   * one batch is sequenced once and the second is its duplicate.
   */
  private void sequenceBatch(Session session, Room room, ClientFrame.Batch batch, Map<String, Long> stored) {
    String user = session.user();
    Set<String> fresh = new HashSet<>();
    for (ClientFrame.BatchItem item : batch.items()) {
      if (room.knownSeq(user, item.cid()) == null && !stored.containsKey(item.cid())) {
        fresh.add(item.cid());
      }
    }
    if (!fresh.isEmpty()) {
      requireCapacity(fresh.size());
    }
    for (ClientFrame.BatchItem item : batch.items()) {
      Long known = room.knownSeq(user, item.cid());
      if (known == null) {
        known = stored.get(item.cid());
      }
      if (known != null) {
        duplicate(session, room, batch.id(), item.cid(), known);
      } else {
        sequence(session, room, batch.id(), item.cid(), item.body());
      }
    }
    metrics.batch(fresh.size());
  }

  private void ack(Room.Unstored pending, long seq, boolean stored) {
    Session to = pending.ackTo();
    if (!to.isClosed()) {
      Message m = pending.message();
      to.send(new ServerFrame.Ack(pending.ackId(), m.room(), m.cid(), seq, stored));
    }
  }

  // --- history ----------------------------------------------------------------------------------

  private void history(Session session, ClientFrame.History h) {
    if (!session.memberships().containsKey(h.room())) {
      // not in the room: say forbidden when the user may not read it at all, as join would
      access.access(h.room(), session.user()).onComplete(ar -> {
        if (!session.isClosed()) {
          reject(session, (ar.succeeded() && !ar.result().canRead() ? forbidden(h.room())
              : new ProtocolException(ErrorCode.NOT_JOINED, "join room '" + h.room() + "' first")).withRef(h.id()));
        }
      });
      return;
    }
    Room room = membership(session, h.room()).room();
    long before = h.before() == null ? room.head() + 1 : h.before();
    history.page(room, before, h.limit()).onComplete(ar -> {
      if (session.isClosed()) {
        return;
      }
      if (ar.failed()) {
        fail(session, h.id(), ar.cause());
      } else {
        session.send(new ServerFrame.Page(h.id(), room.name(), ar.result(), RoomHistory.hasMore(ar.result())));
      }
    });
  }

  // --- access -----------------------------------------------------------------------------------

  /**
   * A committed change: every connection of the affected users in the room (all of them when the
   * visibility changed) is re-checked at once. Whoever may no longer read is taken out; a new role
   * is announced and applies to the next send.
   */
  private void accessChanged(AccessChange change) {
    accessChanges++;
    recheck(change.room(), change.user());
  }

  private void recheck(String roomName, String user) {
    Room room = rooms.get(roomName);
    if (room == null || room.members().stream().noneMatch(m -> user == null || m.session().user().equals(user))) {
      return;
    }
    long seen = accessChanges;
    // one query either way: the user's row, or the whole member list for a visibility change
    Future<Function<String, Access>> lookup = user != null
        ? access.access(roomName, user).map(a -> u -> a)
        : access.members(roomName).map(list -> {
          Map<String, Role> roles = new HashMap<>();
          list.members().forEach(member -> roles.put(member.user(), member.role()));
          return u -> new Access(list.visibility(), roles.get(u));
        });
    lookup.onComplete(ar -> {
      if (ar.succeeded() && accessChanges != seen) {
        recheck(roomName, user); // another change may have overtaken this answer
        return;
      }
      if (ar.failed()) {
        // closed rather than open: the change committed and what it allows is unknown
        LOG.warn("re-checking access to {} after a change failed; taking its users out: {}", roomName, ar.cause().toString());
      }
      Room current = rooms.get(roomName);
      if (current == null) {
        return;
      }
      List<Membership> out = new ArrayList<>();
      for (Membership m : new ArrayList<>(current.members())) {
        if (user != null && !m.session().user().equals(user)) {
          continue;
        }
        Access now = ar.succeeded() ? ar.result().apply(m.session().user()) : null;
        if (now == null || !now.canRead()) {
          out.add(m);
        } else {
          Role before = m.access().role();
          m.access(now);
          if (now.role() != before) {
            m.session().send(new ServerFrame.RoleChanged(roomName, now.role() == null ? null : now.role().wire()));
          }
        }
      }
      takeOut(out);
    });
  }

  /**
   * The server ends memberships: all leave the room first, so none of them hears of the others'
   * going; then each gets {@code left{reason:"removed"}} and the rest presence {@code leave}.
   */
  private void takeOut(List<Membership> out) {
    long now = nanoClock.getAsLong();
    List<Membership> removed = new ArrayList<>(out.size());
    for (Membership m : out) {
      if (m.session().memberships().remove(m.room().name(), m)) {
        m.room().leave(m, now);
        rooms.emptied(m.room(), now);
        unreadDue.remove(m);
        removed.add(m);
      }
    }
    for (Membership m : removed) {
      m.session().send(new ServerFrame.Left(null, m.room().name(), "removed"));
      peers.left(m);
    }
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
            reject(session, new ProtocolException(ErrorCode.BAD_REQUEST, last.getMessage(), id));
          } else {
            fail(session, id, ar.cause());
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

  /** Sends the unread summaries that became due since the last tick (at most one per room each). */
  public void unreadTick() {
    if (unreadDue.isEmpty()) {
      return;
    }
    List<Membership> due = new ArrayList<>(unreadDue);
    unreadDue.clear();
    for (Membership m : due) {
      if (m.flushUnread()) {
        metrics.unread();
      }
    }
  }

  /** Renews this node's room leases, recording the loaded rooms' durable watermarks with them. */
  public Future<Integer> renewLeases() {
    List<String> names = new ArrayList<>(rooms.size());
    List<String> epochs = new ArrayList<>(rooms.size());
    List<Long> durables = new ArrayList<>(rooms.size());
    for (Room room : rooms.rooms()) {
      names.add(room.name());
      epochs.add(room.epoch());
      durables.add(room.durable());
    }
    return leases.renew(names, epochs, durables);
  }

  public void evictTick() {
    rooms.evictIdle(nanoClock.getAsLong(), TimeUnit.MILLISECONDS.toNanos(options.getRoomIdleMs()));
  }

  /** Unloads rooms that stayed empty with nothing ever written (every second; looks only at candidates). */
  public void blankRoomTick() {
    rooms.evictBlank(nanoClock.getAsLong());
  }

  /**
   * Graceful shutdown: refuse new sends, write everything sequenced (its acks go out), then close
   * every socket with 1001 after its queued frames.
   */
  public Future<Void> drain() {
    draining = true;
    // Rooms are released only when everything was written: after a timed-out drain the next owner
    // must see an unclean stop and start a new epoch.
    return writer.flushAndClose(options.getShutdownGraceMs())
        .compose(v -> rooms.releaseAll(), e -> {
          // e.g. "5 messages unwritten after 1500 ms of flushAndClose": acked messages that are not stored
          LOG.error("unclean shutdown: {}; the rooms stay claimed", e.getMessage());
          // still a failure: the process must not exit as if everything acked were stored
          return Future.failedFuture(e);
        })
        .eventually(() -> {
          for (Session s : new ArrayList<>(sessions)) {
            s.close(Session.GOING_AWAY, "server shutting down");
          }
          return Future.succeededFuture();
        })
        .mapEmpty();
  }
}
