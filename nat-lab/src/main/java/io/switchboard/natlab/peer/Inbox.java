package io.switchboard.natlab.peer;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/** Server frames waiting for the peer's main thread, taken by predicate in arrival order. */
final class Inbox {
  private final List<JsonObject> frames = new ArrayList<>();

  synchronized void add(JsonObject frame) {
    frames.add(frame);
    notifyAll();
  }

  /** Removes and returns the first frame matching {@code match}, waiting until {@code deadlineNanos}. */
  synchronized JsonObject take(Predicate<JsonObject> match, long deadlineNanos, String what)
      throws TimeoutException, InterruptedException {
    while (true) {
      for (Iterator<JsonObject> it = frames.iterator(); it.hasNext(); ) {
        JsonObject f = it.next();
        if (match.test(f)) {
          it.remove();
          return f;
        }
      }
      long leftMs = (deadlineNanos - System.nanoTime()) / 1_000_000;
      if (leftMs <= 0) {
        throw new TimeoutException("timed out waiting for " + what);
      }
      wait(leftMs);
    }
  }

  static Predicate<JsonObject> type(String t) {
    return f -> t.equals(f.getString("t"));
  }

  /** A {@code signal} whose data carries {@code key}. */
  static Predicate<JsonObject> signal(String key) {
    return f -> "signal".equals(f.getString("t")) && f.getJsonObject("data") != null
        && f.getJsonObject("data").containsKey(key);
  }
}
