package io.switchboard.relay.session;

import io.switchboard.protocol.ServerFrame.Priority;
import java.util.ArrayDeque;

/**
 * Frames waiting for a connection's socket, one FIFO per {@link Priority}: control frames overtake
 * live messages, which overtake history pages. Bounded: what waits here plus what the socket's
 * Netty buffer still holds (bytes written, not yet taken by the kernel) never passes
 * {@code maxChars} when a frame has to wait — past it the consumer is cut off. The one exception
 * is a frame that finds nothing waiting and the socket under its high-water mark: it is written
 * whatever its size, so a history page bigger than the bound still reaches a client that reads.
 * Per connection the relay therefore holds at most max(maxChars, high-water mark + one frame).
 */
public final class OutboundQueue {
  /** Where frames go; {@link #full()} mirrors the socket's own write queue (Netty's watermark). */
  public interface Sink {
    boolean full();

    /** Bytes the socket holds that it has not handed to the kernel yet. */
    long pendingBytes();

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
    if (queuedChars + sink.pendingBytes() + text.length() > maxChars) {
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

  /** What this connection costs on the way out: queued characters plus the socket's unflushed bytes. */
  public long held(Sink sink) {
    return queuedChars + sink.pendingBytes();
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
