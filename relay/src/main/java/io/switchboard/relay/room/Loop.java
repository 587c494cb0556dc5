package io.switchboard.relay.room;

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
}
