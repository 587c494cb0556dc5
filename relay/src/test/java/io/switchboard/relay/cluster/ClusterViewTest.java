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
}
