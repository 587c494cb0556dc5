package io.switchboard.relay.history;

import io.switchboard.relay.room.Room;
import io.vertx.core.Future;
import java.util.function.Function;

/** The rooms this node has in memory, each read on the event loop that owns it. */
public interface LoadedRooms {
  /**
   * Runs {@code read} where the room lives, with the room, or with null when it is not loaded here;
   * the result completes on the caller's context.
   */
  <T> Future<T> read(String room, Function<Room, Future<T>> read);
}
