package io.switchboard.relay.room;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.RoomMode;
import io.switchboard.relay.auth.Identity;
import io.switchboard.relay.session.OutboundQueue;
import io.switchboard.relay.session.RecordingConnection;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReadCursorsTest {

  @Test
  void cursorsOnlyMoveForwardAndEachMoveIsReportedOnce() {
    ReadCursors c = new ReadCursors();
    assertThat(c.advance("ann", 0)).as("a first cursor, even at 0").isTrue();
    assertThat(c.advance("ann", 5)).isTrue();
    assertThat(c.advance("ann", 5)).isFalse();
    assertThat(c.advance("ann", 3)).isFalse();
    assertThat(c.advance("bob", 2)).isTrue();
    assertThat(c.advance("ann", 7)).isTrue();
    assertThat(c.takeMoved()).containsExactly(Map.entry("ann", 7L), Map.entry("bob", 2L));
    assertThat(c.takeMoved()).isEmpty();
    assertThat(c.get("ann")).isEqualTo(7);
  }

  @Test
  void loadedCursorsAreClampedToTheHead() {
    ReadCursors c = new ReadCursors();
    Map<String, Long> stored = new LinkedHashMap<>();
    stored.put("ann", 10L);
    stored.put("bob", 40L); // storage ahead of a room an unclean takeover left at 30
    c.load(stored, 30);
    assertThat(c.get("bob")).isEqualTo(30);
    assertThat(c.takeMoved()).as("loading is no move").isEmpty();
  }

  @Test
  void recentHoldsTheNewestMovesAndAlwaysTheJoinersOwn() {
    ReadCursors c = new ReadCursors();
    for (int i = 0; i < 300; i++) {
      c.advance("u" + i, i);
    }
    c.advance("u10", 500); // moved last: among the newest now
    Map<String, Long> recent = c.recent(256, "u0");
    assertThat(recent).hasSize(256).containsEntry("u0", 0L).containsEntry("u10", 500L).containsEntry("u299", 299L);
    assertThat(recent).doesNotContainKey("u45").as("the oldest of the newest made room for u0").containsKey("u46");
    Map<String, Long> mine = c.recent(256, "u299");
    assertThat(mine).hasSize(256).doesNotContainKey("u44").containsKey("u45");
    assertThat(c.recent(256, "nobody")).hasSize(256);
    assertThat(new ReadCursors().recent(256, "ann")).isEmpty();
  }

  @Test
  void typingOnGoesOutAtMostOncePerSecondPerMembership() {
    Session s = new Session("s", new RecordingConnection(), new OutboundQueue(1 << 20), new TokenBucket(100, 100, 0), 5, 0);
    s.identity(Identity.guest("ann", "t", Long.MAX_VALUE));
    Room room = FixedClaims.registry(0, 8, 16, 100, m -> { }).open("typing", 0).result();
    Membership m = room.join(s, RoomMode.ACTIVE);
    long t0 = 5_000_000_000L;
    assertThat(m.typingDue(t0)).isTrue();
    assertThat(m.typingDue(t0 + 999_999_999L)).isFalse();
    assertThat(m.typingDue(t0 + 1_000_000_000L)).isTrue();
    assertThat(m.typingDue(t0 + 1_500_000_000L)).isFalse();
    m.typingStopped(); // cleared the field, types again: news, not a repeat
    assertThat(m.typingDue(t0 + 1_600_000_000L)).isTrue();
    assertThat(m.typingDue(t0 + 1_700_000_000L)).isFalse();
  }
}
