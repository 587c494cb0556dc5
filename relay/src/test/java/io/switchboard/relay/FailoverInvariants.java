package io.switchboard.relay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The failover test's judge, after the chaos bench's InvariantChecker (bench/, which the relay's
 * tests cannot depend on) with one rule made stronger: a seq a client saw in an old epoch must
 * still name the same message in the database unless a later epoch started below it (the only
 * seqs a takeover may give again, {@code divergedAfter}). Plain and server-free: fed with what the
 * clients saw and the database's rows, it names every broken promise of docs/architecture.md.
 * Thread-safe: observations come from the clients' event loops.
 */
final class FailoverInvariants {
  /** A message's identity: sender, cid and text. */
  record Msg(String from, String cid, String body) {}

  /** An epoch of a room as {@code room_epochs} records it, oldest first. */
  record Epoch(String epoch, long since) {}

  private record Seen(String source, String room, String epoch, long seq, Msg msg) {}

  private record Ack(String user, String room, String cid, long seq) {}

  private final List<Seen> seen = new ArrayList<>();
  private final List<Ack> acks = new ArrayList<>();

  synchronized void saw(String source, String room, String epoch, long seq, Msg msg) {
    seen.add(new Seen(source, room, epoch, seq, msg));
  }

  synchronized void ackedStored(String user, String room, String cid, long seq) {
    acks.add(new Ack(user, room, cid, seq));
  }

  /** What the check found: broken promises, and seqs clients saw that a takeover gave again (allowed). */
  record Verdict(List<String> violations, List<String> diverged, long observations, long acksChecked) {}

  /**
   * @param db the {@code messages} rows: room → seq → message
   * @param epochs room → its epochs, oldest first
   * @param views client → room → (the head at its first join, what it holds at the end)
   * @param written sender → every cid it wrote → room
   */
  synchronized Verdict check(Map<String, NavigableMap<Long, Msg>> db, Map<String, List<Epoch>> epochs,
      Map<String, Map<String, Map.Entry<Long, NavigableMap<Long, Msg>>>> views, Map<String, Map<String, String>> written) {
    List<String> violations = new ArrayList<>();
    List<String> diverged = new ArrayList<>();
    for (Ack a : acks) {
      Msg row = db.getOrDefault(a.room(), new TreeMap<>()).get(a.seq());
      if (row == null || !row.from().equals(a.user()) || !row.cid().equals(a.cid())) {
        violations.add("acked stored:true but not in the database: " + a + ", row " + row);
      }
    }
    Map<String, Seen> firstAt = new HashMap<>();
    for (Seen s : seen) {
      Seen first = firstAt.putIfAbsent(s.room() + " " + s.epoch() + " " + s.seq(), s);
      if (first != null && !first.msg().equals(s.msg())) {
        violations.add("(" + s.room() + ", " + s.seq() + ") in epoch " + s.epoch() + " names two messages: "
            + first.msg() + " (" + first.source() + ") and " + s.msg() + " (" + s.source() + ")");
      }
      Msg row = db.getOrDefault(s.room(), new TreeMap<>()).get(s.seq());
      if (s.msg().equals(row)) {
        continue;
      }
      if (s.seq() > reusableAfter(epochs.getOrDefault(s.room(), List.of()), s.epoch())) {
        diverged.add(s.source() + " saw " + s.msg() + " at (" + s.room() + ", " + s.seq() + ") in epoch " + s.epoch()
            + "; a takeover gave the seq to " + row);
      } else {
        violations.add(s.source() + " saw " + s.msg() + " at (" + s.room() + ", " + s.seq() + ") in epoch " + s.epoch()
            + ", the database has " + row);
      }
    }
    views.forEach((client, rooms) -> rooms.forEach((room, view) -> {
      NavigableMap<Long, Msg> rows = db.getOrDefault(room, new TreeMap<>());
      NavigableMap<Long, Msg> held = view.getValue();
      long from = view.getKey();
      if (from < 0) {
        violations.add(client + " never joined " + room);
        return;
      }
      long to = Math.max(rows.isEmpty() ? 0 : rows.lastKey(), held.isEmpty() ? 0 : held.lastKey());
      for (long seq = from + 1; seq <= to; seq++) {
        if (!java.util.Objects.equals(rows.get(seq), held.get(seq))) {
          violations.add(client + "'s view of (" + room + ", " + seq + ") is " + held.get(seq) + ", the database has "
              + rows.get(seq));
        }
      }
    }));
    written.forEach((sender, cids) -> cids.forEach((cid, room) -> {
      long copies = db.getOrDefault(room, new TreeMap<>()).values().stream()
          .filter(m -> m.from().equals(sender) && m.cid().equals(cid)).count();
      if (copies != 1) {
        violations.add(sender + "/" + cid + " in " + room + " is stored " + copies + " times");
      }
    }));
    return new Verdict(violations, diverged, seen.size(), acks.size());
  }

  /**
   * Past which seq a message seen in {@code epoch} may have been replaced: the smallest {@code since}
   * of the epochs after it (the divergence point a resume names); none after it: never.
   */
  static long reusableAfter(List<Epoch> epochs, String epoch) {
    long after = Long.MAX_VALUE;
    boolean later = false;
    for (Epoch e : epochs) {
      if (later) {
        after = Math.min(after, e.since());
      }
      later |= e.epoch().equals(epoch);
    }
    return after;
  }
}
