package io.switchboard.relay;

import io.switchboard.relay.history.LoadedRooms;
import io.switchboard.relay.room.Room;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Every shard's rooms as one view: which shard owns a room (a stable hash of its name), counts
 * summed over shards, and reads run on the owner's loop. Counts and {@link #get} may be called from
 * any loop; a {@link Room} they return is the owner's to touch (tests may read it once it is quiet).
 */
public final class RoomDirectory implements LoadedRooms {
  private final List<ShardLoop> loops;

  RoomDirectory(List<ShardLoop> loops) {
    this.loops = loops;
  }

  /** The loop that owns {@code room}: the same for a name in every process with as many loops. */
  ShardLoop owner(String room) {
    return loops.get(shardOf(room, loops.size()));
  }

  /** {@link String#hashCode} is specified, so the placement is stable across processes and restarts. */
  static int shardOf(String room, int shards) {
    return Math.floorMod(room.hashCode(), shards);
  }

  public Room get(String name) {
    return owner(name).rooms.rooms().get(name);
  }

  public int size() {
    int n = 0;
    for (ShardLoop loop : loops) {
      n += loop.rooms.rooms().size();
    }
    return n;
  }

  /** Loaded plus loading rooms over all shards: what {@code maxRooms} bounds. */
  public int sizeWithLoading() {
    int n = 0;
    for (ShardLoop loop : loops) {
      n += loop.rooms.rooms().sizeWithLoading();
    }
    return n;
  }

  public boolean loadedOrLoading(String name) {
    return owner(name).rooms.rooms().loadedOrLoading(name);
  }

  /** A snapshot of the loaded rooms of every shard. */
  public List<Room> rooms() {
    List<Room> all = new ArrayList<>();
    for (ShardLoop loop : loops) {
      loop.rooms.rooms().rooms().forEach(all::add);
    }
    return all;
  }

  /** How many rooms each shard holds, by shard index. */
  public int[] sizes() {
    int[] sizes = new int[loops.size()];
    for (ShardLoop loop : loops) {
      sizes[loop.index] = loop.rooms.rooms().size();
    }
    return sizes;
  }

  @Override
  public <T> Future<T> read(String room, Function<Room, Future<T>> read) {
    ShardLoop owner = owner(room);
    return owner.call(() -> read.apply(owner.rooms.rooms().get(room)));
  }
}
