package io.switchboard.relay.room;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.auth.Identity;
import io.switchboard.relay.session.OutboundQueue;
import io.switchboard.relay.session.RecordingConnection;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import io.switchboard.relay.store.RoomLeases.Busy;
import io.switchboard.relay.store.RoomLeases.Claim;
import io.switchboard.relay.store.RoomLeases.Claimed;
import io.switchboard.relay.store.RoomLeases.Epoch;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Claims, the bounded wait for a busy room and release ordering, with a scripted claimer and clock. */
class RoomRegistryTest {
  private static final long LEASE_MS = 1000;

  private final Deque<Claim> answers = new ArrayDeque<>();
  private final List<String> log = new ArrayList<>();
  private final List<Long> delays = new ArrayList<>();
  private final List<Runnable> timers = new ArrayList<>();
  private Promise<Void> release;
  private long nowNanos;

  private final RoomRegistry registry = new RoomRegistry(new RoomRegistry.Claimer() {
    @Override
    public Future<Claim> claim(String room) {
      log.add("claim " + room);
      return Future.succeededFuture(answers.poll());
    }

    @Override
    public Future<Void> release(List<String> rooms, List<String> epochs, List<Long> heads) {
      log.add("release " + rooms + " " + epochs + " " + heads);
      release = Promise.promise();
      return release.future();
    }
  }, (delayMs, task) -> {
    delays.add(delayMs);
    timers.add(task);
  }, () -> nowNanos, LEASE_MS, 8, 16, 100, m -> { });

  private static Claimed claimed(String epoch, long head) {
    return new Claimed(epoch, head, List.of(new Epoch(epoch, 0)));
  }

  private void advanceAndFire(long ms) {
    nowNanos += TimeUnit.MILLISECONDS.toNanos(ms);
    Runnable task = timers.remove(0);
    task.run();
  }

  @Test
  void aBusyRoomIsClaimedAgainWhenTheLeaseRunsOut() {
    answers.add(new Busy(400));
    answers.add(claimed("k1", 9));
    Future<Room> open = registry.open("r", nowNanos);
    assertThat(open.isComplete()).isFalse();
    assertThat(delays).containsExactly(410L);
    advanceAndFire(410);
    assertThat(open.result().epoch()).isEqualTo("k1");
    assertThat(open.result().head()).isEqualTo(9);
    assertThat(registry.get("r")).isSameAs(open.result());
  }

  @Test
  void aRoomStillBusyAfterOneAndAHalfLeasesIsUnavailable() {
    answers.add(new Busy(1000));
    answers.add(new Busy(1000));
    answers.add(new Busy(1000));
    Future<Room> open = registry.open("r", nowNanos);
    Future<Room> second = registry.open("r", nowNanos);
    advanceAndFire(delays.get(0));
    assertThat(delays.get(1)).as("the last wait ends at the deadline").isEqualTo(1500 - delays.get(0));
    advanceAndFire(delays.get(1));
    assertThat(open.failed()).isTrue();
    assertThat(second.failed()).isTrue();
    assertThat(open.cause()).isInstanceOfSatisfying(ProtocolException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.ROOM_UNAVAILABLE));
    assertThat(log).as("one claim at a time however many joins wait").containsExactly("claim r", "claim r", "claim r");
    assertThat(registry.get("r")).isNull();
  }

  @Test
  void aClaimWaitsForTheReleaseOfTheSameRoom() {
    answers.add(claimed("k1", 0));
    Room room = registry.open("r", 0).result();
    assertThat(registry.evictIdle(TimeUnit.SECONDS.toNanos(10), 1)).isEqualTo(1);
    assertThat(log).containsExactly("claim r", "release [r] [k1] [0]");
    answers.add(claimed("k1", 0));
    Future<Room> reopened = registry.open("r", 0);
    assertThat(log).as("the claim would be undone by the release still in flight").hasSize(2);
    release.complete();
    assertThat(log).containsExactly("claim r", "release [r] [k1] [0]", "claim r");
    assertThat(reopened.result()).isNotSameAs(room);
  }

  @Test
  void aDroppedRoomIsForgottenOnlyOnce() {
    answers.add(claimed("k1", 0));
    Room room = registry.open("r", 0).result();
    assertThat(registry.drop(room)).isTrue();
    assertThat(registry.drop(room)).isFalse();
    assertThat(registry.get("r")).isNull();
  }

  @Test
  void aMovingRoomTakesNoJoinIsNotEvictedAndItsReleaseGoesBeforeTheNextClaim() {
    answers.add(claimed("e1", 4));
    Room room = registry.open("mv", nowNanos).result();
    Future<Void> settled = registry.startMoving(room);
    assertThat(settled.succeeded()).as("nothing unstored: settled at once").isTrue();
    assertThat(registry.startMoving(room)).as("one handover at a time").isNull();
    Future<Room> refused = registry.open("mv", nowNanos);
    assertThat(refused.failed()).isTrue();
    assertThat(((ProtocolException) refused.cause()).code()).isEqualTo(ErrorCode.ROOM_MOVED);
    nowNanos += TimeUnit.HOURS.toNanos(1);
    assertThat(registry.evictIdle(nowNanos, 1)).as("a moving room is the handover's to unload").isZero();
    assertThat(registry.evictBlank(nowNanos)).isZero();
    assertThat(registry.get("mv")).isSameAs(room);

    registry.handOff(room);
    assertThat(log).containsExactly("claim mv", "release [mv] [e1] [4]");
    registry.drop(room);
    registry.stopMoving("mv");
    answers.add(claimed("e1", 4));
    Future<Room> again = registry.open("mv", nowNanos);
    assertThat(again.isComplete()).as("the claim waits for the release").isFalse();
    release.complete();
    assertThat(again.result().epoch()).isEqualTo("e1");
    assertThat(log).containsExactly("claim mv", "release [mv] [e1] [4]", "claim mv");
  }

  @Test
  void aMovingRoomSettlesWhenItsLastMessageIsStoredAndFailsWhenDropped() {
    answers.add(claimed("e1", 0));
    Room room = registry.open("gone", nowNanos).result();
    Session alice = new Session("alice", new RecordingConnection(), new OutboundQueue(1 << 20),
        new TokenBucket(100, 100, 0), 5, 0);
    alice.identity(Identity.guest("alice", "t", Long.MAX_VALUE));
    Room.Unstored pending = room.sequence(alice, 1L, "c1", "b", 0);
    Future<Void> waiting = registry.startMoving(room);
    assertThat(waiting.isComplete()).as("a message is unstored").isFalse();
    registry.settled(room);
    assertThat(waiting.isComplete()).isFalse();
    room.stored(pending, 1);
    registry.settled(room);
    assertThat(waiting.succeeded()).as("every sequenced message stored").isTrue();
    registry.stopMoving("gone");
    room.sequence(alice, 2L, "c2", "b", 0);
    Future<Void> settled = registry.startMoving(room);
    assertThat(settled.isComplete()).as("a message is unstored").isFalse();
    assertThat(registry.drop(room)).isTrue();
    assertThat(settled.failed()).isTrue();
    registry.stopMoving("gone");
    assertThat(registry.moving("gone")).isFalse();
  }
}
