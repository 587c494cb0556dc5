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

  private static final int PRIORITIES = Priority.values().length;

  private final long maxChars;
  /** Created on the first frame that has to wait: most sockets always have room, idle ones always. */
  private ArrayDeque<String>[] queues;
  private long queuedChars;

  public OutboundQueue(long maxChars) {
    this.maxChars = maxChars;
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
    if (queues == null) {
      queues = newQueues();
    }
    queues[priority.ordinal()].addLast(text);
    queuedChars += text.length();
    drain(sink);
    return true;
  }

  @SuppressWarnings("unchecked")
  private static ArrayDeque<String>[] newQueues() {
    ArrayDeque<String>[] queues = new ArrayDeque[PRIORITIES];
    for (int i = 0; i < PRIORITIES; i++) {
      queues[i] = new ArrayDeque<>();
    }
    return queues;
  }

  /** Moves frames to the sink, most urgent first, until it is full or nothing waits. */
  public void drain(Sink sink) {
    if (queues == null) {
      return;
    }
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
    if (queues == null) {
      return;
    }
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
    if (queues != null) {
      // emptied, not just dropped: a drain loop running on the old array must stop too
      for (ArrayDeque<String> queue : queues) {
        queue.clear();
      }
      queues = null;
    }
    queuedChars = 0;
  }
}
