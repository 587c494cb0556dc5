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
import io.switchboard.relay.changes.Change;
import io.switchboard.relay.history.RoomHistory;
import io.switchboard.relay.limits.AddressLimits;
import io.switchboard.relay.metrics.RelayMetrics;
import io.switchboard.relay.p2p.PeerCoordinator;
import io.switchboard.relay.room.Loop;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import io.switchboard.relay.store.BatchWriter;
import io.switchboard.relay.store.CursorWriter;
import io.switchboard.relay.store.MessageStore;
import io.switchboard.relay.store.RoomLeases;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.internal.ContextInternal;
import io.switchboard.relay.cluster.forward.Forwarder;
import io.switchboard.relay.cluster.forward.RoomOp;
import io.switchboard.relay.room.Member;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>
 * Sharded over the relay's event loops ({@link ShardLoop}): a connection lives on the loop that
 * accepted it, a room on the loop its name hashes to ({@link RoomDirectory}). A room frame hops to
 * the room's loop (no hop when it is the same one); the room answers through the member, which
 * hops back. Nothing on the chat path takes a lock.
 * <p>
 * In a cluster, a room another relay sequences is reached over the event bus ({@link Forwarder}):
 * the same {@link RoomOp} goes there, and the connection is a proxy member on that relay.
 */
public final class RelayEngine {
  private static final Logger LOG = LoggerFactory.getLogger(RelayEngine.class);
  /** At most one {@code reads} frame per room per this interval. */
  private static final long READS_INTERVAL_MS = 250;

  private final RelayOptions options;
  private final FrameParser parser;
  private final Authenticator authenticator;
  private final List<ShardLoop> loops;
  private final RoomDirectory directory;
  private final BatchWriter writer;
  private final CursorWriter cursors;
  private final ShardLoop writerLoop;
  private final RoomLeases leases;
  private final RelayMetrics metrics;
  private final Replies replies;
  private final LongSupplier nanoClock;
  /** Epoch ms for token expiry (tests move it). */
  private final LongSupplier wallClock;
  private final PeerCoordinator peers;
  private final AddressLimits limits;
  private final AccessControl access;
  /** Access changes seen so far: a lookup during which one arrived is repeated before it is relied on. */
  private final AtomicLong accessChanges = new AtomicLong();
  private final ServerFrame.ClientLimits clientLimits;
  private final RoomHistory history;
  private final List<Long> timers = new CopyOnWriteArrayList<>();
  private volatile boolean draining;
  /** Every open connection of the node by id: frames forwarded from a room's owner find theirs here. */
  private final Map<String, Session> byId = new ConcurrentHashMap<>();
  /** Set when clustered: ops of rooms other nodes sequence go there. */
  private volatile Forwarder forwarder;

  /**
   * @param contexts one event-loop context per shard; the first is the one {@code writer} was
   *                 created on (the batch writer stays there, other shards hand it their messages)
   */
  public RelayEngine(RelayOptions options, Authenticator authenticator, MessageStore store, BatchWriter writer,
      CursorWriter cursors, RoomLeases leases, RelayMetrics metrics, PeerCoordinator peers, AddressLimits limits, LongSupplier nanoClock,
      LongSupplier wallClock, AccessControl access, List<ContextInternal> contexts) {
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
    this.writer = writer;
    this.cursors = cursors;
    this.leases = leases;
    this.history = new RoomHistory(store::after);
    List<ShardLoop> built = new ArrayList<>(contexts.size());
    for (int i = 0; i < contexts.size(); i++) {
      ShardLoop loop = new ShardLoop(i, contexts.get(i));
      loop.rooms = new RoomShard(options, store, writer, built.isEmpty() ? loop : built.get(0), loop, leases,
          (delayMs, task) -> loop.context.setTimer(delayMs, id -> task.run()), metrics, peers, access, replies,
          history, nanoClock, accessChanges::get, () -> draining, cursors);
      built.add(loop);
    }
    this.loops = List.copyOf(built);
    this.writerLoop = loops.get(0);
    this.directory = new RoomDirectory(loops);
    this.clientLimits = new ServerFrame.ClientLimits(options.getMaxFrameBytes(), options.getMaxBodyBytes(),
        options.getMaxRoomsPerConnection(), options.getMaxHistoryLimit());
    metrics.gauges(this::sessionCount, directory::size);
  }

  public PeerCoordinator peers() {
    return peers;
  }

  /** Every shard's rooms: counts, placement, reads on the owner's loop. */
  public RoomDirectory rooms() {
    return directory;
  }

  public RoomHistory history() {
    return history;
  }

  /** The shards' event-loop contexts, by shard index (the public server listens once on each). */
  public List<ContextInternal> contexts() {
    return loops.stream().map(loop -> loop.context).toList();
  }

  /** How many shards (event loops) the relay runs. */
  public int shards() {
    return loops.size();
  }

  /** Open connections per shard loop, by shard index. */
  public int[] sessionsPerShard() {
    int[] counts = new int[loops.size()];
    for (ShardLoop loop : loops) {
      counts[loop.index] = loop.sessions.size();
    }
    return counts;
  }

  /** Open connections over every loop. */
  public int sessionCount() {
    int n = 0;
    for (ShardLoop loop : loops) {
      n += loop.sessions.size();
    }
    return n;
  }

  /**
   * What open connections hold on the way out (queued plus unflushed in Netty), per connection; read
   * from the caller's thread, so a connection of another loop may be a moment behind.
   */
  public LongSummaryStatistics outboundHeld() {
    LongSummaryStatistics stats = new LongSummaryStatistics();
    for (ShardLoop loop : loops) {
      for (Session s : loop.sessions) {
        stats.accept(s.heldBytes());
      }
    }
    return stats;
  }

  public boolean draining() {
    return draining;
  }

  /** A connection accepted on the calling loop: it lives there from now on. */
  public void opened(Session session) {
    ShardLoop home = here();
    session.loop(home);
    home.sessions.add(session);
    byId.put(session.id(), session);
    session.onSlowConsumer(() -> metrics.disconnect("slow_consumer"));
    session.onRefused(e -> replies.reject(session, e));
  }

  public void closed(Session session) {
    if (!(session.loop() instanceof ShardLoop home) || !home.sessions.remove(session)) {
      return;
    }
    byId.remove(session.id(), session);
    session.closed();
    List<String> names = new ArrayList<>(session.rooms());
    session.rooms().clear();
    for (String room : names) {
      onRoom(session, null, new RoomOp.Closed(room));
    }
    Forwarder f = forwarder;
    if (f != null) {
      f.gone(session, session.nodes());
    }
  }

  /** The shard of the calling thread's loop. */
  private ShardLoop here() {
    for (ShardLoop loop : loops) {
      if (loop.inLoop()) {
        return loop;
      }
    }
    throw new IllegalStateException("not on one of the relay's event loops: " + Thread.currentThread().getName());
  }

  /**
   * Runs a room-side operation for this connection on the room's shard: at once when the room lives
   * on this loop, else as a task there, after this connection's earlier ones. A refusal it throws
   * goes back to the client as the frame's error, like one of the gate's own.
   */
  private void onRoom(Session session, Object id, RoomOp op) {
    onRoom(session, id, op, 0, null);
  }

  /**
   * In a cluster, an op for a room another node sequences goes there over the event bus instead
   * ({@link Forwarder}); a join or resume's outcome comes back to {@code then}. {@code seen}: the
   * access changes seen before the join's access lookup.
   */
  private void onRoom(Session session, Object id, RoomOp op, long seen, Consumer<RoomShard.Outcome> then) {
    Forwarder f = forwarder;
    if (f != null) {
      String node = route(f, session, op);
      if (!node.equals(f.self()) && !f.member(node)) {
        // the view lost the node before this connection's loop heard of it: as if it had
        roomsMoved(session, node);
        if (then != null) {
          then.accept(RoomShard.Outcome.FAILED);
        } else if (op instanceof RoomOp.Leave leave) {
          session.send(new ServerFrame.Left(leave.id(), leave.room()));
        }
        return;
      }
      if (!node.equals(f.self())) {
        session.nodes().add(node);
        f.forward(node, session, op, then == null ? null : outcome -> {
          if (outcome == RoomShard.Outcome.JOINED && accessChanges.get() != seen) {
            // a change this node heard of may have overtaken the access the join carried: re-check
            // there, after the join (an owner that heard of it first re-checked before it)
            f.recheck(node, op.room(), session.user());
          }
          then.accept(outcome);
        });
        if (op instanceof RoomOp.Leave) {
          session.routes().remove(op.room());
        }
        return;
      }
    }
    onShard(session, op, seen, then);
  }

  /**
   * Runs an op on the room's shard of this node, for a connection here or a proxy of another node's
   * (none for a re-check).
   */
  private void onShard(Member member, RoomOp op, long seen, Consumer<RoomShard.Outcome> then) {
    String room = op.room();
    ShardLoop owner = directory.owner(room);
    // a send's delivery time runs from here: its frame's arrival, or (forwarded) its arrival on the owner
    long arrived = nanoClock.getAsLong();
    owner.execute(() -> {
      try {
        apply(owner.rooms, member, op, seen, then, arrived);
      } catch (ProtocolException e) {
        if (member != null) {
          member.refused(e.withRef(op.id()));
        }
      } catch (RuntimeException e) {
        LOG.error("bug handling a frame of session {} in room {}", member == null ? null : member.id(), room, e);
        if (member != null) {
          member.refused(new ProtocolException(ErrorCode.INTERNAL, "internal error; the frame had no effect", op.id()));
        }
      }
    });
  }

  /** An op applied to the shard that holds its room (on that shard's loop). */
  private void apply(RoomShard shard, Member m, RoomOp op, long seen, Consumer<RoomShard.Outcome> then, long arrived) {
    if (op instanceof RoomOp.Send o) {
      shard.intake().send(m, o.frame());
      if (!o.frame().resend()) { // a resend may wait for a storage lookup: not a delivery time
        metrics.delivered(nanoClock.getAsLong() - arrived);
      }
    } else if (op instanceof RoomOp.Batch o) {
      shard.intake().batch(m, o.frame());
    } else if (op instanceof RoomOp.Join o) {
      shard.join(m, o.frame(), o.access(), seen, then);
    } else if (op instanceof RoomOp.Rejoin o) {
      shard.rejoin(m, o.frame());
    } else if (op instanceof RoomOp.Resume o) {
      shard.resume(m, o.room(), o.point(), o.access(), seen, then);
    } else if (op instanceof RoomOp.Leave o) {
      shard.leave(m, o.frame());
    } else if (op instanceof RoomOp.Mode o) {
      shard.mode(m, o.frame());
    } else if (op instanceof RoomOp.History o) {
      shard.history(m, o.frame());
    } else if (op instanceof RoomOp.Signal o) {
      shard.signal(m, o.frame());
    } else if (op instanceof RoomOp.Read o) {
      shard.read(m, o.frame());
    } else if (op instanceof RoomOp.Typing o) {
      shard.typing(m, o.frame());
    } else if (op instanceof RoomOp.P2pResult o) {
      shard.result(m, o.frame());
    } else if (op instanceof RoomOp.ProfileChanged o) {
      shard.profileChanged(m, o.room());
    } else if (op instanceof RoomOp.Closed o) {
      shard.closed(m, o.room());
    } else if (op instanceof RoomOp.Recheck o) {
      shard.recheck(o.room(), o.user());
    } else if (op instanceof RoomOp.Edit o) {
      shard.changes().change(m, o.id(), o.room(), o.frame().seq(), new Change.Edit(o.frame().body()));
    } else if (op instanceof RoomOp.Delete o) {
      shard.changes().change(m, o.id(), o.room(), o.frame().seq(), new Change.Delete());
    } else if (op instanceof RoomOp.React o) {
      shard.changes().change(m, o.id(), o.room(), o.frame().seq(), new Change.React(o.frame().emoji(), o.frame().on()));
    }
  }

  /**
   * The node a connection's op for a room goes to: where its membership is (a connection stays
   * with the node it joined on until that membership ends), else this node when it holds the room,
   * else the placement's owner.
   */
  private String route(Forwarder f, Session session, RoomOp op) {
    String room = op.room();
    String node = session.routes().get(room);
    if (node == null) {
      node = directory.loadedOrLoading(room) ? f.self() : f.owner(room);
      if (op instanceof RoomOp.Join || op instanceof RoomOp.Resume) {
        session.routes().put(room, node);
      }
    }
    return node;
  }

  /** A room side's answer about this connection, taken where the connection lives. */
  private static <T> Consumer<T> home(Session session, Consumer<T> then) {
    Loop loop = session.loop();
    return result -> loop.execute(() -> then.accept(result));
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
      onRoom(session, send.id(), new RoomOp.Send(send));
    } else if (frame instanceof ClientFrame.Batch batch) {
      metrics.frameIn("batch");
      batch(session, batch);
    } else if (frame instanceof ClientFrame.Join join) {
      metrics.frameIn("join");
      join(session, join);
    } else if (frame instanceof ClientFrame.Leave leave) {
      metrics.frameIn("leave");
      if (!session.rooms().contains(leave.room())) {
        throw Replies.notJoined(leave.room()); // a join still under way cannot be left yet, as before sharding
      }
      session.rooms().remove(leave.room());
      onRoom(session, leave.id(), new RoomOp.Leave(leave));
    } else if (frame instanceof ClientFrame.SetMode mode) {
      metrics.frameIn("mode");
      requireJoined(session, mode.room());
      onRoom(session, mode.id(), new RoomOp.Mode(mode));
    } else if (frame instanceof ClientFrame.History h) {
      metrics.frameIn("history");
      history(session, h);
    } else if (frame instanceof ClientFrame.Signal signal) {
      metrics.frameIn("signal");
      requireJoined(session, signal.room());
      peers.admitSignal(session, nanoClock.getAsLong());
      onRoom(session, signal.id(), new RoomOp.Signal(signal));
    } else if (frame instanceof ClientFrame.Profile profile) {
      metrics.frameIn("profile");
      if (peers.profile(session, profile)) {
        for (String room : session.rooms()) {
          onRoom(session, null, new RoomOp.ProfileChanged(room, session.profile()));
        }
      }
    } else if (frame instanceof ClientFrame.P2pResult result) {
      metrics.frameIn("p2p-result");
      requireJoined(session, result.room());
      onRoom(session, result.id(), new RoomOp.P2pResult(result));
    } else if (frame instanceof ClientFrame.Read read) {
      metrics.frameIn("read");
      requireJoined(session, read.room());
      onRoom(session, read.id(), new RoomOp.Read(read));
    } else if (frame instanceof ClientFrame.Typing typing) {
      metrics.frameIn("typing");
      requireJoined(session, typing.room());
      onRoom(session, typing.id(), new RoomOp.Typing(typing));
    } else if (frame instanceof ClientFrame.Grant grant) {
      metrics.frameIn("grant");
      grant(session, grant);
    } else if (frame instanceof ClientFrame.Revoke revoke) {
      metrics.frameIn("revoke");
      revoke(session, revoke);
    } else if (frame instanceof ClientFrame.Encrypt encrypt) {
      metrics.frameIn("encrypt");
      encrypt(session, encrypt);
    } else if (frame instanceof ClientFrame.Members members) {
      metrics.frameIn("members");
      members(session, members);
    } else if (frame instanceof ClientFrame.Auth auth) {
      metrics.frameIn("auth");
      auth(session, auth);
    } else if (frame instanceof ClientFrame.Edit edit) {
      metrics.frameIn("edit");
      requireJoined(session, edit.room());
      onRoom(session, edit.id(), new RoomOp.Edit(edit));
    } else if (frame instanceof ClientFrame.Delete delete) {
      metrics.frameIn("delete");
      requireJoined(session, delete.room());
      onRoom(session, delete.id(), new RoomOp.Delete(delete));
    } else if (frame instanceof ClientFrame.React react) {
      metrics.frameIn("react");
      requireJoined(session, react.room());
      onRoom(session, react.id(), new RoomOp.React(react));
    }
  }

  private static void requireJoined(Session session, String room) {
    if (!session.inRoom(room)) {
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
      session.helloName(hello.name());
      session.identity(identity);
      session.send(new ServerFrame.Welcome(hello.id(), session.id(), identity.user(), identity.token(),
          options.getHeartbeatMs(), clientLimits, peers.welcome(session), session.name(), expiresAt(identity)));
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
      session.send(new ServerFrame.Authed(auth.id(), next.user(), session.name(), expiresAt(next),
          next.guest() ? next.token() : null));
    });
  }

  private static Long expiresAt(Identity identity) {
    return identity.expiresAtMs() == Long.MAX_VALUE ? null : identity.expiresAtMs();
  }

  /** Access first: the name of a room the user may not read costs no room load. */
  private void resume(Session session, String roomName, ClientFrame.ResumePoint point) {
    long seen = accessChanges.get();
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
    if (!directory.loadedOrLoading(roomName) && !loadsElsewhere(roomName)) {
      ProtocolException refused = refuseRoomLoad(roomName, session.address(), "not resumed");
      if (refused != null) {
        replies.error(session, refused.code(), refused.getMessage(), null, roomName);
        return;
      }
    }
    session.pendingJoins(1);
    session.joining().add(roomName);
    onRoom(session, null, new RoomOp.Resume(roomName, point, allowed), seen,
        home(session, outcome -> joinEnded(session, roomName, outcome, () -> resume(session, roomName, point))));
  }

  /**
   * Where a join or resume the room side handled ends for the connection: the room is its now, or
   * (an access change overtook the lookup) the whole step is repeated.
   */
  private void joinEnded(Session session, String room, RoomShard.Outcome outcome, Runnable again) {
    session.pendingJoins(-1);
    session.joining().remove(room);
    if (outcome == RoomShard.Outcome.JOINED) {
      if (session.isClosed()) {
        // closed while the room loaded: its close found no room to leave
        onRoom(session, null, new RoomOp.Closed(room));
      } else {
        session.rooms().add(room);
      }
      return;
    }
    if (!session.rooms().contains(room)) {
      session.routes().remove(room); // the next join of it goes where the room is then
    }
    if (outcome == RoomShard.Outcome.STALE && !session.isClosed()) {
      again.run();
    }
  }

  // --- rooms ------------------------------------------------------------------------------------

  private void join(Session session, ClientFrame.Join join) {
    if (session.rooms().contains(join.room())) {
      onRoom(session, join.id(), new RoomOp.Rejoin(join));
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
    long seen = accessChanges.get();
    whileJoining(session, access.access(join.room(), session.user()), checked -> {
      if (checked.failed()) {
        replies.fail(session, join.id(), checked.cause());
      } else if (!checked.result().canRead()) {
        replies.reject(session, Replies.forbidden(join.room()).withRef(join.id()));
      } else {
        session.pendingJoins(1);
        session.joining().add(join.room());
        onRoom(session, join.id(), new RoomOp.Join(join, checked.result()), seen,
            home(session, outcome -> joinEnded(session, join.room(), outcome,
                () -> reporting(session, join.id(), () -> join(session, join)))));
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
    if (directory.loadedOrLoading(room)) {
      return true;
    }
    // the node-wide bound and the address's rate belong to the node that loads the room: a join
    // forwarded to its owner is admitted there ({@link #forwarding})
    boolean here = !loadsElsewhere(room);
    // summed over shards as they are now: loads racing on other loops may pass it by a few
    if (here && directory.sizeWithLoading() >= options.getMaxRooms()) {
      throw serverBusy(room);
    }
    long now = nanoClock.getAsLong();
    String refusal = null;
    if (!session.tryAcquireRoomLoad(now,
        t -> new TokenBucket(options.getRoomLoadsPerSecond(), options.getRoomLoadBurst(), t))) {
      refusal = "more than " + options.getRoomLoadsPerSecond() + " joins/s of rooms not in memory; join '" + room
          + "' again later";
    } else if (here && !limits.tryRoomLoad(session.address())) {
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

  /** In a cluster: the room is not here and another node sequences it (a join goes there). */
  private boolean loadsElsewhere(String room) {
    Forwarder f = forwarder;
    return f != null && !f.owner(room).equals(f.self());
  }

  /** Whether one more room may load here for a client at {@code address}: null, or the refusal. */
  private ProtocolException refuseRoomLoad(String room, String address, String what) {
    return directory.sizeWithLoading() >= options.getMaxRooms() ? serverBusy(room)
        : limits.tryRoomLoad(address) ? null
        : new ProtocolException(ErrorCode.RATE_LIMITED, limits.roomLoadMessage() + " ('" + room + "' " + what + ")");
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
    onRoom(session, batch.id(), new RoomOp.Batch(batch));
  }

  // --- history ----------------------------------------------------------------------------------

  private void history(Session session, ClientFrame.History h) {
    if (!session.inRoom(h.room())) {
      // not in the room: say forbidden when the user may not read it at all, as join would
      access.access(h.room(), session.user()).onComplete(ar -> {
        if (!session.isClosed()) {
          replies.reject(session, (ar.succeeded() && !ar.result().canRead() ? Replies.forbidden(h.room())
              : Replies.notJoined(h.room())).withRef(h.id()));
        }
      });
      return;
    }
    onRoom(session, h.id(), new RoomOp.History(h));
  }

  // --- access -----------------------------------------------------------------------------------

  /** A committed change: the room's shard re-checks the members it concerns. */
  private void accessChanged(AccessChange change) {
    accessChanges.incrementAndGet();
    Forwarder f = forwarder;
    if (f != null) {
      f.accessChanged(change.room(), change.user());
    }
    recheck(change.room(), change.user());
  }

  /** The room's sequencer re-checks the members of {@code user} (all when null): here or on its node. */
  private void recheck(String room, String user) {
    Forwarder f = forwarder;
    if (f != null && !directory.loadedOrLoading(room) && !f.self().equals(f.owner(room))) {
      f.recheck(f.owner(room), room, user);
      return;
    }
    ShardLoop owner = directory.owner(room);
    owner.execute(() -> owner.rooms.recheck(room, user));
  }

  // --- across nodes ---------------------------------------------------------------------------

  /** From now on room ops of rooms other nodes sequence go there (set once, before connections come). */
  public void forwardWith(Forwarder forwarder) {
    this.forwarder = forwarder;
  }

  /** What a {@link Forwarder} needs of this engine. */
  public Forwarder.Rooms forwarding() {
    return new Forwarder.Rooms() {
      @Override
      public boolean holds(String room) {
        return directory.loadedOrLoading(room);
      }

      @Override
      public void apply(Member member, RoomOp op, Consumer<RoomShard.Outcome> then) {
        // another node's client would load the room here: the bound on rooms and the client
        // address's load rate apply here, where the heap is spent, as for a client of this node
        if ((op instanceof RoomOp.Join || op instanceof RoomOp.Resume) && !directory.loadedOrLoading(op.room())) {
          ProtocolException refused = refuseRoomLoad(op.room(), member.address(), "not joined");
          if (refused != null) {
            if (then != null) {
              then.accept(RoomShard.Outcome.FAILED);
            }
            replies.error(member, refused.code(), refused.getMessage(), op.id(), op.room());
            return;
          }
        }
        onShard(member, op, accessChanges.get(), then);
      }

      @Override
      public void accessChangedElsewhere(String room, String user) {
        access.changedElsewhere(room);
        accessChanges.incrementAndGet();
        recheck(room, user);
      }

      @Override
      public Session session(String id) {
        return byId.get(id);
      }

      @Override
      public void ownerLeft(String node) {
        for (Session session : byId.values()) {
          session.loop().execute(() -> roomsMoved(session, node));
        }
      }
    };
  }

  /**
   * The node that sequenced some of this connection's rooms left the cluster: those memberships
   * (and joins on their way there) end with {@code room_moved}; the client joins again and reaches
   * the room's new owner.
   */
  private void roomsMoved(Session session, String node) {
    List<String> moved = new ArrayList<>();
    session.routes().forEach((room, to) -> {
      if (to.equals(node)) {
        moved.add(room);
      }
    });
    for (String room : moved) {
      session.routes().remove(room);
      boolean member = session.rooms().remove(room) || session.joining().contains(room);
      if (member && !session.isClosed()) {
        replies.error(session, ErrorCode.ROOM_MOVED, "room '" + room + "' moved: the relay that sequenced it left "
            + "the cluster; join it again", null, room);
      }
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

  /** An owner switches the room to encrypted; members in it hear {@code encrypted} from the re-check the change triggers. */
  private void encrypt(Session session, ClientFrame.Encrypt encrypt) {
    asOwner(session, encrypt.room(), encrypt.id(), () -> access.setEncrypted(encrypt.room())
        .map(v -> new ServerFrame.Encrypted(encrypt.id(), encrypt.room())));
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
            new ProtocolException(ErrorCode.FORBIDDEN, "only owners of room '" + room + "' manage it")))
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
  private void heartbeatTick(ShardLoop loop) {
    long now = nanoClock.getAsLong();
    long heartbeat = TimeUnit.MILLISECONDS.toNanos(options.getHeartbeatMs());
    long dead = heartbeat * 5 / 2;
    long helloTimeout = TimeUnit.MILLISECONDS.toNanos(options.getHelloTimeoutMs());
    for (Session s : new ArrayList<>(loop.sessions)) {
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
  private void expiryTick(ShardLoop loop) {
    long now = wallClock.getAsLong();
    long grace = options.getAuth().getExpiryGraceMs();
    for (Session s : new ArrayList<>(loop.sessions)) {
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

  /**
   * Starts every loop's periodic work on that loop: its connections' heartbeats and token expiry,
   * its rooms' unread summaries, evictions and lease renewals.
   */
  public void startTimers() {
    for (ShardLoop loop : loops) {
      RoomShard rooms = loop.rooms;
      ContextInternal ctx = loop.context;
      timers.add(ctx.setPeriodic(Math.max(100, options.getHeartbeatMs() / 2), id -> heartbeatTick(loop)));
      timers.add(ctx.setPeriodic(1000, id -> expiryTick(loop)));
      timers.add(ctx.setPeriodic(options.getUnreadIntervalMs(), id -> rooms.unreadTick()));
      timers.add(ctx.setPeriodic(Math.max(1000, options.getRoomIdleMs() / 4), id -> rooms.evictTick()));
      timers.add(ctx.setPeriodic(1000, id -> rooms.blankRoomTick()));
      timers.add(ctx.setPeriodic(READS_INTERVAL_MS, id -> rooms.readsTick()));
    }
    timers.add(writerLoop.context.setPeriodic(1000, id -> cursors.tick()));
    // failures only log: while the database is unreachable nothing can be written or taken over anyway
    timers.add(writerLoop.context.setPeriodic(leases.leaseMs() / 3, id -> renewLeases()
        .onFailure(e -> LOG.warn("renewing room leases failed: {}", e.toString()))));
  }

  /**
   * Renews this node's room leases in one statement, recording every shard's loaded rooms' durable
   * watermarks with them. One per node, not one per shard: the statement extends every room the
   * node owns, so shards renewing at once would update the same rows (and could deadlock).
   */
  public Future<Integer> renewLeases() {
    List<Future<RoomShard.Leased>> parts = new ArrayList<>();
    for (ShardLoop loop : loops) {
      parts.add(loop.call(() -> Future.succeededFuture(loop.rooms.leased())));
    }
    return Future.all(parts).compose(all -> {
      List<String> names = new ArrayList<>();
      List<String> epochs = new ArrayList<>();
      List<Long> durables = new ArrayList<>();
      for (int i = 0; i < parts.size(); i++) {
        RoomShard.Leased part = all.resultAt(i);
        names.addAll(part.names());
        epochs.addAll(part.epochs());
        durables.addAll(part.durables());
      }
      return leases.renew(names, epochs, durables);
    });
  }

  /** Stops what {@link #startTimers} started (the loops outlive the relay's deployment). */
  public void stopTimers() {
    timers.forEach(id -> writerLoop.context.owner().cancelTimer(id));
    timers.clear();
  }

  /**
   * Hands a room over (see {@link RoomShard#handOver}); completes on the caller's context with
   * whether it left this node.
   */
  public Future<Boolean> handOver(String room) {
    ShardLoop owner = directory.owner(room);
    return owner.call(() -> owner.rooms.handOver(room));
  }

  /**
   * Graceful shutdown: refuse new sends, write everything sequenced (its acks go out), release the
   * rooms, then close every socket with 1001 after its queued frames. Runs on the writer's loop.
   */
  public Future<Void> drain() {
    draining = true;
    // Messages sequenced before the flag was seen may still be on their way to the writer: one task
    // through every shard and on to the writer's loop lands behind each of them.
    List<Future<Void>> landed = new ArrayList<>();
    for (ShardLoop loop : loops) {
      landed.add(loop.call(() -> writerLoop.call(() -> Future.<Void>succeededFuture())));
    }
    return Future.all(landed)
        .compose(v -> writerLoop.call(() -> writer.flushAndClose(options.getShutdownGraceMs())))
        // cursors of the last second: a clean stop loses none (a failure only costs those)
        .compose(v -> cursors.flush().recover(e -> {
          LOG.warn("read cursors of the last second not written: {}", e.toString());
          return Future.succeededFuture();
        }))
        .compose(v -> {
          List<Future<Void>> released = new ArrayList<>();
          for (ShardLoop loop : loops) {
            released.add(loop.call(() -> loop.rooms.releaseAll()));
          }
          return Future.all(released);
        }, e -> {
          // e.g. "5 messages unwritten after 1500 ms of flushAndClose": acked messages that are not stored
          LOG.error("unclean shutdown: {}; the rooms stay claimed", e.getMessage());
          // still a failure: the process must not exit as if everything acked were stored
          return Future.failedFuture(e);
        })
        .eventually(() -> {
          List<Future<Void>> closed = new ArrayList<>();
          for (ShardLoop loop : loops) {
            closed.add(loop.call(() -> {
              for (Session s : new ArrayList<>(loop.sessions)) {
                s.close(Session.GOING_AWAY, "server shutting down");
              }
              return Future.succeededFuture();
            }));
          }
          return Future.join(closed);
        })
        .mapEmpty();
  }
}
