package io.switchboard.relay.room;

import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The rooms this node sequences. A room is loaded (its head seq read from storage) on first use,
 * once however many joins wait for it, and evicted when idle with nothing left to write.
 */
public final class RoomRegistry {
  private final Map<String, Room> rooms = new HashMap<>();
  private final Map<String, Future<Room>> loading = new HashMap<>();
  private final Function<String, Future<Long>> headLoader;
  private final int ringSize;
  private final int dedupeWindow;
  private final int catchUpMax;
  private final Consumer<Membership> unreadScheduler;

  public RoomRegistry(Function<String, Future<Long>> headLoader, int ringSize, int dedupeWindow, int catchUpMax,
      Consumer<Membership> unreadScheduler) {
    this.headLoader = headLoader;
    this.ringSize = ringSize;
    this.dedupeWindow = dedupeWindow;
    this.catchUpMax = catchUpMax;
    this.unreadScheduler = unreadScheduler;
  }

  public Room get(String name) {
    return rooms.get(name);
  }

  public Future<Room> open(String name, long nowNanos) {
    Room room = rooms.get(name);
    if (room != null) {
      return Future.succeededFuture(room);
    }
    Future<Room> pending = loading.get(name);
    if (pending != null) {
      return pending;
    }
    Future<Room> load = headLoader.apply(name)
        .map(head -> {
          Room loaded = new Room(name, head, ringSize, dedupeWindow, catchUpMax, unreadScheduler, nowNanos);
          rooms.put(name, loaded);
          return loaded;
        })
        .andThen(done -> loading.remove(name));
    if (!load.isComplete()) {
      loading.put(name, load);
    }
    return load;
  }

  public int size() {
    return rooms.size();
  }

  public Iterable<Room> rooms() {
    return rooms.values();
  }

  /** @return how many rooms were evicted */
  public int evictIdle(long nowNanos, long idleNanos) {
    int evicted = 0;
    for (Iterator<Room> it = rooms.values().iterator(); it.hasNext(); ) {
      if (it.next().evictable(nowNanos, idleNanos)) {
        it.remove();
        evicted++;
      }
    }
    return evicted;
  }
}
