package io.switchboard.relay.room;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A room's read cursors in memory: user → the highest seq it has read, kept in the order they last
 * moved, plus the cursors that moved since the room's last {@code reads} frame. Cursors only move
 * forward; callers clamp to the room's head. Single-threaded on the room's loop.
 */
public final class ReadCursors {
  /** Cursors a {@code joined} carries at most (and a room loads from storage). */
  public static final int JOINED_MAX = 256;

  private final LinkedHashMap<String, Long> cursors = new LinkedHashMap<>();
  private final LinkedHashMap<String, Long> moved = new LinkedHashMap<>();
  /** Storage may hold cursors that were not loaded (the room has more than {@link #JOINED_MAX}). */
  private boolean partial;

  /**
   * Cursors from storage, oldest move first; none above {@code head} (storage may be ahead of an
   * unclean takeover). {@link #JOINED_MAX} or more of them: there may be others in storage.
   */
  public void load(Map<String, Long> stored, long head) {
    stored.forEach((user, seq) -> cursors.merge(user, Math.min(seq, head), Math::max));
    partial |= stored.size() >= JOINED_MAX;
  }

  /** Whether a user without a cursor here may still have one in storage (look it up before creating one). */
  public boolean partial() {
    return partial;
  }

  public Long get(String user) {
    return cursors.get(user);
  }

  /** Moves the user's cursor to {@code seq} if that is ahead of it (or it has none); true when it moved. */
  public boolean advance(String user, long seq) {
    return advance(user, seq, true);
  }

  /**
   * As {@link #advance(String, long)}; {@code announce} false leaves the move out of the next
   * {@code reads} frame (a sender's own message: every receiver of the {@code msg} infers it).
   */
  public boolean advance(String user, long seq, boolean announce) {
    Long now = cursors.get(user);
    if (now != null && now >= seq) {
      return false;
    }
    cursors.remove(user); // re-inserted last: the map stays in order of moves
    cursors.put(user, seq);
    if (announce) {
      moved.put(user, seq);
    }
    return true;
  }

  /** The {@code limit} most recently moved cursors, always with {@code own}'s (if it has one), oldest move first. */
  public Map<String, Long> recent(int limit, String own) {
    ArrayDeque<Map.Entry<String, Long>> newest = new ArrayDeque<>(Math.min(limit, cursors.size()) + 1);
    boolean ownIn = false;
    for (Map.Entry<String, Long> e : cursors.entrySet()) {
      newest.addLast(e);
      if (newest.size() > limit) {
        newest.removeFirst();
      }
    }
    Map<String, Long> out = new LinkedHashMap<>();
    for (Map.Entry<String, Long> e : newest) {
      ownIn |= e.getKey().equals(own);
    }
    Long mine = cursors.get(own);
    Iterator<Map.Entry<String, Long>> it = newest.iterator();
    if (!ownIn && mine != null && newest.size() >= limit) {
      it.next(); // the oldest of them makes room for the user's own
    }
    if (!ownIn && mine != null) {
      out.put(own, mine);
    }
    while (it.hasNext()) {
      Map.Entry<String, Long> e = it.next();
      out.put(e.getKey(), e.getValue());
    }
    return out;
  }

  /** The cursors that moved since the last call (user → seq), and forgets them. */
  public Map<String, Long> takeMoved() {
    Map<String, Long> out = new LinkedHashMap<>(moved);
    moved.clear();
    return out;
  }

  public int size() {
    return cursors.size();
  }
}
