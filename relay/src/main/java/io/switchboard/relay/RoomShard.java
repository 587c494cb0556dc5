package io.switchboard.relay;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.RoomMode;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.access.Access;
import io.switchboard.relay.access.AccessControl;
import io.switchboard.relay.access.Role;
import io.switchboard.relay.access.SealedBody;
import io.switchboard.relay.changes.ChangeStore;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.history.RoomHistory;
import io.switchboard.relay.metrics.RelayMetrics;
import io.switchboard.relay.p2p.PeerCoordinator;
import io.switchboard.relay.room.Loop;
import io.switchboard.relay.room.Member;
import io.switchboard.relay.room.Membership;
import io.switchboard.relay.room.ReadCursors;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.room.RoomRegistry;
import io.switchboard.relay.store.BatchWriter;
import io.switchboard.relay.store.CursorWriter;
import io.switchboard.relay.store.MessageStore;
import io.switchboard.relay.store.RoomLeases;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The room side of the relay: a set of rooms (their sequencers, members, presence, steering and
 * unread summaries) and the operations on them. Every operation takes plain data (a frame, a room
 * name) and the connection's {@link Member} handle, answers through that handle, and runs on one
 * event loop: the shard's. Rooms never see connections directly, so whoever calls an operation can
 * put a hop to the shard's loop in front of it.
 */
public final class RoomShard {
  private static final Logger LOG = LoggerFactory.getLogger(RoomShard.class);
  /** Live messages a resuming member may have held back while its replay loads; past it, 1013. */
  private static final int LIVE_HELD_DURING_RESUME_MAX = 10_000;

  /** How a join or resume ended, for the connection's own bookkeeping. */
  public enum Outcome {
    /** The member is in the room and was told {@code joined}. */
    JOINED,
    /** An access change arrived while the room loaded: the caller looks the user's access up again. */
    STALE,
    /** Refused or failed; the client has been told (or its connection is closed). */
    FAILED
  }

  private final RelayOptions options;
  private final RoomRegistry rooms;
  private final RoomHistory history;
  private final PeerCoordinator peers;
  private final AccessControl access;
  private final RelayMetrics metrics;
  private final Replies replies;
  private final LongSupplier nanoClock;
  /** Access changes seen so far: a lookup during which one arrived is repeated before it is relied on. */
  private final LongSupplier accessChanges;
  private final Set<Membership> unreadDue = new LinkedHashSet<>();
  /** Rooms with cursors moved since their last {@code reads} frame. */
  private final Set<Room> readsDue = new LinkedHashSet<>();
  private final CursorWriter cursors;
  private final MessageIntake intake;
  private final RoomChanges changes;
  private final RoomRegistry.Timers timers;

  /**
   * @param writerLoop where {@code writer} lives (messages are handed to it there)
   * @param home       this shard's loop, where all its operations run
   * @param history    shared by every shard (it bounds the node's storage reads)
   */
  RoomShard(RelayOptions options, MessageStore store, BatchWriter writer, Loop writerLoop, Loop home,
      RoomLeases leases, RoomRegistry.Timers timers, RelayMetrics metrics, PeerCoordinator peers, AccessControl access,
      Replies replies, RoomHistory history, LongSupplier nanoClock, LongSupplier accessChanges,
      BooleanSupplier draining, CursorWriter cursors) {
    this.options = options;
    this.cursors = cursors;
    this.peers = peers;
    this.access = access;
    this.metrics = metrics;
    this.replies = replies;
    this.nanoClock = nanoClock;
    this.accessChanges = accessChanges;
    this.timers = timers;
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

      @Override
      public Future<Map<String, Long>> cursors(String room) {
        // moves of the room's last stay here not written yet count too
        return cursors.store().load(room, ReadCursors.JOINED_MAX).map(stored -> {
          cursors.pending(room).forEach((user, seq) -> stored.merge(user, seq, Math::max));
          return stored;
        });
      }
    }, timers, nanoClock, leases.leaseMs(), options.getRingSize(), options.getDedupeWindow(),
        options.getResumeMaxReplay() + LIVE_HELD_DURING_RESUME_MAX, unreadDue::add);
    this.history = history;
    this.intake = new MessageIntake(this, store, writer, writerLoop, home, metrics, replies, draining);
    this.changes = new RoomChanges(this, new ChangeStore(store.pool(), options.getEditWindowMs()), store, timers,
        replies, leases.incarnation(), options.getStore().getWriteTimeoutMs(), options.getChangeCatchUpMax());
  }

  RoomChanges changes() {
    return changes;
  }

  public RoomRegistry rooms() {
    return rooms;
  }

  MessageIntake intake() {
    return intake;
  }

  PeerCoordinator peers() {
    return peers;
  }

  // --- lookups --------------------------------------------------------------------------------------

  Membership membershipOrNull(Member member, String roomName) {
    Room room = rooms.get(roomName);
    return room == null ? null : room.member(member.id());
  }

  Membership membership(Member member, String roomName) {
    Membership m = membershipOrNull(member, roomName);
    if (m == null) {
      throw Replies.notJoined(roomName);
    }
    return m;
  }

  /** The membership of a room the user may send to; {@code forbidden} for a reader. */
  Membership sender(Member member, String room) {
    Membership m = membership(member, room);
    requireSend(m);
    return m;
  }

  static void requireSend(Membership m) {
    if (!m.access().canSend()) {
      throw new ProtocolException(ErrorCode.FORBIDDEN, "readers cannot send to room '" + m.room().name() + "'");
    }
  }

  /** In an encrypted room a body must be sealed; the refusal says nothing of the body (it may be plaintext). */
  static void requireSealed(Membership m, String body) {
    if (m.access().encrypted() && !SealedBody.isSealed(body)) {
      throw new ProtocolException(ErrorCode.ENCRYPTION_REQUIRED, "room '" + m.room().name()
          + "' is end-to-end encrypted: bodies must be sealed (e1.<keyId>.<payload>); nothing was sent");
    }
  }

  // --- join, resume, leave ----------------------------------------------------------------------------

  /**
   * Opens the room (claiming it in storage when it is not loaded) and adds the member, or changes
   * its mode when it is in already. {@code then} hears the outcome before the client hears
   * {@code joined}, so the connection knows its room before it can send to it.
   */
  void join(Member member, ClientFrame.Join join, Access allowed, long seen, Consumer<Outcome> then) {
    open(member, join.room(), join.id(), seen, then, room -> {
      Membership m = room.member(member.id());
      boolean isNew = m == null;
      if (isNew) {
        m = room.join(member, join.mode());
        m.access(allowed);
        firstJoin(room, member.user());
      } else {
        m.mode(join.mode());
      }
      then.accept(Outcome.JOINED);
      RoomChanges.CatchUp catchUp = changes.catchUp(room, join.rev());
      member.send(joined(join.id(), room, m, null, null, null, catchUp));
      if (isNew) {
        peers.joined(m);
      }
      catchUpChanges(member, m, catchUp);
    });
  }

  /** After a join's {@code joined}: the {@code changed} frames of its catch-up, live frames of the room held back until they are out. */
  private void catchUpChanges(Member member, Membership membership, RoomChanges.CatchUp catchUp) {
    if (!catchUp.reads()) {
      return;
    }
    String roomName = membership.room().name();
    membership.beginCatchUp();
    changes.read(membership.room(), catchUp).onComplete(read -> {
      if (membershipOrNull(member, roomName) != membership) {
        return;
      }
      if (read.failed()) {
        replies.fail(member, null, read.cause());
      }
      membership.endCatchUp(List.of(), read.succeeded() ? read.result() : List.of());
    });
  }

  /** A join or resume in: {@code then} hears the failure (closed, not opened, access changed meanwhile), else {@code in} gets the room. */
  private void open(Member member, String roomName, Object id, long seen, Consumer<Outcome> then, Consumer<Room> in) {
    rooms.open(roomName, nanoClock.getAsLong())
        .compose(room -> withCursorOf(member.user(), room))
        .onComplete(ar -> {
          if (member.isClosed()) {
            then.accept(Outcome.FAILED);
          } else if (ar.failed()) {
            then.accept(Outcome.FAILED);
            replies.failOpen(member, id, roomName, ar.cause());
          } else if (accessChanges.getAsLong() != seen) {
            then.accept(Outcome.STALE);
          } else if (rooms.get(roomName) != ar.result()) {
            open(member, roomName, id, seen, then, in); // unloaded while the cursor was looked up
          } else {
            in.accept(ar.result());
          }
        });
  }

  /**
   * The room, once it knows the user's cursor: a room with more users than it loaded cursors of
   * looks a user it has none of up in storage, so a user back after a while is not taken for a
   * newcomer (whose cursor starts at the head). A failed lookup is taken as none.
   */
  private Future<Room> withCursorOf(String user, Room room) {
    if (room.cursors().get(user) != null || !room.cursors().partial()) {
      return Future.succeededFuture(room);
    }
    return cursors.store().get(room.name(), user).transform(ar -> {
      if (ar.failed()) {
        LOG.warn("looking up the read cursor of a user of {} failed; it starts at the head: {}", room.name(),
            ar.cause().toString());
      } else if (ar.result() != null) {
        room.cursors().load(Map.of(user, ar.result()), room.head());
      }
      return Future.succeededFuture(room);
    });
  }

  /** A join of a room the connection is in already: its mode, and {@code joined} again. */
  void rejoin(Member member, ClientFrame.Join join) {
    Membership m = membership(member, join.room());
    m.mode(join.mode());
    // a catch-up under way (its resume's) already brings every change up to the rev it named
    RoomChanges.CatchUp catchUp = changes.catchUp(m.room(), m.catchingUp() ? null : join.rev());
    member.send(joined(join.id(), m.room(), m, null, null, null, catchUp));
    catchUpChanges(member, m, catchUp);
  }

  /**
   * Opens the room, adds the member (if it is not in already), tells it {@code joined} with where
   * its replay starts, and replays what it missed while holding back live messages.
   */
  void resume(Member member, String roomName, ClientFrame.ResumePoint point, Access allowed, long seen,
      Consumer<Outcome> then) {
    open(member, roomName, null, seen, then, room -> {
      Membership m = room.member(member.id());
      boolean isNew = m == null;
      if (isNew) {
        m = room.join(member, RoomMode.ACTIVE);
        m.access(allowed);
        firstJoin(room, member.user());
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
      then.accept(Outcome.JOINED);
      RoomChanges.CatchUp catchUp = changes.catchUp(room, point.rev());
      member.send(joined(null, room, m, recovered, divergedAfter, Math.min(from, head + 1), catchUp));
      if (isNew) {
        peers.joined(m);
      }
      Membership membership = m;
      membership.beginCatchUp();
      history.range(room, from, head).onComplete(replay -> {
        if (membershipOrNull(member, roomName) != membership) {
          return; // taken out (removed, left) meanwhile: its replay must not reach it
        }
        if (replay.failed()) {
          replies.fail(member, null, replay.cause());
        }
        List<Message> replayed = replay.succeeded() ? replay.result() : List.of();
        if (!catchUp.reads()) {
          membership.endCatchUp(replayed);
          return;
        }
        // live frames stay held (the catch-up began above) until the changes are out too
        changes.read(room, catchUp).onComplete(read -> {
          if (membershipOrNull(member, roomName) != membership) {
            return;
          }
          if (read.failed()) {
            replies.fail(member, null, read.cause());
          }
          membership.endCatchUp(replayed, read.succeeded() ? read.result() : List.of());
        });
      });
    });
  }

  private ServerFrame.Joined joined(Object id, Room room, Membership m, Boolean recovered, Long divergedAfter,
      Long replayFrom, RoomChanges.CatchUp catchUp) {
    Role role = m.access().role();
    return new ServerFrame.Joined(id, room.name(), room.head(), m.mode(), room.users(), peers.peers(room, m.member()),
        room.epoch(), recovered, divergedAfter, replayFrom, m.access().visibility().wire(),
        role == null ? null : role.wire(), room.names(),
        room.cursors().recent(ReadCursors.JOINED_MAX, m.member().user()), room.rev(), catchUp.recovered(),
        m.access().encrypted() ? Boolean.TRUE : null);
  }

  /** The client left; {@code left} is the answer even when the room had dropped it already. */
  void leave(Member member, ClientFrame.Leave leave) {
    Membership m = membershipOrNull(member, leave.room());
    if (m != null) {
      drop(m);
    }
    member.send(new ServerFrame.Left(leave.id(), leave.room()));
    if (m != null) {
      peers.left(m);
    }
  }

  /** The member's connection closed: it leaves the room, the others hear of it. */
  void closed(Member member, String roomName) {
    Membership m = membershipOrNull(member, roomName);
    if (m != null) {
      drop(m);
      peers.left(m);
    }
  }

  private void drop(Membership m) {
    long now = nanoClock.getAsLong();
    m.room().leave(m, now);
    rooms.emptied(m.room(), now);
    unreadDue.remove(m);
  }

  void mode(Member member, ClientFrame.SetMode mode) {
    Membership m = membership(member, mode.room());
    m.mode(mode.mode());
    member.send(new ServerFrame.ModeSet(mode.id(), mode.room(), mode.mode(), m.room().head()));
  }

  // --- history, peers ---------------------------------------------------------------------------------

  void history(Member member, ClientFrame.History h) {
    Room room = membership(member, h.room()).room();
    long before = h.before() == null ? room.head() + 1 : h.before();
    history.page(room, before, h.limit()).onComplete(ar -> {
      if (member.isClosed()) {
        return;
      }
      if (ar.failed()) {
        replies.fail(member, h.id(), ar.cause());
      } else {
        member.send(new ServerFrame.Page(h.id(), room.name(), ar.result(), RoomHistory.hasMore(ar.result())));
      }
    });
  }

  // --- read cursors, typing ---------------------------------------------------------------------------

  /** A user's first join of the room puts its cursor at the head: nobody owes a read of what came before. */
  private void firstJoin(Room room, String user) {
    if (room.cursors().get(user) == null) {
      cursorMoved(room, user, room.head());
    }
  }

  /** The user's cursor moves to {@code seq} (at most the head) if that is ahead: fanned out and written later. */
  void cursorMoved(Room room, String user, long seq) {
    if (room.cursors().advance(user, seq)) {
      readsDue.add(room);
      cursors.moved(room.name(), user, seq);
    }
  }

  /**
   * A sender's cursor moves to its message's seq: written, in later {@code joined.reads}, but not
   * fanned out, since every receiver of the {@code msg} (or {@code seqs}) infers it from {@code from}
   * and {@code seq}. In a 1:1 chat that saves a {@code reads} frame to each side per message.
   */
  void senderCursorMoved(Room room, String user, long seq) {
    if (room.cursors().advance(user, seq, false)) {
      cursors.moved(room.name(), user, seq);
    }
  }

  void read(Member member, ClientFrame.Read read) {
    Room room = membership(member, read.room()).room();
    cursorMoved(room, member.user(), Math.min(read.seq(), room.head()));
  }

  /**
   * Fans a typing notice out to the room's other connections in active mode. At most one
   * {@code on:true} per connection per second goes out (the rest are dropped, no error);
   * {@code on:false} always does.
   */
  void typing(Member member, ClientFrame.Typing typing) {
    Membership m = sender(member, typing.room());
    if (typing.on() && !m.typingDue(nanoClock.getAsLong())) {
      return;
    }
    if (!typing.on()) {
      m.typingStopped();
    }
    m.room().broadcast(FrameEncoder.encode(new ServerFrame.Typing(typing.room(), member.id(), member.user(),
        member.name(), typing.on())), m, true);
  }

  /** Every 250 ms: one {@code reads} frame per room whose cursors moved, to all its connections. */
  public void readsTick() {
    if (readsDue.isEmpty()) {
      return;
    }
    List<Room> due = new ArrayList<>(readsDue);
    readsDue.clear();
    for (Room room : due) {
      Map<String, Long> moved = room.cursors().takeMoved();
      if (moved.isEmpty() || rooms.get(room.name()) != room) {
        continue;
      }
      room.broadcast(FrameEncoder.encode(new ServerFrame.Reads(room.name(), moved)), null, false);
    }
  }

  void signal(Member member, ClientFrame.Signal signal) {
    peers.signal(membership(member, signal.room()), signal);
  }

  void result(Member member, ClientFrame.P2pResult result) {
    peers.result(membership(member, result.room()), result);
  }

  void profileChanged(Member member, String roomName) {
    Membership m = membershipOrNull(member, roomName);
    if (m != null) {
      peers.profileChanged(m);
    }
  }

  // --- access and ownership -------------------------------------------------------------------------

  /**
   * A committed access change of a room of this shard: every member of the affected user (all of
   * them when the visibility changed, {@code user} null) is checked again at once. Whoever may no
   * longer read is taken out; a new role is announced and applies to the next send.
   */
  void recheck(String roomName, String user) {
    Room room = rooms.get(roomName);
    if (room == null || room.members().stream().noneMatch(m -> user == null || m.member().user().equals(user))) {
      return;
    }
    long seen = accessChanges.getAsLong();
    // one query either way: the user's row, or the whole member list for a visibility change
    Future<Function<String, Access>> lookup = user != null
        ? access.access(roomName, user).map(a -> u -> a)
        : access.members(roomName).map(list -> {
          Map<String, Role> roles = new HashMap<>();
          list.members().forEach(member -> roles.put(member.user(), member.role()));
          return u -> new Access(list.visibility(), roles.get(u), list.encrypted());
        });
    lookup.onComplete(ar -> {
      if (ar.succeeded() && accessChanges.getAsLong() != seen) {
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
        if (user != null && !m.member().user().equals(user)) {
          continue;
        }
        Access now = ar.succeeded() ? ar.result().apply(m.member().user()) : null;
        if (now == null || !now.canRead()) {
          out.add(m);
        } else {
          Access before = m.access();
          m.access(now);
          if (now.role() != before.role()) {
            m.member().send(new ServerFrame.RoleChanged(roomName, now.role() == null ? null : now.role().wire()));
          }
          if (now.encrypted() && !before.encrypted()) {
            m.member().send(new ServerFrame.Encrypted(null, roomName));
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
    for (Membership m : out) {
      drop(m);
      m.member().removedFrom(m.room().name());
    }
    for (Membership m : out) {
      m.member().send(new ServerFrame.Left(null, m.room().name(), "removed"));
      peers.left(m);
    }
  }

  /**
   * Another relay sequences the room now: this node's copy and its unstored messages are dead.
   * Members lose the membership and are told to join again (their client then reaches the room
   * wherever it lives); senders of the unstored messages never get {@code stored:true}, so their
   * outboxes resend.
   */
  void takenOver(Room room) {
    if (!rooms.drop(room)) {
      return;
    }
    LOG.warn("room {} was taken over by another relay; dropping it here", room.name());
    endMemberships(room, ErrorCode.ROOM_UNAVAILABLE, "room '" + room.name() + "' moved to another relay; join it again");
  }

  /**
   * Hands the room over to whichever relay its members reach next (in a cluster: the one the
   * placement names now). It stops sequencing at once (joins and messages get {@code room_moved},
   * without effect), waits until every message it sequenced is stored (their senders get
   * {@code stored:true} first), gives the lease back cleanly so the next owner keeps the epoch, then
   * ends every membership with an unsolicited {@code room_moved} and unloads the room. When the
   * writes do not finish within {@code shutdownGraceMs} (storage down) or the release fails, the
   * room stays here and goes on as before.
   *
   * @return true when the room left this node (or was not here), false when it stays
   */
  Future<Boolean> handOver(String name) {
    Room room = rooms.get(name);
    if (room == null) {
      Future<Room> loading = rooms.loading(name);
      // a room being loaded is handed over once it is in: its joiners hear room_moved right after joined
      return loading == null ? Future.succeededFuture(true) : loading.transform(ar -> handOver(name));
    }
    Future<Void> settled = rooms.startMoving(room);
    if (settled == null) {
      return Future.succeededFuture(false); // a handover of it is under way already
    }
    long grace = options.getShutdownGraceMs();
    timers.schedule(grace, () -> {
      if (room.unstoredCount() > 0 && rooms.moving(name)) {
        LOG.warn("room {} keeps {} messages unwritten after {} ms; it stays here", name, room.unstoredCount(), grace);
        rooms.stopMoving(name);
      }
    });
    return settled
        // the next owner loads the room's cursors from storage: write this node's first (a failure
        // only costs the moves of the last second, so the handover goes on)
        .compose(v -> cursors.flush().recover(e -> Future.succeededFuture()))
        .compose(v -> rooms.handOff(room))
        .transform(ar -> {
          boolean current = rooms.get(name) == room;
          if (ar.failed() || !current) {
            rooms.stopMoving(name);
            if (ar.failed() && current) {
              LOG.warn("handing room {} over failed; it stays here: {}", name, ar.cause().toString());
            }
            return Future.succeededFuture(!current);
          }
          rooms.drop(room);
          rooms.stopMoving(name);
          endMemberships(room, ErrorCode.ROOM_MOVED, "room '" + name + "' moved to another relay of the cluster; join it again");
          return Future.succeededFuture(true);
        });
  }

  /** Every member leaves first (none hears of the others' going), then each is told why. */
  private void endMemberships(Room room, ErrorCode code, String message) {
    long now = nanoClock.getAsLong();
    List<Membership> members = new ArrayList<>(room.members());
    for (Membership m : members) {
      m.member().removedFrom(room.name());
      room.leave(m, now);
      unreadDue.remove(m);
    }
    for (Membership m : members) {
      peers.left(m);
      replies.error(m.member(), code, message, null, room.name());
    }
  }

  // --- timers -----------------------------------------------------------------------------------------

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

  /** This shard's loaded rooms with their epochs and durable watermarks, for the node's lease renewal. */
  record Leased(List<String> names, List<String> epochs, List<Long> durables) {}

  Leased leased() {
    List<String> names = new ArrayList<>(rooms.size());
    List<String> epochs = new ArrayList<>(rooms.size());
    List<Long> durables = new ArrayList<>(rooms.size());
    for (Room room : rooms.rooms()) {
      names.add(room.name());
      epochs.add(room.epoch());
      durables.add(room.durable());
    }
    return new Leased(names, epochs, durables);
  }

  public void evictTick() {
    rooms.evictIdle(nanoClock.getAsLong(), TimeUnit.MILLISECONDS.toNanos(options.getRoomIdleMs()));
  }

  /** Unloads rooms that stayed empty with nothing ever written (every second; looks only at candidates). */
  public void blankRoomTick() {
    rooms.evictBlank(nanoClock.getAsLong());
  }

  /** Releases every room with nothing left to write: the shard's part of a graceful shutdown. */
  Future<Void> releaseAll() {
    return rooms.releaseAll();
  }
}
