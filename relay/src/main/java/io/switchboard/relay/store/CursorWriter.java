package io.switchboard.relay.store;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's read-cursor writes, apart from the message writer: cursor moves only merge into a map
 * (the highest seq per room and user wins), and {@link #tick} (every second) writes what is there in
 * one upsert. Message writes never wait for cursors, and a burst of {@code read}s costs one row.
 * A failed write puts its cursors back (unless they moved on meanwhile) for the next tick, so an
 * outage delays cursors but does not lose them, and never blocks messages. A relay killed with -9
 * loses at most the moves since the last tick (about a second). Safe to call from any loop.
 */
public final class CursorWriter {
  private static final Logger LOG = LoggerFactory.getLogger(CursorWriter.class);
  /** Rows per statement: a backlog after an outage goes out in several. */
  static final int MAX_ROWS = 5_000;
  private static final Comparator<CursorStore.Cursor> LOCK_ORDER =
      Comparator.comparing(CursorStore.Cursor::room).thenComparing(CursorStore.Cursor::user);

  private record Key(String room, String user) {}

  private final CursorStore store;
  private final ConcurrentHashMap<Key, Long> pending = new ConcurrentHashMap<>();
  private final AtomicBoolean ticking = new AtomicBoolean();
  private volatile boolean failing;

  public CursorWriter(CursorStore store) {
    this.store = store;
  }

  public CursorStore store() {
    return store;
  }

  /** A cursor moved: written with the next tick. */
  public void moved(String room, String user, long seq) {
    pending.merge(new Key(room, user), seq, Math::max);
  }

  /** The room's cursors not written yet, user → seq (a room loading again must not go back behind them). */
  public Map<String, Long> pending(String room) {
    Map<String, Long> mine = new HashMap<>();
    pending.forEach((k, seq) -> {
      if (k.room().equals(room)) {
        mine.put(k.user(), seq);
      }
    });
    return mine;
  }

  /** Cursors waiting to be written. */
  public int pendingCount() {
    return pending.size();
  }

  /** The periodic write; skipped while the previous one is still running (storage slow or down). */
  public void tick() {
    if (pending.isEmpty() || !ticking.compareAndSet(false, true)) {
      return;
    }
    flush().onComplete(ar -> ticking.set(false));
  }

  /** Writes everything pending now (a drain, a handover); fails when storage did not take it (it stays pending). */
  public Future<Void> flush() {
    List<CursorStore.Cursor> taken = new ArrayList<>();
    for (Map.Entry<Key, Long> e : pending.entrySet()) {
      // removed only if unchanged: a move racing this flush stays for the next one
      if (pending.remove(e.getKey(), e.getValue())) {
        taken.add(new CursorStore.Cursor(e.getKey().room(), e.getKey().user(), e.getValue()));
      }
    }
    if (taken.isEmpty()) {
      return Future.succeededFuture();
    }
    taken.sort(LOCK_ORDER);
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < taken.size(); from += MAX_ROWS) {
      List<CursorStore.Cursor> part = taken.subList(from, Math.min(taken.size(), from + MAX_ROWS));
      chain = chain.compose(v -> store.upsert(part));
    }
    return chain.andThen(ar -> {
      if (ar.failed()) {
        // all of it goes back (parts written already are rewritten: harmless with GREATEST)
        for (CursorStore.Cursor c : taken) {
          moved(c.room(), c.user(), c.seq());
        }
        if (!failing) {
          failing = true;
          LOG.warn("writing {} read cursors failed; kept for the next try: {}", taken.size(), ar.cause().toString());
        }
      } else if (failing) {
        failing = false;
        LOG.info("read cursors are written again");
      }
    });
  }
}
