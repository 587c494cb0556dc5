package io.switchboard.relay.room;

import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.RoomMode;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.store.RoomLeases.Epoch;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import io.switchboard.relay.changes.SerialQueue;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * A room on this node: its sequencer ({@code head}) in its current {@code epoch}, members, recent
 * ring, dedupe window, the messages sequenced but not yet committed and the durable watermark.
 * Single-threaded on its shard's event loop.
 */
public final class Room {
  /** A sequenced message waiting for its row to commit, and who to ack when it does. */
  public static final class Unstored {
    private final Message message;
    private Member ackTo;
    private Object ackId;
    /** Completed when the row commits; only made when a change of the message waits for it. */
    private Promise<Void> committed;

    Unstored(Message message, Member ackTo, Object ackId) {
      this.message = message;
      this.ackTo = ackTo;
      this.ackId = ackId;
    }

    public Message message() {
      return message;
    }

    public Member ackTo() {
      return ackTo;
    }

    public Object ackId() {
      return ackId;
    }

    /** A resend while the write is pending: the newest sender connection gets the final ack. */
    public void redirectAck(Member member, Object id) {
      this.ackTo = member;
      this.ackId = id;
    }

    /** Completes when the message's row is committed (a change to it must find the row). */
    public Future<Void> committed() {
      if (committed == null) {
        committed = Promise.promise();
      }
      return committed.future();
    }
  }

  private final String name;
  private final List<Membership> members = new ArrayList<>();
  private final Map<String, Membership> membersBySession = new HashMap<>();
  private final RecentRing ring;
  private final ReadCursors cursors = new ReadCursors();
  private final DedupeWindow dedupe;
  private final Map<Long, Unstored> unstoredBySeq = new HashMap<>();
  private final Map<String, Unstored> unstoredByKey = new HashMap<>();
  private final int catchUpMax;
  private final Consumer<Membership> unreadScheduler;
  private final String epoch;
  private final List<Epoch> epochs;
  private long head;
  // every seq <= durable is stored, or a hole the claim left below head that is never reused
  private long durable;
  private long idleSinceNanos;
  /** The last change rev committed (edits, deletes, reactions); never given out twice, also across owners. */
  private long rev;
  /** Changes of this room's messages, one at a time so revs commit in order; made on the first change. */
  private SerialQueue changes;
  /** Changes waiting for their turn; more get {@code rate_limited}. */
  public static final int CHANGES_WAITING_MAX = 1_000;

  Room(String name, String epoch, List<Epoch> epochs, long head, int ringSize, int dedupeWindow, int catchUpMax,
      Consumer<Membership> unreadScheduler, long nowNanos) {
    this.name = name;
    this.epoch = epoch;
    this.epochs = List.copyOf(epochs);
    this.head = head;
    this.durable = head;
    this.ring = new RecentRing(ringSize);
    this.dedupe = new DedupeWindow(dedupeWindow);
    this.catchUpMax = catchUpMax;
    this.unreadScheduler = unreadScheduler;
    this.idleSinceNanos = nowNanos;
  }

  public String name() {
    return name;
  }

  public long head() {
    return head;
  }

  public String epoch() {
    return epoch;
  }

  public long rev() {
    return rev;
  }

  /** A change committed with {@code rev} (or one that may have: its number is never used again). */
  public void rev(long rev) {
    this.rev = Math.max(this.rev, rev);
  }

  public SerialQueue changes() {
    if (changes == null) {
      changes = new SerialQueue(CHANGES_WAITING_MAX); // most rooms never see a change: no queue for them
    }
    return changes;
  }

  /** A change committed: history and resumes served from memory show the message's new state. */
  public void changed(Message current) {
    ring.replace(current);
  }

  /** The largest seq with every seq up to it stored (or a permanent hole). */
  public long durable() {
    return durable;
  }

  /**
   * The last seq a client's copy sequenced in {@code clientEpoch} (null: unknown) surely shares with
   * this room: the smallest {@code since} of the epochs that started after it, or
   * {@link Long#MAX_VALUE} when none did (nothing diverged).
   */
  public long divergedAfter(String clientEpoch) {
    int after = 1;
    if (clientEpoch != null) {
      for (int i = 0; i < epochs.size(); i++) {
        if (epochs.get(i).epoch().equals(clientEpoch)) {
          after = i + 1;
          break;
        }
      }
    }
    long since = Long.MAX_VALUE;
    for (int i = after; i < epochs.size(); i++) {
      since = Math.min(since, epochs.get(i).since());
    }
    return since;
  }

  /** The room's read cursors (per user). */
  public ReadCursors cursors() {
    return cursors;
  }

  public List<Membership> members() {
    return members;
  }

  /** Distinct users in the room, in join order. */
  public List<String> users() {
    Set<String> users = new LinkedHashSet<>();
    for (Membership m : members) {
      users.add(m.member().user());
    }
    return new ArrayList<>(users);
  }

  /** Display names of the members that have one (user → name), for {@code joined.names}. */
  public Map<String, String> names() {
    Map<String, String> names = new LinkedHashMap<>();
    for (Membership m : members) {
      String name = m.member().name();
      if (name != null) {
        names.putIfAbsent(m.member().user(), name);
      }
    }
    return names;
  }

  public Membership join(Member member, RoomMode mode) {
    Membership m = new Membership(member, this, mode, catchUpMax, unreadScheduler);
    members.add(m);
    membersBySession.put(member.id(), m);
    return m;
  }

  /** The membership of the connection with this session (peer) id, or null. */
  public Membership member(String sessionId) {
    return membersBySession.get(sessionId);
  }

  public void leave(Membership m, long nowNanos) {
    members.remove(m);
    membersBySession.remove(m.member().id(), m);
    if (members.isEmpty()) {
      idleSinceNanos = nowNanos;
    }
  }

  /** The seq already assigned to (sender, cid), from memory: the dedupe window or a pending write. */
  public Long knownSeq(String sender, String cid) {
    Unstored pending = unstoredByKey.get(DedupeWindow.key(sender, cid));
    return pending != null ? Long.valueOf(pending.message().seq()) : dedupe.find(sender, cid);
  }

  public Unstored unstored(long seq) {
    return unstoredBySeq.get(seq);
  }

  public int unstoredCount() {
    return unstoredBySeq.size();
  }

  /** Assigns the next seq, remembers the message as unstored, and fans it out to everyone but the sender. */
  public Unstored sequence(Member sender, Object ackId, String cid, String body, long nowMillis) {
    Message message = new Message(name, ++head, cid, sender.user(), body, nowMillis, sender.name());
    Unstored pending = new Unstored(message, sender, ackId);
    unstoredBySeq.put(message.seq(), pending);
    unstoredByKey.put(DedupeWindow.key(message.from(), cid), pending);
    dedupe.remember(message.from(), cid, message.seq());
    ring.add(message);
    return pending;
  }

  /**
   * Hands the message to every member but the sender. Members on another event loop get it in one
   * task per loop (not one per member), members on another node in one message per node, each in the order this room sequenced.
   *
   * @return how many connections the message was handed to
   */
  public int fanout(Message message, Member except) {
    return fanout(message, except, Set.of(), null);
  }

  /**
   * {@link #fanout(Message, Member)}, but a member whose id {@code holders} lists (its DataChannel
   * delivered the message) and that would get it live as {@code msg} is added to {@code held}
   * instead, for one {@code seqs} frame of the whole batch ({@link #deliver}). A held member in the
   * background or catching up gets what it would otherwise.
   *
   * @return how many connections the message was handed to as {@code msg} or unread
   */
  public int fanout(Message message, Member except, Set<String> holders, Set<Member> held) {
    String encoded = null;
    int delivered = 0;
    Loop firstLoop = null;
    List<Member> first = null;
    Map<Loop, List<Member>> others = null;
    for (int i = 0, n = members.size(); i < n; i++) {
      Membership m = members.get(i);
      if (m.member() == except) {
        continue;
      }
      boolean live = m.take(message);
      if (live && held != null && holders.contains(m.member().id())) {
        held.add(m.member());
        continue;
      }
      if (encoded == null) {
        encoded = FrameEncoder.encode(new ServerFrame.Msg(message));
      }
      delivered++;
      if (!live) {
        continue;
      }
      Loop loop = m.member().loop();
      if (first == null || loop == firstLoop) {
        if (first == null) {
          firstLoop = loop;
          first = new ArrayList<>();
        }
        first.add(m.member());
      } else {
        if (others == null) {
          others = new HashMap<>();
        }
        others.computeIfAbsent(loop, l -> new ArrayList<>()).add(m.member());
      }
    }
    if (first != null) {
      send(firstLoop, first, encoded);
    }
    if (others != null) {
      for (Map.Entry<Loop, List<Member>> e : others.entrySet()) {
        send(e.getKey(), e.getValue(), encoded);
      }
    }
    return delivered;
  }

  /**
   * Hands an encoded live frame (cursors, typing) to the room's members, grouped by loop like
   * {@link #fanout}: one task per loop, one bus message per other node. {@code except}: a
   * membership left out (null: none); {@code activeOnly}: background members left out too.
   */
  public void broadcast(String encoded, Membership except, boolean activeOnly) {
    Map<Loop, List<Member>> byLoop = new LinkedHashMap<>();
    for (int i = 0, n = members.size(); i < n; i++) {
      Membership m = members.get(i);
      if (m == except || (activeOnly && m.mode() != RoomMode.ACTIVE) || m.member().isClosed()) {
        continue;
      }
      byLoop.computeIfAbsent(m.member().loop(), l -> new ArrayList<>()).add(m.member());
    }
    byLoop.forEach((loop, to) -> send(loop, to, encoded));
  }

  /**
   * Hands a message's new state to every member, active or in the background: {@code mine} (with
   * the changer's frame id) to the changer's connection, {@code everyone} encoded once to the
   * others, one task per loop (one bus message per other node), as {@link #fanout} does.
   */
  public void fanoutChange(ServerFrame.Changed everyone, Member changer, ServerFrame.Changed mine) {
    String encoded = FrameEncoder.encode(everyone);
    Map<Loop, List<Member>> byLoop = new LinkedHashMap<>();
    for (int i = 0, n = members.size(); i < n; i++) {
      Membership m = members.get(i);
      if (m.member() == changer) {
        m.deliverChange(mine, null);
      } else if (m.takeChange(everyone)) {
        byLoop.computeIfAbsent(m.member().loop(), l -> new ArrayList<>()).add(m.member());
      }
    }
    byLoop.forEach((loop, to) -> send(loop, to, encoded));
  }

  private static void send(Loop loop, List<Member> to, String encoded) {
    loop.deliver(to, encoded);
  }

  /** One frame, encoded once, to these members: one task per loop, one bus message per other node. */
  public static void deliver(Collection<Member> to, ServerFrame frame) {
    String encoded = FrameEncoder.encode(frame);
    Map<Loop, List<Member>> byLoop = new LinkedHashMap<>();
    for (Member member : to) {
      byLoop.computeIfAbsent(member.loop(), l -> new ArrayList<>()).add(member);
    }
    byLoop.forEach((loop, members) -> send(loop, members, encoded));
  }

  /**
   * The message's row is committed. {@code storedSeq} differs from its own seq only when storage
   * already had that (sender, cid) — a retransmission that bypassed dedupe — and then the stored
   * seq is the one to answer later resends with.
   */
  public void stored(Unstored pending, long storedSeq) {
    Message m = pending.message();
    if (pending.committed != null) {
      pending.committed.complete();
    }
    unstoredBySeq.remove(m.seq());
    unstoredByKey.remove(DedupeWindow.key(m.from(), m.cid()));
    if (storedSeq != m.seq()) {
      dedupe.remember(m.from(), m.cid(), storedSeq);
    }
    // writes commit mostly in seq order, so each seq is stepped over once: amortised O(1)
    while (durable < head && !unstoredBySeq.containsKey(durable + 1)) {
      durable++;
    }
  }

  /** A message by seq from memory (ring or pending write), or null. */
  public Message inMemory(long seq) {
    Message m = ring.get(seq);
    if (m != null) {
      return m;
    }
    Unstored pending = unstoredBySeq.get(seq);
    return pending == null ? null : pending.message();
  }

  /** No member, and nothing was ever sequenced here since it loaded: unloading it loses nothing. */
  public boolean blank() {
    return members.isEmpty() && unstoredBySeq.isEmpty() && ring.isEmpty();
  }

  public boolean evictable(long nowNanos, long idleNanos) {
    return members.isEmpty() && unstoredBySeq.isEmpty() && nowNanos - idleSinceNanos >= idleNanos;
  }
}
