package io.switchboard.relay;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.changes.Change;
import io.switchboard.relay.changes.ChangeStore;
import io.switchboard.relay.history.RoomHistory;
import io.switchboard.relay.room.Member;
import io.switchboard.relay.room.Membership;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.room.RoomRegistry;
import io.switchboard.relay.store.MessageStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;

/**
 * Room side of edits, deletes and reactions. A room's changes run one at a time: each takes the
 * room's next rev, commits in storage (fence, rules, new state) and only then goes out, as
 * {@code changed}, to every member (the changer's copy with its frame's id). A change of a message
 * whose row is still in the write queue waits for that row first. Runs on its shard's loop.
 */
final class RoomChanges {
  /** The rev and catch-up a join or resume gets: {@code upto} bounds the changes read for it. */
  record CatchUp(Boolean recovered, long after, long upto) {
    boolean reads() {
      return Boolean.TRUE.equals(recovered) && upto > after;
    }
  }

  private final RoomShard shard;
  private final ChangeStore store;
  private final MessageStore messages;
  private final RoomRegistry.Timers timers;
  private final Replies replies;
  private final String owner;
  private final long waitForRowMs;
  private final int catchUpMax;

  /**
   * @param owner        this process's incarnation (the fence's owner)
   * @param waitForRowMs how long a change waits for its message's row before {@code storage_unavailable}
   */
  RoomChanges(RoomShard shard, ChangeStore store, MessageStore messages, RoomRegistry.Timers timers, Replies replies,
      String owner, long waitForRowMs, int catchUpMax) {
    this.shard = shard;
    this.store = store;
    this.messages = messages;
    this.timers = timers;
    this.replies = replies;
    this.owner = owner;
    this.waitForRowMs = waitForRowMs;
    this.catchUpMax = catchUpMax;
  }

  /** Checks what memory can tell (joined, role, seq below head) and queues the change behind the room's others. */
  void change(Member member, Object id, String roomName, long seq, Change change) {
    Membership m = shard.membership(member, roomName);
    if (!m.access().canSend()) {
      throw new ProtocolException(ErrorCode.FORBIDDEN, "readers cannot change messages of room '" + roomName + "'");
    }
    if (change instanceof Change.Edit edit) {
      RoomShard.requireSealed(m, edit.body());
    }
    Room room = m.room();
    if (seq > room.head()) {
      throw notFound(seq, roomName);
    }
    if (!room.changes().submit(() -> run(member, id, room, seq, change))) {
      throw new ProtocolException(ErrorCode.RATE_LIMITED, "too many changes of room '" + roomName + "' are waiting; retry later");
    }
  }

  static ProtocolException notFound(long seq, String room) {
    return new ProtocolException(ErrorCode.NOT_FOUND, "no message " + seq + " in room " + room);
  }

  private Future<?> run(Member member, Object id, Room room, long seq, Change change) {
    Membership m = room.member(member.id());
    if (member.isClosed()) {
      return Future.succeededFuture();
    }
    if (m == null || shard.rooms().get(room.name()) != room) {
      // left (or the room moved away) while waiting: no effect, and the frame still gets its answer
      member.refused(Replies.notJoined(room.name()).withRef(id));
      return Future.succeededFuture();
    }
    if (shard.rooms().moving(room.name())) {
      member.refused(RoomRegistry.moved(room.name()).withRef(id));
      return Future.succeededFuture();
    }
    Room.Unstored pending = room.unstored(seq);
    Future<Void> ready = pending == null ? Future.succeededFuture() : stored(pending);
    long rev = room.rev() + 1;
    return ready.compose(v -> store.apply(new ChangeStore.Request(room.name(), owner, room.epoch(), seq, rev,
        member.user(), m.access().role(), System.currentTimeMillis(), change))).onComplete(ar -> {
          if (ar.succeeded()) {
            done(member, id, room, ar.result(), rev);
          } else if (ar.cause() instanceof ProtocolException pe) {
            member.refused(pe.withRef(id));
          } else {
            room.rev(rev); // it may have committed: the number is never given out again
            replies.fail(member, id, ar.cause());
          }
        });
  }

  /** The message's row commits first; while storage is down that may not happen in time. */
  private Future<Void> stored(Room.Unstored pending) {
    Promise<Void> ready = Promise.promise();
    pending.committed().onComplete(ready);
    timers.schedule(waitForRowMs, () -> ready.tryFail(new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE,
        "message " + pending.message().seq() + " is not stored yet (storage is slow or down); retry later")));
    return ready.future();
  }

  private void done(Member member, Object id, Room room, ChangeStore.Result result, long rev) {
    if (result instanceof ChangeStore.Fenced) {
      replies.error(member, ErrorCode.ROOM_UNAVAILABLE, "room '" + room.name() + "' moved to another relay; join it again",
          id, room.name());
      shard.takenOver(room);
      return;
    }
    ChangeStore.Done d = (ChangeStore.Done) result;
    Message state = RoomHistory.toMessage(d.message());
    if (!d.changed()) {
      member.send(new ServerFrame.Changed(id, state)); // already so: no rev, nobody else hears of it
      return;
    }
    room.rev(rev);
    room.changed(state);
    room.fanoutChange(new ServerFrame.Changed(null, state), member, new ServerFrame.Changed(id, state));
    if (room.member(member.id()) == null && !member.isClosed()) {
      member.send(new ServerFrame.Changed(id, state)); // it left meanwhile: still the answer to its frame
    }
  }

  /** What a join or resume with {@code clientRev} (null: none asked) catches up on. */
  CatchUp catchUp(Room room, Long clientRev) {
    if (clientRev == null) {
      return new CatchUp(null, 0, 0);
    }
    long now = room.rev();
    boolean recovered = clientRev <= now && now - clientRev <= catchUpMax;
    return new CatchUp(recovered, clientRev, now);
  }

  /** The changes of a catch-up: messages changed after its rev up to the rev {@code joined} named, oldest first. */
  Future<List<Message>> read(Room room, CatchUp c) {
    if (!c.reads()) {
      return Future.succeededFuture(List.of());
    }
    return messages.changedAfter(room.name(), c.after(), c.upto(), catchUpMax)
        .map(rows -> rows.stream().map(RoomHistory::toMessage).toList());
  }
}
