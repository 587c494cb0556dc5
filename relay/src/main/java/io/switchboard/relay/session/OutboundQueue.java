package io.switchboard.relay.session;

import io.switchboard.protocol.ServerFrame.Priority;
import java.util.ArrayDeque;

/**
 * Frames waiting for a connection's socket, one FIFO per {@link Priority}: control frames overtake
 * live messages, which overtake history pages. Bounded in characters so a slow consumer costs at
 * most {@code maxChars} of memory before it is cut off.
 */
public final class OutboundQueue {
  /** Where frames go; {@link #full()} mirrors the socket's own write queue (Netty's watermark). */
  public interface Sink {
    boolean full();

    void write(String text);
  }

  private final long maxChars;
  private final ArrayDeque<String>[] queues;
  private long queuedChars;

  @SuppressWarnings("unchecked")
  public OutboundQueue(long maxChars) {
    this.maxChars = maxChars;
    Priority[] priorities = Priority.values();
    this.queues = new ArrayDeque[priorities.length];
    for (int i = 0; i < priorities.length; i++) {
      queues[i] = new ArrayDeque<>();
    }
  }

  /**
   * Writes the frame now if nothing is waiting and the socket has room, else queues it.
   *
   * @return false when queueing it would pass the bound: the caller must cut the consumer off
   */
  public boolean offer(String text, Priority priority, Sink sink) {
    if (queuedChars == 0 && !sink.full()) {
      sink.write(text);
      return true;
    }
    if (queuedChars + text.length() > maxChars) {
      return false;
    }
    queues[priority.ordinal()].addLast(text);
    queuedChars += text.length();
    drain(sink);
    return true;
  }

  /** Moves frames to the sink, most urgent first, until it is full or nothing waits. */
  public void drain(Sink sink) {
    for (ArrayDeque<String> queue : queues) {
      while (!queue.isEmpty()) {
        if (sink.full()) {
          return;
        }
        String text = queue.pollFirst();
        queuedChars -= text.length();
        sink.write(text);
      }
    }
  }

  /** Hands every waiting frame to the sink regardless of its watermark (used just before a close). */
  public void flushAll(Sink sink) {
    for (ArrayDeque<String> queue : queues) {
      String text;
      while ((text = queue.pollFirst()) != null) {
        sink.write(text);
      }
    }
    queuedChars = 0;
  }

  public long queuedChars() {
    return queuedChars;
  }

  public void clear() {
    for (ArrayDeque<String> queue : queues) {
      queue.clear();
    }
    queuedChars = 0;
  }
}
