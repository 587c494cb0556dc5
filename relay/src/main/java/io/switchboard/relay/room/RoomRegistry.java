package io.switchboard.relay.room;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.store.RoomLeases.Busy;
import io.switchboard.relay.store.RoomLeases.Claim;
import io.switchboard.relay.store.RoomLeases.Claimed;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The rooms this node sequences. A room is claimed in storage (its epoch and head read there) on
 * first use, once however many joins wait for it, and released when evicted idle with nothing left
 * to write. A room another live relay owns is claimed again when its lease runs out, waiting at
 * most 1.5 leases before the join fails with {@code room_unavailable}. A room being handed over to
 * another relay ({@link #startMoving}) takes no join and no message ({@code room_moved}) until it is
 * unloaded.
 */
public final class RoomRegistry {
  /** How long a blank room stays after it was last seen empty: a leave and rejoin costs no reload. */
  public static final long BLANK_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

  /** Storage side of room ownership ({@link io.switchboard.relay.store.RoomLeases}). */
  public interface Claimer {
    Future<Claim> claim(String room);

    Future<Void> release(List<String> rooms, List<String> epochs, List<Long> heads);

    /** The room's read cursors to load with it (user → seq, oldest move first). */
    default Future<Map<String, Long>> cursors(String room) {
      return Future.succeededFuture(Map.of());
    }
  }

  /** Runs a task on the registry's event loop after a delay. */
  public interface Timers {
    void schedule(long delayMs, Runnable task);
  }

  // Concurrent maps only so that other loops may read them (admission counts, tests, metrics);
  // every write happens on the registry's own loop.
  private final Map<String, Room> rooms = new ConcurrentHashMap<>();
  /**
   * Rooms that may be blank, with when they were last seen empty, oldest first. The tick only
   * looks at these, never at every room; an entry stale because someone joined is dropped when met.
   */
  private final LinkedHashMap<Room, Long> blankSince = new LinkedHashMap<>();
  private final Map<String, Future<Room>> loading = new ConcurrentHashMap<>();
  // a claim of a room must not overtake its release, or the release would undo the claim
  private final Map<String, Future<Void>> releasing = new HashMap<>();
  /** Rooms being handed over, each with what waits for its unstored messages to be written. */
  private final Map<String, Promise<Void>> moving = new HashMap<>();
  private final Claimer claimer;
  private final Timers timers;
  private final LongSupplier nanoClock;
  private final long leaseMs;
  private final int ringSize;
  private final int dedupeWindow;
  private final int catchUpMax;
  private final Consumer<Membership> unreadScheduler;

  public RoomRegistry(Claimer claimer, Timers timers, LongSupplier nanoClock, long leaseMs, int ringSize,
      int dedupeWindow, int catchUpMax, Consumer<Membership> unreadScheduler) {
    this.claimer = claimer;
    this.timers = timers;
    this.nanoClock = nanoClock;
    this.leaseMs = leaseMs;
    this.ringSize = ringSize;
    this.dedupeWindow = dedupeWindow;
    this.catchUpMax = catchUpMax;
    this.unreadScheduler = unreadScheduler;
  }

  public Room get(String name) {
    return rooms.get(name);
  }

  public Future<Room> open(String name, long nowNanos) {
    if (moving.containsKey(name)) {
      return Future.failedFuture(moved(name));
    }
    Room room = rooms.get(name);
    if (room != null) {
      return Future.succeededFuture(room);
    }
    Future<Room> pending = loading.get(name);
    if (pending != null) {
      return pending;
    }
    Promise<Room> load = Promise.promise();
    loading.put(name, load.future());
    long deadline = nowNanos + TimeUnit.MILLISECONDS.toNanos(leaseMs * 3 / 2);
    Future<Void> released = releasing.getOrDefault(name, Future.succeededFuture());
    released.onComplete(v -> claim(name, load, nowNanos, deadline));
    return load.future().andThen(done -> loading.remove(name));
  }

  private void claim(String name, Promise<Room> load, long openedNanos, long deadlineNanos) {
    claimer.claim(name).onComplete(ar -> {
      if (ar.failed()) {
        load.fail(ar.cause());
      } else if (ar.result() instanceof Claimed c) {
        claimer.cursors(name).onComplete(cursors -> {
          if (cursors.failed()) {
            load.fail(cursors.cause());
            return;
          }
          Room loaded = new Room(name, c.epoch(), c.epochs(), c.head(), ringSize, dedupeWindow, catchUpMax,
              unreadScheduler, nanoClock.getAsLong());
          loaded.rev(c.rev());
          loaded.cursors().load(cursors.result(), c.head());
          rooms.put(name, loaded);
          // a join that claimed it may never arrive (its connection closed meanwhile)
          emptied(loaded, Math.max(openedNanos, nanoClock.getAsLong()));
          load.complete(loaded);
        });
      } else {
        long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - nanoClock.getAsLong());
        if (leftMs <= 0) {
          load.fail(new ProtocolException(ErrorCode.ROOM_UNAVAILABLE,
              "room '" + name + "' is sequenced by another relay; retry later"));
          return;
        }
        long wait = Math.min(Math.max(((Busy) ar.result()).retryInMs() + 10, 10), leftMs);
        timers.schedule(wait, () -> claim(name, load, openedNanos, deadlineNanos));
      }
    });
  }

  public int size() {
    return rooms.size();
  }

  /** The refusal of a join or message of a room being handed over: the frame had no effect. */
  public static ProtocolException moved(String name) {
    return new ProtocolException(ErrorCode.ROOM_MOVED,
        "room '" + name + "' is moving to another relay of the cluster; join it again");
  }

  /** The load of a room under way, or null. */
  public Future<Room> loading(String name) {
    return loading.get(name);
  }

  /**
   * The loaded room stops taking joins and messages; @return what completes once every message it
   * sequenced is stored (failed when the room is dropped meanwhile), or null when it is moving already
   */
  public Future<Void> startMoving(Room room) {
    if (moving.containsKey(room.name())) {
      return null;
    }
    Promise<Void> settled = Promise.promise();
    moving.put(room.name(), settled);
    settled(room);
    return settled.future();
  }

  /** The room is no longer moving (unloaded, or it stays here after all). */
  public void stopMoving(String name) {
    Promise<Void> settled = moving.remove(name);
    if (settled != null) {
      settled.tryFail("room '" + name + "' stopped moving");
    }
  }

  public boolean moving(String name) {
    return moving.containsKey(name);
  }

  /** A message of the room was stored: a handover waiting for it may go on. */
  public void settled(Room room) {
    Promise<Void> settled = moving.get(room.name());
    if (settled != null && room.unstoredCount() == 0 && rooms.get(room.name()) == room) {
      settled.tryComplete();
    }
  }

  /**
   * Gives a moving room's lease back cleanly, every seq up to its head being stored: the next owner
   * keeps the epoch. A claim here waits for it, like one behind any release.
   */
  public Future<Void> handOff(Room room) {
    Future<Void> done = claimer.release(List.of(room.name()), List.of(room.epoch()), List.of(room.head()));
    releasing.put(room.name(), done);
    done.onComplete(v -> releasing.remove(room.name(), done));
    return done;
  }

  /** Loaded rooms plus rooms being loaded: what the global room bound counts (readable from any loop). */
  public int sizeWithLoading() {
    return rooms.size() + loading.size();
  }

  /** Whether a join of this room would find it loaded or being loaded (so it costs no new load); any loop. */
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
   * Unloads rooms blank for {@link #BLANK_GRACE_NANOS}: reloading one costs a claim, keeping it
   * costs memory that any client could make grow by joining names at random.
   *
   * @return how many rooms were evicted
   */
  public int evictBlank(long nowNanos) {
    List<Room> evicted = new ArrayList<>();
    for (Iterator<Map.Entry<Room, Long>> it = blankSince.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Room, Long> e = it.next();
      Room room = e.getKey();
      boolean current = rooms.get(room.name()) == room && room.blank() && !moving.containsKey(room.name());
      if (current && nowNanos - e.getValue() < BLANK_GRACE_NANOS) {
        break; // every later entry is younger
      }
      it.remove();
      if (current) {
        rooms.remove(room.name());
        evicted.add(room);
      }
    }
    // released like any idle room: the next claim keeps its epoch
    release(evicted);
    return evicted.size();
  }

  public Iterable<Room> rooms() {
    return rooms.values();
  }

  /**
   * Forgets a room this node may no longer sequence (its lease was taken over); its members must
   * be dropped by the caller. @return false when that room object was already gone
   */
  public boolean drop(Room room) {
    Promise<Void> settled = moving.get(room.name());
    boolean dropped = rooms.remove(room.name(), room);
    if (dropped && settled != null) {
      settled.tryFail("room '" + room.name() + "' was dropped while moving");
    }
    return dropped;
  }

  /** @return how many rooms were evicted */
  public int evictIdle(long nowNanos, long idleNanos) {
    List<Room> evicted = new ArrayList<>();
    for (Iterator<Room> it = rooms.values().iterator(); it.hasNext(); ) {
      Room room = it.next();
      if (room.evictable(nowNanos, idleNanos) && !moving.containsKey(room.name())) {
        it.remove();
        evicted.add(room);
      }
    }
    release(evicted);
    return evicted.size();
  }

  /** Releases every room with nothing left to write, in one statement; for a graceful shutdown. */
  public Future<Void> releaseAll() {
    List<Room> idle = new ArrayList<>();
    for (Room room : rooms.values()) {
      if (room.unstoredCount() == 0) {
        idle.add(room);
      }
    }
    return release(idle);
  }

  private Future<Void> release(List<Room> released) {
    if (released.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> names = new ArrayList<>(released.size());
    List<String> epochs = new ArrayList<>(released.size());
    List<Long> heads = new ArrayList<>(released.size());
    for (Room room : released) {
      names.add(room.name());
      epochs.add(room.epoch());
      heads.add(room.head());
    }
    // a failed release only leaves the lease to run out (or, on the embedded database, an epoch change)
    Future<Void> done = claimer.release(names, epochs, heads).recover(e -> Future.succeededFuture());
    for (String name : names) {
      releasing.put(name, done);
    }
    done.onComplete(v -> names.forEach(name -> releasing.remove(name, done)));
    return done;
  }
}
