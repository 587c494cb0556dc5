package io.switchboard.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Rendezvous placement's promises, over many rooms and random membership changes. */
class RoomPlacementTest {
  private static final int ROOMS = 20_000;
  private final Random random = new Random(15);
  private final List<String> rooms = IntStream.range(0, ROOMS).mapToObj(i -> "room-" + i + "-" + random.nextInt()).toList();

  private List<String> nodes(int n) {
    List<String> nodes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      nodes.add(new UUID(random.nextLong(), random.nextLong()).toString());
    }
    return nodes;
  }

  private Map<String, String> owners(RoomPlacement p) {
    Map<String, String> owners = new HashMap<>();
    rooms.forEach(r -> owners.put(r, p.owner(r)));
    return owners;
  }

  @Test
  void everyNodeComputesTheSameOwnerWhateverOrderItLearnedTheMembersIn() {
    List<String> nodes = nodes(5);
    List<String> shuffled = new ArrayList<>(nodes);
    Collections.shuffle(shuffled, random);
    shuffled.add(nodes.get(2)); // a duplicate report changes nothing
    assertThat(owners(new RoomPlacement(shuffled))).isEqualTo(owners(new RoomPlacement(nodes)));
  }

  @Test
  void theOwnerIsFixedByTheNamesAloneNotByThisJvm() {
    // golden values, computed independently (FNV-1a 64 over UTF-16LE bytes, MurmurHash3 fmix64, in
    // Python): a change of hash function would split a cluster of old and new relays
    RoomPlacement p = new RoomPlacement(List.of("node-a", "node-b", "node-c"));
    assertThat(RoomPlacement.hash("lobby")).isEqualTo(0x923e609ac827abbfL);
    assertThat(List.of(p.owner("lobby"), p.owner("방"), p.owner("room-1"), p.owner("")))
        .containsExactly("node-c", "node-b", "node-a", "node-a");
  }

  @Test
  void losingANodeMovesOnlyItsRoomsAndSpreadsThemOverTheSurvivors() {
    for (int round = 0; round < 10; round++) {
      int n = 2 + random.nextInt(7);
      List<String> nodes = nodes(n);
      Map<String, String> before = owners(new RoomPlacement(nodes));
      String lost = nodes.get(random.nextInt(n));
      List<String> survivors = new ArrayList<>(nodes);
      survivors.remove(lost);
      Map<String, String> after = owners(new RoomPlacement(survivors));
      Map<String, Integer> movedTo = new HashMap<>();
      for (String room : rooms) {
        if (before.get(room).equals(lost)) {
          movedTo.merge(after.get(room), 1, Integer::sum);
        } else {
          assertThat(after.get(room)).as(room + " was on a survivor").isEqualTo(before.get(room));
        }
      }
      assertThat(movedTo.keySet()).as("the lost node's rooms go to every survivor").hasSize(n - 1);
    }
  }

  @Test
  void aJoiningNodeTakesAboutOneNthOfTheRoomsAllFromTheOthers() {
    for (int round = 0; round < 10; round++) {
      int n = 1 + random.nextInt(8);
      List<String> nodes = nodes(n);
      Map<String, String> before = owners(new RoomPlacement(nodes));
      String joined = nodes(1).get(0);
      List<String> grown = new ArrayList<>(nodes);
      grown.add(joined);
      Map<String, String> after = owners(new RoomPlacement(grown));
      int moved = 0;
      for (String room : rooms) {
        if (!after.get(room).equals(before.get(room))) {
          assertThat(after.get(room)).as("a room only ever moves to the new node").isEqualTo(joined);
          moved++;
        }
      }
      double expected = (double) ROOMS / (n + 1);
      assertThat((double) moved).as(n + " -> " + (n + 1) + " nodes").isBetween(expected * 0.9, expected * 1.1);
    }
  }

  @Test
  void roomsAreSpreadEvenlyOverTheMembers() {
    for (int n : new int[] {2, 3, 5, 8}) {
      Map<String, Integer> load = new HashMap<>();
      RoomPlacement p = new RoomPlacement(nodes(n));
      rooms.forEach(r -> load.merge(p.owner(r), 1, Integer::sum));
      double fair = (double) ROOMS / n;
      assertThat(load).hasSize(n);
      load.values().forEach(v -> assertThat((double) v).as(n + " nodes: " + load).isBetween(fair * 0.9, fair * 1.1));
    }
  }

  @Test
  void similarNamesDoNotClusterOnOneNode() {
    // sequential names, and node ids that differ in one character, as counters and UUIDs tend to
    RoomPlacement p = new RoomPlacement(List.of("relay-1", "relay-2", "relay-3"));
    Map<String, Integer> load = new HashMap<>();
    for (int i = 0; i < 3000; i++) {
      load.merge(p.owner("r" + i), 1, Integer::sum);
    }
    load.values().forEach(v -> assertThat(v).as(load.toString()).isBetween(900, 1100));
  }

  @Test
  void aLookupAllocatesNothing() {
    var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    RoomPlacement p = new RoomPlacement(nodes(5));
    String[] names = rooms.toArray(String[]::new);
    long sink = 0;
    for (String r : names) {
      sink += p.owner(r).length(); // warm up
    }
    long thread = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(thread);
    for (int round = 0; round < 5; round++) {
      for (String r : names) {
        sink += p.owner(r).length();
      }
    }
    long allocated = threads.getThreadAllocatedBytes(thread) - before;
    // 100,000 lookups; a single boxed long or iterator per lookup would be megabytes
    assertThat(allocated).as("bytes allocated by 100,000 lookups").isLessThan(64 * 1024);
    assertThat(sink).isPositive();
  }

  @Test
  void noMembersNoOwnerOneMemberOwnsAll() {
    assertThat(new RoomPlacement(List.of()).owner("x")).isNull();
    RoomPlacement one = new RoomPlacement(List.of("only"));
    assertThat(rooms.stream().map(one::owner).distinct()).containsExactly("only");
  }
}
