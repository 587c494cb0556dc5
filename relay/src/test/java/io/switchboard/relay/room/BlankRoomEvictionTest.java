package io.switchboard.relay.room;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.RoomMode;
import io.switchboard.relay.auth.Identity;
import io.switchboard.relay.session.OutboundQueue;
import io.switchboard.relay.session.RecordingConnection;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Rooms nothing was written to unload seconds after they are empty, not after roomIdleMs; time is moved by hand. */
class BlankRoomEvictionTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private final RoomRegistry registry = FixedClaims.registry(7, 8, 16, 100, m -> { });

  private static Session session(String user) {
    Session s = new Session(user, new RecordingConnection(), new OutboundQueue(1 << 20), new TokenBucket(100, 100, 0),
        5, 0);
    s.identity(Identity.guest(user, "t", Long.MAX_VALUE));
    return s;
  }

  @Test
  void aRoomLoadedByAJoinThatNeverArrivedIsUnloadedAfterTheGrace() {
    registry.open("never-joined", 0);
    assertThat(registry.evictBlank(RoomRegistry.BLANK_GRACE_NANOS - 1)).isZero();
    assertThat(registry.size()).isEqualTo(1);
    assertThat(registry.evictBlank(RoomRegistry.BLANK_GRACE_NANOS)).isEqualTo(1);
    assertThat(registry.size()).isZero();
  }

  @Test
  void aRoomLeftWithoutAMessageIsUnloadedTwoSecondsAfterItsLastMemberLeft() {
    Room room = registry.open("quiet", 0).result();
    Session alice = session("alice");
    Membership m = room.join(alice, RoomMode.ACTIVE);
    assertThat(registry.evictBlank(10 * SECOND)).as("a member is in it").isZero();
    room.leave(m, 20 * SECOND);
    registry.emptied(room, 20 * SECOND);
    assertThat(registry.evictBlank(21 * SECOND)).isZero();
    assertThat(registry.evictBlank(22 * SECOND)).isEqualTo(1);
    assertThat(registry.get("quiet")).isNull();
  }

  @Test
  void aRoomWithAMessageWaitsForTheIdleEvictionInstead() {
    Room room = registry.open("chatty", 0).result();
    Session alice = session("alice");
    Membership m = room.join(alice, RoomMode.ACTIVE);
    Room.Unstored pending = room.sequence(alice, 1L, "c1", "hi", 0);
    room.stored(pending, pending.message().seq());
    room.leave(m, SECOND);
    registry.emptied(room, SECOND);
    assertThat(registry.evictBlank(100 * SECOND)).isZero();
    assertThat(registry.get("chatty")).isSameAs(room);
    assertThat(registry.evictIdle(100 * SECOND, 50 * SECOND)).isEqualTo(1);
  }

  @Test
  void aRoomRejoinedWithinTheGraceStays() {
    Room room = registry.open("back", 0).result();
    Session alice = session("alice");
    room.join(alice, RoomMode.ACTIVE); // within the grace of its load
    assertThat(registry.evictBlank(5 * SECOND)).isZero();
    assertThat(registry.get("back")).isSameAs(room);
  }

  @Test
  void theTickStopsAtTheFirstCandidateStillInItsGrace() {
    for (int i = 0; i < 1000; i++) {
      registry.open("old-" + i, 0);
    }
    for (int i = 0; i < 1000; i++) {
      registry.open("young-" + i, 3 * SECOND);
    }
    assertThat(registry.evictBlank(3 * SECOND)).isEqualTo(1000);
    assertThat(registry.size()).isEqualTo(1000);
    assertThat(registry.evictBlank(5 * SECOND)).isEqualTo(1000);
    assertThat(registry.size()).isZero();
  }
}
