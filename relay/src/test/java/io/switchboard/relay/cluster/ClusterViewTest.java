package io.switchboard.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The membership view's bookkeeping, without a cluster: what its node events do. */
class ClusterViewTest {

  private static final class Recorder implements ClusterView.Listener {
    final List<String> events = new ArrayList<>();

    @Override
    public void joined(String node) {
      events.add("+" + node);
    }

    @Override
    public void left(String node) {
      events.add("-" + node);
    }
  }

  @Test
  void joinsAndLeavesChangeMembersAndPlacementAndTellListenersOnce() {
    ClusterView view = new ClusterView("b", List.of("a"), null);
    Recorder r = new Recorder();
    view.addListener(r);
    assertThat(view.placement().nodes()).containsExactly("a", "b");

    view.joined("c");
    view.joined("c"); // the snapshot after the listener repeats what an event said
    view.left("a");
    view.left("a");
    view.left("zz"); // never a member
    assertThat(r.events).containsExactly("+c", "-a");
    assertThat(view.placement().nodes()).containsExactly("b", "c");
    assertThat(view.size()).isEqualTo(2);
    RoomPlacement expected = new RoomPlacement(List.of("c", "b"));
    for (int i = 0; i < 200; i++) {
      assertThat(view.owner("room" + i)).isEqualTo(expected.owner("room" + i));
    }
  }

  @Test
  void aNodeNeverDropsItselfFromItsOwnView() {
    ClusterView view = new ClusterView("self", List.of("other"), null);
    view.left("self");
    assertThat(view.placement().nodes()).containsExactly("other", "self");
  }

  @Test
  void aPlacementSnapshotStaysWhatItWasWhileTheViewMoves() {
    ClusterView view = new ClusterView("a", List.of("b", "c"), null);
    RoomPlacement before = view.placement();
    view.left("c");
    assertThat(before.nodes()).containsExactly("a", "b", "c");
    assertThat(view.placement().nodes()).containsExactly("a", "b");
  }

  @Test
  void aSingleRelayIsAClusterOfOneThatOwnsEveryRoom() {
    ClusterView view = ClusterView.single("n-1");
    assertThat(view.clustered()).isFalse();
    assertThat(view.owner("any")).isEqualTo("n-1");
    assertThat(view.members().result()).extracting(ClusterView.Member::node).containsExactly("n-1");
  }

  @Test
  void aMemberThatLeftHasItsIncarnationDepartedUntilItIsAMemberAgain() {
    ClusterView view = new ClusterView("self", List.of(), null);
    view.joined("a");
    view.learned("a", "n-aaa");
    assertThat(view.departed("n-aaa")).as("a member").isFalse();
    view.left("a");
    assertThat(view.departed("n-aaa")).isTrue();
    assertThat(view.departed("n-other")).isFalse();
    assertThat(view.departed(null)).isFalse();
    // a member merged back after a split brain runs the same incarnation: its leases are live again
    view.joined("a2");
    view.learned("a2", "n-aaa");
    assertThat(view.departed("n-aaa")).isFalse();
    // a member whose incarnation was never read leaves nothing to take over early
    view.joined("b");
    view.left("b");
    assertThat(view.departed("b")).isFalse();
  }

  @Test
  void departedIncarnationsAreBoundedInCountAndAge() {
    long[] now = {0};
    Departed departed = new Departed(() -> now[0]);
    for (int i = 0; i < Departed.MAX_ENTRIES + 10; i++) {
      departed.add("n-" + i);
    }
    assertThat(departed.size()).isEqualTo(Departed.MAX_ENTRIES);
    assertThat(departed.contains("n-0")).as("the oldest went first").isFalse();
    assertThat(departed.contains("n-" + (Departed.MAX_ENTRIES + 9))).isTrue();
    now[0] = Departed.KEEP_NANOS - 1;
    departed.add("n-late");
    assertThat(departed.contains("n-10")).as("one more pushed the oldest out").isFalse();
    assertThat(departed.contains("n-11")).isTrue();
    now[0] = Departed.KEEP_NANOS;
    assertThat(departed.contains("n-11")).as("past the age bound").isFalse();
    assertThat(departed.contains("n-late")).isTrue();
    assertThat(departed.size()).isEqualTo(1);
  }

  @Test
  void aDrainingMemberLeavesThePlacementButNotTheMembers() {
    ClusterView view = new ClusterView("a", List.of("b", "c"), null);
    Recorder r = new Recorder();
    view.addListener(r);
    view.draining("c");
    view.draining("c");
    view.draining("zz"); // not a member: ignored
    assertThat(view.placement().nodes()).containsExactly("a", "b");
    assertThat(view.size()).as("still a member until it leaves").isEqualTo(3);
    RoomPlacement two = new RoomPlacement(List.of("a", "b"));
    for (int i = 0; i < 200; i++) {
      assertThat(view.owner("room" + i)).isEqualTo(two.owner("room" + i));
    }
    view.left("c");
    view.joined("c"); // a new start of it is placed again
    assertThat(view.placement().nodes()).containsExactly("a", "b", "c");
    assertThat(r.events).containsExactly("-c", "+c");
    // a relay draining itself places every room elsewhere, unless nobody else is left
    assertThat(view.announceDraining().succeeded()).isTrue();
    assertThat(view.placement().nodes()).containsExactly("b", "c");
    ClusterView alone = ClusterView.single("x");
    alone.announceDraining();
    assertThat(alone.owner("any")).isEqualTo("x");
  }
}
