package io.switchboard.relay.room;

import io.switchboard.protocol.ServerFrame;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * An event loop as rooms see it: {@link #execute} runs a task on it, at once when called there
 * already. Members on one loop share it, so a room hands a message to all of them in one task.
 */
public interface Loop extends Executor {
  /** For connections that live nowhere in particular (unit tests): every task runs at once. */
  Loop DIRECT = new Loop() {
    @Override
    public boolean inLoop() {
      return true;
    }

    @Override
    public void execute(Runnable task) {
      task.run();
    }
  };

  /** Whether the calling thread is this loop's. */
  boolean inLoop();

  /**
   * Hands one live frame, encoded once, to members of this loop, in one task. A loop that stands
   * for another node's connections sends it there once for all of them.
   */
  default void deliver(List<? extends Member> to, String encoded) {
    execute(() -> {
      for (int i = 0, n = to.size(); i < n; i++) {
        to.get(i).sendText(encoded, ServerFrame.Priority.LIVE);
      }
    });
  }
}
