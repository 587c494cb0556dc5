package io.switchboard.relay.room;

import io.switchboard.relay.store.RoomLeases.Claim;
import io.switchboard.relay.store.RoomLeases.Claimed;
import io.switchboard.relay.store.RoomLeases.Epoch;
import io.vertx.core.Future;
import java.util.List;
import java.util.function.Consumer;

/** Storage-free claims for unit tests: every room is claimed at once in epoch "e1" at a fixed head. */
public final class FixedClaims implements RoomRegistry.Claimer {
  private final long head;

  private FixedClaims(long head) {
    this.head = head;
  }

  public static RoomRegistry registry(long head, int ringSize, int dedupeWindow, int catchUpMax,
      Consumer<Membership> unreadScheduler) {
    return new RoomRegistry(new FixedClaims(head), (delayMs, task) -> {
      throw new AssertionError("a fixed claim never waits");
    }, () -> 0L, 15_000, ringSize, dedupeWindow, catchUpMax, unreadScheduler);
  }

  @Override
  public Future<Claim> claim(String room) {
    return Future.succeededFuture(new Claimed("e1", head, List.of(new Epoch("e1", 0))));
  }

  @Override
  public Future<Void> release(List<String> rooms, List<String> epochs, List<Long> heads) {
    return Future.succeededFuture();
  }
}
