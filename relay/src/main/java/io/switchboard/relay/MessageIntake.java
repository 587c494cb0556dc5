package io.switchboard.relay;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.metrics.RelayMetrics;
import io.switchboard.relay.room.Loop;
import io.switchboard.relay.room.Member;
import io.switchboard.relay.room.Membership;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.room.RoomRegistry;
import io.switchboard.relay.store.BatchWriter;
import io.switchboard.relay.store.MessageStore;
import io.switchboard.relay.store.PendingWrite;
import io.switchboard.relay.store.StoredMessage;
import io.switchboard.relay.store.WriteListener;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Room side of sends and batches: dedupe (memory, then storage), sequencing, fanout, the batch
 * writer and acks. Runs on its room shard's loop; takes plain frames and the sender's member handle.
 */
final class MessageIntake {
  private static final Logger LOG = LoggerFactory.getLogger(MessageIntake.class);

  private final RoomShard shard;
  private final MessageStore store;
  private final BatchWriter writer;
  /** Messages to the node's writer, and what it says of them back here: one wake-up per burst. */
  private final Hop toWriter;
  private final Hop fromWriter;
  private final RelayMetrics metrics;
  private final Replies replies;
  private final BooleanSupplier draining;

  MessageIntake(RoomShard shard, MessageStore store, BatchWriter writer, Loop writerLoop, Loop home,
      RelayMetrics metrics, Replies replies, BooleanSupplier draining) {
    this.shard = shard;
    this.store = store;
    this.writer = writer;
    this.toWriter = new Hop(writerLoop);
    this.fromWriter = new Hop(home);
    this.metrics = metrics;
    this.replies = replies;
    this.draining = draining;
  }

  void send(Member member, ClientFrame.Send send) {
    Membership m = shard.sender(member, send.room());
    inOrder(m, send.id(), () -> sendInOrder(member, send));
  }

  private void sendInOrder(Member member, ClientFrame.Send send) {
    Membership m = shard.sender(member, send.room());
    RoomShard.requireSealed(m, send.body());
    Room room = m.room();
    Long known = room.knownSeq(member.user(), send.cid());
    if (known != null) {
      duplicate(member, room, send.id(), send.cid(), known);
    } else if (send.resend()) {
      // Beyond the memory window only storage knows; look there before sequencing.
      m.messageOrder().suspend();
      store.findSeq(room.name(), member.user(), send.cid()).onComplete(ar -> {
        try {
          if (member.isClosed()) {
            return;
          }
          if (ar.failed()) {
            replies.fail(member, send.id(), ar.cause());
          } else if (ar.result().isPresent()) {
            duplicate(member, room, send.id(), send.cid(), ar.result().get());
          } else {
            Long raced = room.knownSeq(member.user(), send.cid());
            if (raced != null) {
              duplicate(member, room, send.id(), send.cid(), raced);
            } else {
              whileStillJoined(member, send.room(), send.id(), current -> accept(member, current, send));
            }
          }
        } finally {
          m.messageOrder().resume();
        }
      });
    } else {
      accept(member, room, send);
    }
  }

  /**
   * Runs a send or batch in the member's arrival order (see {@link io.switchboard.relay.room.MessageOrder}).
   * A step that had to wait runs from a storage callback, so it reports its own errors.
   */
  private void inOrder(Membership m, Object id, Runnable step) {
    Member member = m.member();
    boolean taken = m.messageOrder().submit(() -> {
      if (member.isClosed()) {
        return;
      }
      try {
        step.run();
      } catch (ProtocolException e) {
        member.refused(e.withRef(id));
      } catch (RuntimeException e) {
        LOG.error("bug handling a message of session {}", member.id(), e);
        member.refused(new ProtocolException(ErrorCode.INTERNAL, "internal error; the frame had no effect", id));
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
  private void whileStillJoined(Member member, String room, Object id, Consumer<Room> step) {
    Membership m = shard.membershipOrNull(member, room);
    if (m == null) {
      member.refused(new ProtocolException(ErrorCode.NOT_JOINED,
          "left room '" + room + "' before its messages were sequenced", id));
      return;
    }
    try {
      RoomShard.requireSend(m);
      step.accept(m.room());
    } catch (ProtocolException e) {
      member.refused(e.withRef(id));
    }
  }

  private void duplicate(Member member, Room room, Object id, String cid, long seq) {
    metrics.duplicate();
    Room.Unstored pending = room.unstored(seq);
    if (pending != null) {
      pending.redirectAck(member, id);
    }
    member.send(new ServerFrame.Ack(id, room.name(), cid, seq, pending == null));
  }

  private void accept(Member member, Room room, ClientFrame.Send send) {
    requireCapacity(room, 1);
    sequence(member, room, send.id(), send.cid(), send.body(), send.ts(), Set.of(), null);
  }

  /**
   * Refuses new messages of a room being handed over, while draining, or when storage could not
   * take all {@code messages} of them.
   */
  private void requireCapacity(Room room, int messages) {
    if (shard.rooms().moving(room.name())) {
      throw RoomRegistry.moved(room.name());
    }
    if (draining.getAsBoolean()) {
      throw new ProtocolException(ErrorCode.SHUTTING_DOWN, "server is shutting down; resend after reconnecting");
    }
    if (!writer.hasCapacity(messages)) {
      throw new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE,
          "storage is down and its queue is full; keep the message and resend later");
    }
  }

  /**
   * Assigns the next seq, fans the message out and queues it for storage; its ack follows the write.
   * The writer is the node's (on its own loop): the message goes there, what it says comes back here.
   * Members {@code holders} lists that would get a live {@code msg} are added to {@code held} instead.
   */
  private Message sequence(Member member, Room room, Object id, String cid, String body, Long ts,
      Set<String> holders, Set<Member> held) {
    Room.Unstored pending = room.sequence(member, id, cid, body, sendTime(ts, System.currentTimeMillis()));
    Message m = pending.message();
    metrics.message(room.fanout(m, member, holders, held));
    shard.senderCursorMoved(room, member.user(), m.seq()); // a sender has read its own message
    PendingWrite write = new PendingWrite(new StoredMessage(m.room(), m.seq(), m.from(), m.cid(), m.body(), m.ts(),
        m.name()),
        room.epoch(), new WriteListener() {
          @Override
          public void onDelayed() {
            fromWriter.execute(() -> ack(pending, m.seq(), false));
          }

          @Override
          public void onStored(long storedSeq) {
            fromWriter.execute(() -> {
              room.stored(pending, storedSeq);
              ack(pending, storedSeq, true);
              shard.rooms().settled(room);
            });
          }

          @Override
          public void onFenced() {
            fromWriter.execute(() -> shard.takenOver(room));
          }
        });
    toWriter.execute(() -> offer(write));
    return m;
  }

  /** How far back a client's send time may lie: a queued or P2P message is late by seconds, not days. */
  static final long MAX_SEND_TIME_AGE_MS = 10 * 60_000;

  /**
   * The time a message is stored and fanned out with: the client's send time (its clock corrected
   * by ours), kept within the last ten minutes of ours so a wrong clock can neither date a message
   * into the future nor bury it in the past; absent, now.
   */
  static long sendTime(Long ts, long now) {
    if (ts == null) {
      return now;
    }
    return Math.max(now - MAX_SEND_TIME_AGE_MS, Math.min(ts, now));
  }

  private void offer(PendingWrite write) {
    try {
      writer.offer(write);
    } catch (IllegalStateException e) {
      // closed by a drain this message raced (drain lets everything sequenced before it through):
      // never stored:true, so the sender's outbox resends it
      LOG.warn("message {}/{} not queued for storage: {}", write.message().room(), write.message().seq(), e.getMessage());
    }
  }

  /**
   * Messages a peer already delivered over a DataChannel. Every item is a send with the batch's
   * resend semantics; the connection paid its rate tokens for every item before the batch got here,
   * and storage must have room for every new one, or nothing of it happens.
   */
  void batch(Member member, ClientFrame.Batch batch) {
    Membership m = shard.sender(member, batch.room());
    inOrder(m, batch.id(), () -> batchInOrder(member, batch));
  }

  private void batchInOrder(Member member, ClientFrame.Batch batch) {
    Membership m = shard.sender(member, batch.room());
    // the whole batch or nothing: one unsealed item refuses it before any item is sequenced
    for (ClientFrame.BatchItem item : batch.items()) {
      RoomShard.requireSealed(m, item.body());
    }
    Room room = m.room();
    List<String> unknown = batch.items().stream().map(ClientFrame.BatchItem::cid)
        .filter(cid -> room.knownSeq(member.user(), cid) == null).distinct().toList();
    // A first upload (resend:false) is unknown to storage too: the in-memory window dedupes it.
    if (unknown.isEmpty() || !batch.resend()) {
      sequenceBatch(member, room, batch, Map.of());
      return;
    }
    m.messageOrder().suspend();
    store.findSeqs(room.name(), member.user(), unknown).onComplete(ar -> {
      try {
        if (member.isClosed()) {
          return;
        }
        if (ar.failed()) {
          replies.fail(member, batch.id(), ar.cause());
        } else {
          whileStillJoined(member, batch.room(), batch.id(), current -> sequenceBatch(member, current, batch, ar.result()));
        }
      } finally {
        m.messageOrder().resume();
      }
    });
  }

  /**
   * Memory is asked again here, not only before the storage lookup: a send or another batch may
   * have sequenced some of these cids meanwhile. Items are handled in array order, so a cid twice in
   * one batch is sequenced once and the second is its duplicate.
   */
  private void sequenceBatch(Member member, Room room, ClientFrame.Batch batch, Map<String, Long> stored) {
    String user = member.user();
    Set<String> fresh = new HashSet<>();
    for (ClientFrame.BatchItem item : batch.items()) {
      if (room.knownSeq(user, item.cid()) == null && !stored.containsKey(item.cid())) {
        fresh.add(item.cid());
      }
    }
    if (!fresh.isEmpty()) {
      requireCapacity(room, fresh.size());
    }
    Set<String> holders = batch.to().isEmpty() ? Set.of() : Set.copyOf(batch.to());
    Set<Member> held = new LinkedHashSet<>();
    List<ServerFrame.SeqItem> seqs = new ArrayList<>();
    for (ClientFrame.BatchItem item : batch.items()) {
      Long known = room.knownSeq(user, item.cid());
      if (known == null) {
        known = stored.get(item.cid());
      }
      if (known != null) {
        duplicate(member, room, batch.id(), item.cid(), known);
      } else {
        Message m = sequence(member, room, batch.id(), item.cid(), item.body(), item.ts(), holders, held);
        seqs.add(new ServerFrame.SeqItem(m.cid(), m.seq(), m.ts()));
      }
    }
    if (!held.isEmpty()) {
      // The listed peers have the bodies from their DataChannel: one bodiless frame for the batch.
      Room.deliver(held, new ServerFrame.Seqs(room.name(), user, seqs));
    }
    metrics.batch(fresh.size());
  }

  private void ack(Room.Unstored pending, long seq, boolean stored) {
    Member to = pending.ackTo();
    if (!to.isClosed()) {
      Message m = pending.message();
      to.send(new ServerFrame.Ack(pending.ackId(), m.room(), m.cid(), seq, stored));
    }
  }
}
