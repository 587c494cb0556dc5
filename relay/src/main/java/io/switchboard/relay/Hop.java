package io.switchboard.relay;

import io.switchboard.relay.room.Loop;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tasks one loop hands another, many at a time: while a hand-over is pending, new tasks join it
 * instead of waking the target loop again, so a burst of messages to the batch writer (or of its
 * acks back) costs one wake-up, not one per message. In order for a single producer thread; a task
 * for the producer's own loop runs at once, as {@link Loop#execute} does.
 */
final class Hop {
  private final Loop target;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean pending = new AtomicBoolean();

  Hop(Loop target) {
    this.target = target;
  }

  void execute(Runnable task) {
    if (target.inLoop()) {
      task.run();
      return;
    }
    tasks.add(task);
    // a failed CAS means a hand-over is queued that has not started draining: it will see this task
    if (pending.compareAndSet(false, true)) {
      target.execute(this::drain);
    }
  }

  private void drain() {
    pending.set(false);
    for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
      task.run();
    }
  }
}
