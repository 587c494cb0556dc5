package io.switchboard.relay.cluster;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Relay incarnations (process starts) whose member left this node's view of the cluster: a room
 * one of them still owns by its lease is taken over at once instead of when the lease runs out
 * (the storage fence keeps that safe when the member was only unreachable). Bounded in count and
 * age: past a lease or so the lease has run out anyway, so forgetting an entry only costs the wait
 * it would have saved. Thread-safe (claims ask from the database pool's threads).
 */
public final class Departed {
  /** Far past any sane lease: by then every room of the departed incarnation is free anyway. */
  public static final long KEEP_NANOS = TimeUnit.MINUTES.toNanos(10);
  public static final int MAX_ENTRIES = 1024;

  private final LongSupplier nanoClock;
  private final LinkedHashMap<String, Long> since = new LinkedHashMap<>();

  public Departed(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** The member of {@code incarnation} left the view. */
  public synchronized void add(String incarnation) {
    since.remove(incarnation); // re-inserted last: the map stays ordered by time
    since.put(incarnation, nanoClock.getAsLong());
    prune();
  }

  /** The incarnation is a member again (a merge after a split brain): its leases are live. */
  public synchronized void remove(String incarnation) {
    since.remove(incarnation);
  }

  public synchronized boolean contains(String incarnation) {
    prune();
    return incarnation != null && since.containsKey(incarnation);
  }

  public synchronized int size() {
    prune();
    return since.size();
  }

  private void prune() {
    long now = nanoClock.getAsLong();
    for (Iterator<Map.Entry<String, Long>> it = since.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Long> e = it.next();
      if (since.size() <= MAX_ENTRIES && now - e.getValue() < KEEP_NANOS) {
        break; // every later entry is younger
      }
      it.remove();
    }
  }
}
