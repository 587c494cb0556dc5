package io.switchboard.relay;

import io.switchboard.relay.cluster.ClusterView;
import io.switchboard.relay.room.Room;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rooms leaving this relay when the cluster changes: a member that joins takes its share of the
 * rooms (each loaded room the placement now puts elsewhere is handed over), and a draining relay
 * hands over all of its rooms after every member stopped placing rooms on it. A member that left
 * needs nothing from here: the survivors claim its rooms as their clients join again. Runs on the
 * view's context.
 */
final class RoomMoves implements ClusterView.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(RoomMoves.class);
  /** Handovers under way at once: each is a write flush and one release, bounded so a join under load stays gentle. */
  static final int CONCURRENCY = 16;

  private final RelayEngine engine;
  private final ClusterView view;

  RoomMoves(RelayEngine engine, ClusterView view) {
    this.engine = engine;
    this.view = view;
  }

  @Override
  public void joined(String node) {
    handOverMisplaced(Long.MAX_VALUE).onSuccess(n -> {
      if (n > 0) {
        LOG.info("cluster: {} joined; handed {} rooms over", node, n);
      }
    });
  }

  @Override
  public void left(String node) {
    // nothing to hand over: the departed member's rooms are claimed at once where their clients join
  }

  /**
   * The drain of a clustered relay: no member places rooms here any more, then every room goes.
   * Rooms not handed over by {@code withinMs} are left to the plain drain (release and close).
   */
  Future<Integer> drain(long withinMs) {
    return view.announceDraining().compose(v -> handOverMisplaced(withinMs));
  }

  /** Hands over every loaded room whose placement is another member; @return how many left. */
  Future<Integer> handOverMisplaced(long withinMs) {
    List<String> names = new ArrayList<>();
    for (Room room : engine.rooms().rooms()) {
      if (!view.self().equals(view.owner(room.name()))) {
        names.add(room.name());
      }
    }
    if (names.isEmpty()) {
      return Future.succeededFuture(0);
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(withinMs, TimeUnit.DAYS.toMillis(1)));
    Iterator<String> next = names.iterator();
    AtomicInteger moved = new AtomicInteger();
    List<Future<Void>> workers = new ArrayList<>();
    for (int i = 0; i < Math.min(CONCURRENCY, names.size()); i++) {
      Promise<Void> done = Promise.promise();
      work(next, deadline, moved, done);
      workers.add(done.future());
    }
    return Future.join(workers).map(v -> moved.get());
  }

  /** One lane: the next room once the previous one is done (on the view's context, so one iterator serves all). */
  private void work(Iterator<String> next, long deadline, AtomicInteger moved, Promise<Void> done) {
    if (!next.hasNext() || System.nanoTime() - deadline > 0) {
      done.complete();
      return;
    }
    String room = next.next();
    engine.handOver(room).onComplete(ar -> {
      if (ar.succeeded() && ar.result()) {
        moved.incrementAndGet();
      } else if (ar.failed()) {
        LOG.warn("handing room {} over failed: {}", room, ar.cause().toString());
      }
      work(next, deadline, moved, done);
    });
  }
}
