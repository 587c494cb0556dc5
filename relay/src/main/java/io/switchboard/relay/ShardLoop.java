package io.switchboard.relay;

import io.switchboard.relay.room.Loop;
import io.switchboard.relay.session.Session;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One event loop of the relay: the connections it accepted and the rooms it owns (its
 * {@link RoomShard}). Everything of either is touched only on this loop's thread; other loops reach
 * it through {@link #execute} (a task on this loop, in submission order) or {@link #call}.
 */
final class ShardLoop implements Loop {
  final int index;
  final ContextInternal context;
  /** Set once, before the relay takes connections. */
  RoomShard rooms;
  /** Its connections; concurrent only so that counting them from elsewhere is safe. */
  final Set<Session> sessions = ConcurrentHashMap.newKeySet();

  ShardLoop(int index, ContextInternal context) {
    this.index = index;
    this.context = context;
  }

  @Override
  public boolean inLoop() {
    return context.nettyEventLoop().inEventLoop();
  }

  /** Runs the task on this loop: at once when called here (no hop), else after what was submitted before. */
  @Override
  public void execute(Runnable task) {
    if (inLoop()) {
      task.run();
    } else {
      context.runOnContext(v -> task.run());
    }
  }

  /** Runs {@code op} on this loop; its result completes on the caller's context. */
  <T> Future<T> call(Supplier<Future<T>> op) {
    if (inLoop()) {
      return op.get();
    }
    ContextInternal caller = (ContextInternal) Vertx.currentContext();
    Promise<T> result = caller != null ? caller.promise() : Promise.promise();
    context.runOnContext(v -> {
      try {
        op.get().onComplete(result);
      } catch (RuntimeException e) {
        result.fail(e);
      }
    });
    return result.future();
  }
}
