package io.switchboard.relay.room;

import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.RoomMode;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.access.Access;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A member's place in a room: its mode, its unread summary, and its replay buffer while resuming. */
public final class Membership {
  private static final int PREVIEW_CHARS = 80;
  private static final long TYPING_INTERVAL_NANOS = 1_000_000_000L;

  private final Member member;
  private final Room room;
  private RoomMode mode;
  private Access access;
  private long unreadCount;
  private long unreadLastSeq;
  private String unreadPreview;
  private boolean unreadDirty;
  /** Live {@link Message}s and {@link ServerFrame.Changed}s held back while a catch-up loads. */
  private List<Object> catchUp;
  private final int catchUpMax;
  private final Consumer<Membership> unreadScheduler;
  private final MessageOrder messageOrder = new MessageOrder(MessageOrder.DEFAULT_MAX_HELD);
  /** When this connection's last {@code typing on:true} went out; 0: never. */
  private long typingOnNanos;

  Membership(Member member, Room room, RoomMode mode, int catchUpMax, Consumer<Membership> unreadScheduler) {
    this.member = member;
    this.room = room;
    this.mode = mode;
    this.catchUpMax = catchUpMax;
    this.unreadScheduler = unreadScheduler;
  }

  public Member member() {
    return member;
  }

  public Room room() {
    return room;
  }

  /** The member's sends and batches to this room, sequenced in the order they arrived. */
  public MessageOrder messageOrder() {
    return messageOrder;
  }

  /**
   * Whether a {@code typing on:true} may go out now (at most one per second per connection and room,
   * unless an {@code on:false} went out since: a user who clears the field and types again is
   * typing again); records it if so.
   */
  public boolean typingDue(long nowNanos) {
    if (typingOnNanos != 0 && nowNanos - typingOnNanos < TYPING_INTERVAL_NANOS) {
      return false;
    }
    typingOnNanos = nowNanos == 0 ? 1 : nowNanos;
    return true;
  }

  /** An {@code on:false} went out: the next {@code on:true} is news, not a repeat (each still costs a rate token). */
  public void typingStopped() {
    typingOnNanos = 0;
  }

  /** What the user may do here, as of its join or the last access change: sends check it, no lookup. */
  public Access access() {
    return access;
  }

  public void access(Access access) {
    this.access = access;
  }

  public RoomMode mode() {
    return mode;
  }

  public void mode(RoomMode mode) {
    this.mode = mode;
    if (mode == RoomMode.ACTIVE) {
      unreadCount = 0;
      unreadDirty = false;
    }
  }

  /**
   * Delivers a live message: as {@code msg} when active, as a pending unread summary when in the
   * background (scheduled for the next unread tick), into the replay buffer while a resume is
   * being replayed.
   */
  void deliver(Message message, String encoded) {
    if (take(message)) {
      member.sendText(encoded, ServerFrame.Priority.LIVE);
    }
  }

  /**
   * Everything of {@link #deliver} but the sending itself.
   *
   * @return true when the message is to be sent to the member as {@code msg} (the caller sends it)
   */
  boolean take(Message message) {
    if (catchUp != null) {
      if (catchUp.size() >= catchUpMax) {
        member.slowConsumer();
      } else {
        catchUp.add(message);
      }
      return false;
    }
    if (mode == RoomMode.ACTIVE) {
      return true;
    }
    unreadCount++;
    unreadLastSeq = message.seq();
    unreadPreview = message.body();
    if (!unreadDirty) {
      unreadDirty = true;
      unreadScheduler.accept(this);
    }
    return false;
  }

  /**
   * Delivers a message's new state after a change, in the room's order: every mode gets it (a
   * background member's cached copy must not keep a deleted body); held back while a catch-up
   * loads. A pending unread summary whose preview is that message shows its new body.
   */
  public void deliverChange(ServerFrame.Changed changed, String encoded) {
    if (!takeChange(changed)) {
      return;
    }
    if (encoded == null) {
      member.send(changed);
    } else {
      member.sendText(encoded, ServerFrame.Priority.LIVE);
    }
  }

  /**
   * Everything of {@link #deliverChange} but the sending itself.
   *
   * @return true when the frame is to be sent to the member now (the caller sends it)
   */
  boolean takeChange(ServerFrame.Changed changed) {
    if (catchUp != null) {
      if (catchUp.size() >= catchUpMax) {
        member.slowConsumer();
      } else {
        catchUp.add(changed);
      }
      return false;
    }
    Message m = changed.message();
    if (unreadDirty && unreadLastSeq == m.seq()) {
      unreadPreview = m.deleted() ? "" : m.body();
    }
    return true;
  }

  /** Sends the throttled unread summary if one is due; true when it did. */
  public boolean flushUnread() {
    if (!unreadDirty || mode != RoomMode.BACKGROUND || member.isClosed()) {
      unreadDirty = false;
      return false;
    }
    unreadDirty = false;
    // an encrypted room's bodies are sealed: a cut of one would be noise to the client, so none
    String preview = access != null && access.encrypted() ? null
        : unreadPreview.length() <= PREVIEW_CHARS ? unreadPreview
        : unreadPreview.substring(0, Character.isHighSurrogate(unreadPreview.charAt(PREVIEW_CHARS - 1))
            ? PREVIEW_CHARS - 1 : PREVIEW_CHARS);
    member.send(new ServerFrame.Unread(room.name(), unreadCount, unreadLastSeq, preview));
    return true;
  }

  public boolean catchingUp() {
    return catchUp != null;
  }

  /** Live messages are held back from now until {@link #endCatchUp} so the replay stays in order. */
  public void beginCatchUp() {
    catchUp = new ArrayList<>();
  }

  /** Sends the replayed messages, then whatever arrived live meanwhile, skipping any already sent. */
  public void endCatchUp(List<Message> replay) {
    endCatchUp(replay, List.of());
  }

  /**
   * Sends the replayed messages, then one {@code changed} per message changed since the client's
   * rev (oldest change first), then whatever arrived live meanwhile, skipping any already sent.
   */
  public void endCatchUp(List<Message> replay, List<Message> changes) {
    List<Object> held = catchUp;
    catchUp = null;
    long last = 0;
    for (Message m : replay) {
      member.sendText(FrameEncoder.encode(new ServerFrame.Msg(m)), ServerFrame.Priority.LIVE);
      last = m.seq();
    }
    long lastRev = 0;
    for (Message m : changes) {
      member.sendText(FrameEncoder.encode(new ServerFrame.Changed(null, m)), ServerFrame.Priority.LIVE);
      lastRev = Math.max(lastRev, m.rev());
    }
    if (held != null) {
      for (Object o : held) {
        if (o instanceof Message m && m.seq() > last) {
          deliver(m, FrameEncoder.encode(new ServerFrame.Msg(m)));
        } else if (o instanceof ServerFrame.Changed c && c.message().rev() > lastRev) {
          deliverChange(c, null);
        }
      }
    }
  }
}
