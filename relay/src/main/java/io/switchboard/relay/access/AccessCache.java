package io.switchboard.relay.access;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The relay's copy of rooms' visibility and users' roles, so that a join costs no query once warm.
 * Bounded: three LRUs of at most {@code capacity} entries each, so a flood of strangers joining
 * distinct rooms (each leaves a negative entry) evicts old entries instead of growing memory.
 *
 * <p>Invalidation by stamps: every change of a room takes the next stamp of a counter; an entry is
 * valid while no change of its room is newer than the {@link #ticket} its load took before querying.
 * So a load that read the old state before a change but completes after it is not cached (the race a
 * plain "remove on change" loses), and a room change invalidates all its users' entries without
 * scanning them. A room whose stamp was evicted counts as changed at the highest evicted stamp: at
 * worst a query too many, never a stale answer. Confined to the relay's event loop; not thread-safe.
 */
final class AccessCache {
  private record RoomUser(String room, String user) {}

  /** {@code visibility} null: nobody created the room (the default applies, nobody is listed). */
  private record RoomEntry(Visibility visibility, boolean encrypted, long ticket) {}

  private record UserEntry(Role role, long ticket) {}

  private final Lru<String, RoomEntry> rooms;
  private final Lru<RoomUser, UserEntry> users;
  private final Lru<String, Long> changed;
  private long clock;
  private long evictedStamp;

  AccessCache(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1");
    }
    rooms = new Lru<>(capacity, null);
    users = new Lru<>(capacity, null);
    changed = new Lru<>(capacity, stamp -> evictedStamp = Math.max(evictedStamp, stamp));
  }

  /** Taken by a load before it queries; hand it back to {@link #put}. */
  long ticket() {
    return clock;
  }

  /** A change of {@code room} committed: every entry of it loaded before now is stale. */
  void changed(String room) {
    changed.put(room, ++clock);
    rooms.remove(room);
  }

  /** The cached access, or null when a query is needed. */
  Access lookup(String room, String user, Visibility fallback) {
    RoomEntry r = rooms.get(room);
    if (r == null || !valid(room, r.ticket())) {
      return null;
    }
    if (r.visibility() == null) {
      return new Access(fallback, null);
    }
    UserEntry u = users.get(new RoomUser(room, user));
    return u == null || !valid(room, u.ticket()) ? null : new Access(r.visibility(), u.role(), r.encrypted());
  }

  /** Caches a load's result unless its room changed since the load's {@code ticket}. */
  void put(String room, String user, Visibility visibility, Role role, boolean encrypted, long ticket) {
    if (!valid(room, ticket)) {
      return;
    }
    rooms.put(room, new RoomEntry(visibility, encrypted, ticket));
    if (visibility != null) {
      users.put(new RoomUser(room, user), new UserEntry(role, ticket));
    }
  }

  private boolean valid(String room, long ticket) {
    Long stamp = changed.get(room);
    return (stamp == null ? evictedStamp : stamp) <= ticket;
  }

  /** Entries held, rooms plus users plus change stamps (for the bound's test and a gauge). */
  int size() {
    return rooms.size() + users.size() + changed.size();
  }

  private static final class Lru<K, V> extends LinkedHashMap<K, V> {
    private final int capacity;
    private final Consumer<V> evicted;

    Lru(int capacity, Consumer<V> evicted) {
      super(16, 0.75f, true);
      this.capacity = capacity;
      this.evicted = evicted;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
      if (size() <= capacity) {
        return false;
      }
      if (evicted != null) {
        evicted.accept(eldest.getValue());
      }
      return true;
    }
  }
}
