package io.switchboard.relay.room;

import io.switchboard.protocol.ServerFrame.Message;
import java.util.ArrayList;
import java.util.List;

/** The newest messages of a room by seq, so hot history and short resumes never touch the database. */
public final class RecentRing {
  private final int capacity;
  /** Allocated on the first message: most loaded rooms are joined and left without one (~1 KB saved each). */
  private Message[] slots;
  private long firstSeq = 1;
  private long nextSeq = 1;

  public RecentRing(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1");
    }
    this.capacity = capacity;
  }

  /** Appends the room's next message; seqs arrive gap-free from the room's sequencer. */
  public void add(Message message) {
    if (slots == null) {
      slots = new Message[capacity];
    }
    if (message.seq() != nextSeq) {
      // First message after the room was loaded from storage: the ring starts here.
      firstSeq = message.seq();
      java.util.Arrays.fill(slots, null);
    }
    slots[(int) (message.seq() % slots.length)] = message;
    nextSeq = message.seq() + 1;
    firstSeq = Math.max(firstSeq, nextSeq - slots.length);
  }

  /** True until the first message is added. */
  public boolean isEmpty() {
    return slots == null;
  }

  /** Lowest seq held, or {@code nextSeq()} when empty. */
  public long firstSeq() {
    return firstSeq;
  }

  public long nextSeq() {
    return nextSeq;
  }

  /** A held message's new state (after a change); a message the ring does not hold is ignored. */
  public void replace(Message message) {
    if (get(message.seq()) != null) {
      slots[(int) (message.seq() % slots.length)] = message;
    }
  }

  public Message get(long seq) {
    return seq >= firstSeq && seq < nextSeq ? slots[(int) (seq % slots.length)] : null;
  }

  /** Messages with {@code from <= seq < to} that the ring holds, ascending. */
  public List<Message> range(long from, long to) {
    long lo = Math.max(from, firstSeq);
    long hi = Math.min(to, nextSeq);
    List<Message> out = new ArrayList<>((int) Math.max(0, hi - lo));
    for (long seq = lo; seq < hi; seq++) {
      out.add(slots[(int) (seq % slots.length)]);
    }
    return out;
  }
}
