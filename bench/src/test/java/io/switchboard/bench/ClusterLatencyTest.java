package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The cluster scenario's split of deliveries, fed by hand: no relay needed. */
class ClusterLatencyTest {
  private static final long MS = 1_000_000L;

  @Test
  void aDeliveryThroughAnotherPortIsCrossNodeAndOnlyWindowSendsCount() {
    ClusterLatency l = new ClusterLatency();
    l.window(1000 * MS, 2000 * MS);
    l.sent("warm", 1, 900 * MS); // before the window: not measured
    l.sent("a", 1, 1100 * MS);
    l.sent("b", 2, 1200 * MS);
    l.sent("late", 1, 2000 * MS); // the window is half-open
    l.delivered("warm", 1, 1000 * MS);
    l.delivered("a", 1, 1103 * MS); // same port as the sender's
    l.delivered("a", 3, 1107 * MS); // another relay
    l.delivered("b", 1, 1220 * MS);
    l.delivered("late", 1, 2001 * MS);
    l.delivered("unknown", 1, 1500 * MS); // never sent by a client: ignored
    l.delivered(null, 1, 1500 * MS);

    assertThat(l.sentInWindow.sum()).isEqualTo(2);
    assertThat(l.same.getTotalCount()).isEqualTo(1);
    assertThat(l.same.getMaxValue()).isBetween(3 * MS - MS / 100, 3 * MS + MS / 100);
    assertThat(l.cross.getTotalCount()).isEqualTo(2);
    assertThat(l.cross.getMaxValue()).isBetween(20 * MS - MS / 10, 20 * MS + MS / 10);
    assertThat(l.all.getTotalCount()).isEqualTo(3);
    assertThat(l.afterKill.getTotalCount()).isZero();
  }

  @Test
  void afterAKillDeliveriesLeaveTheSteadyFiguresAndCatchUpIsRecorded() {
    ClusterLatency l = new ClusterLatency();
    l.window(0, 10_000 * MS);
    l.sent("before", 1, 100 * MS);
    l.sent("replayed", 1, 4900 * MS);
    l.delivered("before", 2, 110 * MS);
    l.killedAt(5000 * MS);
    l.delivered("replayed", 2, 7000 * MS); // sent before the kill, arrived by a resume after it
    l.caughtUp(3, 1800 * MS);

    assertThat(l.all.getTotalCount()).isEqualTo(1);
    assertThat(l.cross.getTotalCount()).isEqualTo(1);
    assertThat(l.afterKill.getTotalCount()).isEqualTo(1);
    assertThat(l.afterKill.getMaxValue()).isGreaterThan(2000 * MS);
    assertThat(l.catchUp.getTotalCount()).isEqualTo(1);
  }
}
