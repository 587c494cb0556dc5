package io.switchboard.relay.cluster;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Which member of a cluster should sequence a room: rendezvous (highest random weight) hashing of
 * the room name over the members' node ids. Every node that sees the same members computes the same
 * owner with no message exchanged; when a member leaves only its rooms move, and a member that joins
 * takes about 1/N of the rooms, all from the others. Placement only says who should claim: the
 * storage fence ({@code RoomLeases}) stays the authority, so two nodes that briefly disagree cannot
 * both commit into one room.
 *
 * <p>Immutable; a lookup hashes the name once and mixes one long per member, allocating nothing.
 */
public final class RoomPlacement {
  private final String[] nodes;
  private final long[] seeds;

  /** @param nodes the members' node ids, in any order (duplicates count once) */
  public RoomPlacement(Collection<String> nodes) {
    this.nodes = nodes.stream().distinct().sorted().toArray(String[]::new);
    this.seeds = new long[this.nodes.length];
    for (int i = 0; i < this.nodes.length; i++) {
      seeds[i] = mix(hash(this.nodes[i]));
    }
  }

  /** The node that should own {@code room}, or null when there are no members. */
  public String owner(String room) {
    long key = hash(room);
    String best = null;
    long bestWeight = 0;
    for (int i = 0; i < nodes.length; i++) {
      long weight = mix(key ^ seeds[i]);
      // unsigned, ties to the smaller id (nodes are sorted): the same answer on every node
      if (best == null || Long.compareUnsigned(weight, bestWeight) > 0) {
        best = nodes[i];
        bestWeight = weight;
      }
    }
    return best;
  }

  /** The members, sorted. */
  public List<String> nodes() {
    return List.of(nodes);
  }

  public int size() {
    return nodes.length;
  }

  public boolean contains(String node) {
    return Arrays.binarySearch(nodes, node) >= 0;
  }

  /**
   * 64-bit FNV-1a over the UTF-16 units: fixed by this code, unlike {@code String.hashCode}'s 32
   * bits, and the same on every JVM.
   */
  static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      h = (h ^ (c & 0xff)) * 0x100000001b3L;
      h = (h ^ (c >>> 8)) * 0x100000001b3L;
    }
    return h;
  }

  /** MurmurHash3's 64-bit finaliser: every input bit reaches every output bit. */
  static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
