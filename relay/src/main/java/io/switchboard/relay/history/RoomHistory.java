package io.switchboard.relay.history;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.store.StoredMessage;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a room's messages by seq range from memory when it can, else from storage merged with
 * memory. Memory is read before the query starts: a message missing from that snapshot was
 * committed before it, so the query sees it — the merge never has a hole.
 */
public final class RoomHistory {
  /** Storage read: (room, afterSeq, limit) → rows with seq > afterSeq ascending. */
  public interface Reader {
    Future<List<StoredMessage>> after(String room, long afterSeq, int limit);
  }

  /** Storage reads in flight at once; past it history fails fast so writes keep their connections. */
  public static final int MAX_CONCURRENT_READS = 64;

  private final Reader reader;
  // shared by every shard's rooms: the bound is the node's
  private final AtomicInteger readsInFlight = new AtomicInteger();

  public RoomHistory(Reader reader) {
    this.reader = reader;
  }

  /** The newest {@code limit} messages with seq < before, ascending. */
  public Future<List<Message>> page(Room room, long before, int limit) {
    long hi = Math.min(before - 1, room.head());
    long lo = Math.max(1, hi - limit + 1);
    return range(room, lo, hi);
  }

  /** Messages with {@code from <= seq <= to}, ascending. */
  public Future<List<Message>> range(Room room, long from, long to) {
    if (to < from) {
      return Future.succeededFuture(List.of());
    }
    TreeMap<Long, Message> snapshot = new TreeMap<>();
    for (long seq = from; seq <= to; seq++) {
      Message m = room.inMemory(seq);
      if (m != null) {
        snapshot.put(seq, m);
      }
    }
    if (snapshot.size() == to - from + 1) {
      return Future.succeededFuture(new ArrayList<>(snapshot.values()));
    }
    long missingFrom = from;
    while (snapshot.containsKey(missingFrom)) {
      missingFrom++;
    }
    if (readsInFlight.incrementAndGet() > MAX_CONCURRENT_READS) {
      readsInFlight.decrementAndGet();
      return Future.failedFuture(new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE,
          "history is busy; retry shortly"));
    }
    long firstMissing = missingFrom;
    int count = (int) Math.min(Integer.MAX_VALUE, to - firstMissing + 1);
    return reader.after(room.name(), firstMissing - 1, count).andThen(done -> readsInFlight.decrementAndGet()).map(rows -> {
      for (StoredMessage row : rows) {
        if (row.seq() <= to) {
          snapshot.putIfAbsent(row.seq(), toMessage(row));
        }
      }
      return new ArrayList<>(snapshot.values());
    });
  }

  public static Message toMessage(StoredMessage row) {
    return new Message(row.room(), row.seq(), row.cid(), row.sender(), row.body(), row.createdAtMillis(),
        row.senderName(), row.rev(), row.editedAtMillis(), row.deleted(), row.reactions());
  }

  /** Whether a page starting at its first message has older messages before it. */
  public static boolean hasMore(List<Message> page) {
    return !page.isEmpty() && page.get(0).seq() > 1;
  }
}
