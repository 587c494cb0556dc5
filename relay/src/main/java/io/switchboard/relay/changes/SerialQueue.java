package io.switchboard.relay.changes;

import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.function.Supplier;

/**
 * Runs asynchronous steps one after another: the next starts when the previous one's future
 * completes. A room's changes go through one, so revs commit (and go out) in the order they were
 * given: a client that saw rev 8 has seen every rev before it. Single-threaded (the room's loop).
 */
public final class SerialQueue {
  private final int max;
  private final ArrayDeque<Supplier<Future<?>>> waiting = new ArrayDeque<>();
  private boolean running;

  public SerialQueue(int max) {
    this.max = max;
  }

  /** @return false (nothing queued) when {@code max} steps wait already */
  public boolean submit(Supplier<Future<?>> step) {
    if (waiting.size() >= max) {
      return false;
    }
    waiting.add(step);
    if (!running) {
      next();
    }
    return true;
  }

  private void next() {
    Supplier<Future<?>> step = waiting.poll();
    if (step == null) {
      running = false;
      return;
    }
    running = true;
    Future<?> done;
    try {
      done = step.get();
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    done.onComplete(ar -> next());
  }
}
