package io.switchboard.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The chaos scenario's judge: fed with everything the clients saw (messages, acks, history pages),
 * every HTTP page with its ETag, the database's rows and the relay's RSS, it names every broken
 * promise of docs/architecture.md. Plain and server-free so its own test can feed it violations.
 * Thread-safe (one lock): observations arrive from the clients' event loops and the page prober.
 *
 * <ul>
 *   <li>{@code acked_stored_not_in_db} / {@code acked_stored_row_differs}: every {@code ack{stored:true}}
 *       is exactly one row (room, seq, sender, cid);
 *   <li>{@code seq_names_two_messages}: no (room, seq) names two different messages anywhere (what a
 *       client saw, an ack, a page, the database) within one epoch of the room (relays without
 *       epochs: at all);
 *   <li>{@code view_missing} / {@code view_not_in_db} / {@code view_differs}: every client's final view
 *       of a room (from its first join's head on, after any reconciliation it was told to do through
 *       {@code joined.divergedAfter}) equals the database over that range;
 *   <li>{@code etag_two_bodies}: one ETag of one URL never names two bodies (also when the server
 *       answers 304 to it while the body has changed);
 *   <li>{@code rss_over_bound}: the relay's RSS stays under the bound;
 *   <li>{@code postmaster_death_unnoticed}: after its postmaster is killed the relay gets it back or
 *       fails {@code /health} (reported by the scenario through {@link #livenessViolation}).
 * </ul>
 */
final class InvariantChecker {
  static final int MAX_EXAMPLES = 5;

  /** A message's identity: who sent it, its cid, and its text (a reused seq may even keep the cid). */
  record Msg(String from, String cid, String body) {
    @Override
    public String toString() {
      return from + "/" + cid + " \"" + (body.length() > 24 ? body.substring(0, 24) + "…" : body) + "\"";
    }
  }

  private record Seen(Msg msg, String source) {}

  private record Ack(String user, String room, String cid, long seq) {}

  private record Row(String sender, String cid, String body) {}

  private final Map<String, Map<Long, Seen>> seen = new HashMap<>();
  private final Set<String> conflicted = new HashSet<>();
  private final Map<String, String> currentEpochs = new HashMap<>();
  private final List<Ack> acks = new ArrayList<>();
  private final Map<String, NavigableMap<Long, Row>> db = new HashMap<>();
  private boolean dbRead;
  private boolean dbCompared;
  /** url + " " + etag -> the body first served under it. */
  private final Map<String, String> etagBodies = new HashMap<>();
  private long pages;
  private long revalidations;
  private long views;
  private long divergedViews;
  private long maxRssKb = -1;
  private final Map<String, JsonObject> violations = new LinkedHashMap<>();

  /**
   * A message at (room, seq) as {@code source} saw it ("client 3", "ack to client 3", "page /api/...")
   * under {@code epoch}: the room's epoch the client had joined under, or the one an HTTP page's ETag
   * names; null for a relay without epochs. A takeover may give the seqs past its divergence point
   * to new messages in the next epoch (clients are told with divergedAfter), so seqs are unique per
   * (room, epoch); the database is the room's current epoch ({@link #currentEpoch}).
   */
  synchronized void saw(String source, String room, String epoch, long seq, Msg msg) {
    String key = room + (epoch == null ? "" : " epoch " + epoch);
    Seen first = seen.computeIfAbsent(key, r -> new HashMap<>()).putIfAbsent(seq, new Seen(msg, source));
    // counted once per (room, epoch, seq): one reused seq seen by every member is one violation
    if (first != null && !first.msg().equals(msg) && conflicted.add(key + "\u0000" + seq)) {
      violation("seq_names_two_messages", key + " seq " + seq + ": " + first.msg() + " (" + first.source() + ") vs "
          + msg + " (" + source + ")");
    }
  }

  /** The epoch a client's last {@code joined} of {@code room} named: the epoch the database's rows are in. */
  synchronized void currentEpoch(String room, String epoch) {
    if (epoch != null) {
      currentEpochs.put(room, epoch);
    }
  }

  /** {@code ack{room, cid, seq, stored:true}} received by {@code user}'s client. */
  synchronized void ackedStored(String user, String room, String cid, long seq) {
    acks.add(new Ack(user, room, cid, seq));
  }

  /** A row of the {@code messages} table. */
  synchronized void dbRow(String room, long seq, String sender, String cid, String body) {
    dbRead = true;
    db.computeIfAbsent(room, r -> new TreeMap<>()).put(seq, new Row(sender, cid, body));
  }

  /** The database was read and had no rows at all. */
  synchronized void dbReadEmpty() {
    dbRead = true;
  }

  /** A 200 page: the body served for {@code url} under {@code etag}. */
  synchronized void page(String url, String etag, String body) {
    pages++;
    if (etag == null) {
      return;
    }
    String before = etagBodies.putIfAbsent(url + " " + etag, body);
    if (before != null && !before.equals(body)) {
      violation("etag_two_bodies", url + " ETag " + etag + " served two bodies:\n  " + clip(before) + "\n  " + clip(body));
    }
  }

  /**
   * {@code If-None-Match: etag} for {@code url} answered {@code notModified} (304), while a plain
   * request at the same time got {@code currentBody}: a 304 claims the body under {@code etag} is it.
   */
  synchronized void revalidated(String url, String etag, boolean notModified, String currentBody) {
    revalidations++;
    String before = etagBodies.get(url + " " + etag);
    if (notModified && before != null && !before.equals(currentBody)) {
      violation("etag_two_bodies", url + " answered 304 to ETag " + etag + " but its body changed:\n  "
          + clip(before) + "\n  " + clip(currentBody));
    }
  }

  /**
   * A client's final view of {@code room}: what it holds with seq > {@code fromExclusive} (the head
   * at its first join). {@code diverged}: it was told to drop messages past a point at least once.
   */
  synchronized void view(String client, String room, long fromExclusive, NavigableMap<Long, Msg> held, boolean diverged) {
    views++;
    if (diverged) {
      divergedViews++;
    }
    NavigableMap<Long, Row> rows = db.getOrDefault(room, new TreeMap<>());
    long dbHead = rows.isEmpty() ? 0 : rows.lastKey();
    long heldHead = held.isEmpty() ? 0 : held.lastKey();
    long to = Math.max(dbHead, heldHead);
    for (long seq = fromExclusive + 1; seq <= to; seq++) {
      Row row = rows.get(seq);
      Msg m = held.get(seq);
      String where = client + " " + room + " seq " + seq + (diverged ? " (after divergedAfter)" : "");
      if (row != null && m == null) {
        violation("view_missing", where + ": the database has " + new Msg(row.sender(), row.cid(), row.body()));
      } else if (row == null && m != null) {
        violation("view_not_in_db", where + ": holds " + m + ", the database has nothing");
      } else if (row != null && !new Msg(row.sender(), row.cid(), row.body()).equals(m)) {
        violation("view_differs", where + ": holds " + m + ", the database has "
            + new Msg(row.sender(), row.cid(), row.body()));
      }
    }
  }

  /** A promise about the relay's liveness that the harness saw broken (e.g. a dead postmaster unnoticed). */
  synchronized void livenessViolation(String kind, String example) {
    violation(kind, example);
  }

  synchronized void rss(long kb) {
    maxRssKb = Math.max(maxRssKb, kb);
  }

  /** Runs the checks that need every observation (acks against rows, RSS) and returns the verdict. */
  synchronized JsonObject verdict(long rssBoundMb) {
    if (!dbRead) {
      violation("database_not_read", "the database could not be read: nothing was checked against it");
    }
    if (!dbCompared) {
      dbCompared = true;
      db.forEach((room, rows) -> rows.forEach((seq, row) ->
          saw("db", room, currentEpochs.get(room), seq, new Msg(row.sender(), row.cid(), row.body()))));
    }
    for (Ack a : acks) {
      Row row = db.getOrDefault(a.room(), new TreeMap<>()).get(a.seq());
      String what = a.room() + " seq " + a.seq() + " acked stored:true to " + a.user() + " for cid " + a.cid();
      if (row == null) {
        violation("acked_stored_not_in_db", what + ": no row");
      } else if (!row.sender().equals(a.user()) || !row.cid().equals(a.cid())) {
        violation("acked_stored_row_differs", what + ": the row is " + row.sender() + "/" + row.cid());
      }
    }
    acks.clear(); // checked once
    if (maxRssKb > rssBoundMb * 1024) {
      violation("rss_over_bound", "relay RSS reached " + maxRssKb / 1024 + " MB, bound " + rssBoundMb + " MB");
    }
    long total = violations.values().stream().mapToLong(v -> v.getLong("count")).sum();
    return new JsonObject()
        .put("violations", total)
        .put("byKind", new JsonObject(new LinkedHashMap<>(violations)))
        .put("checked", new JsonObject()
            .put("roomSeqsSeen", seen.values().stream().mapToLong(Map::size).sum())
            .put("dbRows", db.values().stream().mapToLong(Map::size).sum())
            .put("pages", pages)
            .put("revalidations", revalidations)
            .put("clientViews", views)
            .put("divergedViews", divergedViews)
            .put("maxRssMb", maxRssKb < 0 ? null : maxRssKb / 1024)
            .put("rssBoundMb", rssBoundMb));
  }

  private void violation(String kind, String example) {
    JsonObject v = violations.computeIfAbsent(kind, k -> new JsonObject().put("count", 0L).put("examples", new JsonArray()));
    v.put("count", v.getLong("count") + 1);
    JsonArray ex = v.getJsonArray("examples");
    if (ex.size() < MAX_EXAMPLES) {
      ex.add(example);
    }
  }

  private static String clip(String s) {
    return s == null ? "null" : s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }
}
