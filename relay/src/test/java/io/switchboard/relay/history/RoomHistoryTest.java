package io.switchboard.relay.history;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.RoomMode;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.auth.Identity;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.room.FixedClaims;
import io.switchboard.relay.room.RoomRegistry;
import io.switchboard.relay.session.OutboundQueue;
import io.switchboard.relay.session.RecordingConnection;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import io.switchboard.relay.store.StoredMessage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoomHistoryTest {
  /** Storage rows 1..head, answered when the test completes the promise. */
  private final List<Promise<List<StoredMessage>>> pendingReads = new ArrayList<>();
  private final RoomHistory history = new RoomHistory((room, after, limit) -> {
    Promise<List<StoredMessage>> p = Promise.promise();
    pendingReads.add(p);
    return p.future();
  });

  private Room roomWithStoredHead(long head) {
    return FixedClaims.registry(head, 4, 16, 10, m -> { }).open("r", 0).result();
  }

  private static List<StoredMessage> rows(long from, long to) {
    List<StoredMessage> rows = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      rows.add(new StoredMessage("r", s, "u", "c" + s, "b" + s, s));
    }
    return rows;
  }

  @Test
  void memoryAloneServesWhatItHolds() {
    Room room = roomWithStoredHead(0);
    Session s = new Session("s", new RecordingConnection(), new OutboundQueue(1 << 20), new TokenBucket(1, 1, 0), 5, 0);
    s.identity(Identity.guest("u", "t", Long.MAX_VALUE));
    room.join(s, RoomMode.ACTIVE);
    for (int i = 0; i < 3; i++) {
      room.sequence(s, null, "c" + i, "b", 0);
    }
    Future<List<Message>> page = history.page(room, 4, 10);
    assertThat(page.result()).extracting(Message::seq).containsExactly(1L, 2L, 3L);
    assertThat(pendingReads).isEmpty();
  }

  @Test
  void storageFillsWhatMemoryLacksAndTheMergeIsOrdered() {
    Room room = roomWithStoredHead(10);
    Future<List<Message>> page = history.page(room, 11, 5);
    assertThat(pendingReads).hasSize(1);
    pendingReads.get(0).complete(rows(6, 10));
    assertThat(page.result()).extracting(Message::seq).containsExactly(6L, 7L, 8L, 9L, 10L);
    assertThat(RoomHistory.hasMore(page.result())).isTrue();
  }

  @Test
  void concurrentStorageReadsAreCappedAndTheCapFrees() {
    Room room = roomWithStoredHead(1000);
    for (int i = 0; i < RoomHistory.MAX_CONCURRENT_READS; i++) {
      history.page(room, 1001, 10);
    }
    Future<List<Message>> refused = history.page(room, 1001, 10);
    assertThat(refused.failed()).isTrue();
    assertThat(((ProtocolException) refused.cause()).code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);
    pendingReads.get(0).complete(rows(991, 1000));
    assertThat(history.page(room, 1001, 10).failed()).isFalse();
  }
}
