package io.switchboard.relay.cluster;

/**
 * For tests outside this package: the membership events a real cluster manager would deliver to a
 * relay's view (call them on the relay's context, as the manager's events are).
 */
public final class ClusterViews {
  private ClusterViews() {}

  /** {@code node}, running relay incarnation {@code incarnation}, joined and then left {@code view}. */
  public static void joinedAndLeft(ClusterView view, String node, String incarnation) {
    view.joined(node);
    view.learned(node, incarnation);
    view.left(node);
  }

  public static void joined(ClusterView view, String node) {
    view.joined(node);
  }

  public static void left(ClusterView view, String node) {
    view.left(node);
  }
}
