package io.switchboard.relay.room;

import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The rooms this node sequences. A room is loaded (its head seq read from storage) on first use,
 * once however many joins wait for it, and evicted when idle with nothing left to write — or, when
 * nothing was ever written to it since it loaded, a few seconds after it was last empty.
 */
public final class RoomRegistry {
  /** How long a blank room stays after it was last seen empty: a leave and rejoin costs no reload. */
  public static final long BLANK_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);
  private final Map<String, Room> rooms = new HashMap<>();
  /**
   * Rooms that may be blank, with when they were last seen empty, oldest first. The tick only
   * looks at these, never at every room; an entry stale because someone joined is dropped when met.
   */
  private final LinkedHashMap<Room, Long> blankSince = new LinkedHashMap<>();
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
          // a join that loaded it may never arrive (its connection closed meanwhile)
          emptied(loaded, nowNanos);
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

  /** Loaded rooms plus rooms being loaded: what the global room bound counts. */
  public int sizeWithLoading() {
    return rooms.size() + loading.size();
  }

  /** Whether a join of this room would find it loaded or being loaded (so it costs no new load). */
  public boolean loadedOrLoading(String name) {
    return rooms.containsKey(name) || loading.containsKey(name);
  }

  /** A member left the room (or none came): if it is blank now, it becomes a candidate for {@link #evictBlank}. */
  public void emptied(Room room, long nowNanos) {
    if (room.blank()) {
      blankSince.remove(room); // re-inserted last: the map stays ordered by time
      blankSince.put(room, nowNanos);
    }
  }

  /**
   * Unloads rooms blank for {@link #BLANK_GRACE_NANOS}: reloading one costs a head read, keeping it
   * costs memory that any client could make grow by joining names at random.
   *
   * @return how many rooms were evicted
   */
  public int evictBlank(long nowNanos) {
    int evicted = 0;
    for (Iterator<Map.Entry<Room, Long>> it = blankSince.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Room, Long> e = it.next();
      Room room = e.getKey();
      boolean current = rooms.get(room.name()) == room && room.blank();
      if (current && nowNanos - e.getValue() < BLANK_GRACE_NANOS) {
        break; // every later entry is younger
      }
      it.remove();
      if (current) {
        rooms.remove(room.name());
        evicted++;
      }
    }
    return evicted;
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
