package io.switchboard.relay.limits;

import java.util.ArrayDeque;

/**
 * At most {@code max} operations at once, and at most {@code maxWaiting} more waiting their turn
 * (FIFO); past that they are refused. The wait absorbs a burst of ordinary requests, the bound keeps
 * a flood from queueing in front of the database pool, which is what makes chat acks wait.
 * Event-loop confined.
 */
public final class ConcurrencyGate {
  private final int max;
  private final int maxWaiting;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int inFlight;

  public ConcurrencyGate(int max, int maxWaiting) {
    if (max < 1 || maxWaiting < 0) {
      throw new IllegalArgumentException("max must be >= 1 and maxWaiting >= 0");
    }
    this.max = max;
    this.maxWaiting = maxWaiting;
  }

  /**
   * Runs {@code operation} now if a slot is free, or queues it; it must call {@link #exit()} when
   * done. @return false when refused (nothing runs)
   */
  public boolean enter(Runnable operation) {
    if (inFlight < max) {
      inFlight++;
      operation.run();
      return true;
    }
    if (waiting.size() >= maxWaiting) {
      return false;
    }
    waiting.addLast(operation);
    return true;
  }

  /** One operation finished: its slot goes to the longest waiting one. */
  public void exit() {
    if (inFlight == 0) {
      throw new IllegalStateException("exit without enter");
    }
    Runnable next = waiting.pollFirst();
    if (next == null) {
      inFlight--;
    } else {
      next.run();
    }
  }

  public int inFlight() {
    return inFlight;
  }

  public int waiting() {
    return waiting.size();
  }
}
