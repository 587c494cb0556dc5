package io.switchboard.signaling.steer;

import io.switchboard.protocol.PeerPath;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What steered pairs reported, per NAT class pair and steered mode: a bounded window of recent
 * outcomes for the learning rule, and running totals for operators. Confined to one thread.
 *
 * <p>Each pair of users, and each pair of client addresses, counts at most once per learning
 * window ({@link #recordOnce}): one client leaving and rejoining a room gets a fresh steer every
 * time, and guest identities are free, so without both it could swing its class pair for everyone
 * with a handful of reports. The set of counted pairs is bounded
 * ({@link SteeringOptions#getMaxCountedPairs()}), oldest forgotten first.
 */
public final class OutcomeStats {
  /** Successes among the samples in the learning window. */
  public record Rate(int successes, int samples) {
    public double value() {
      return samples == 0 ? Double.NaN : (double) successes / samples;
    }
  }

  /** Totals and the window's rate for one class pair and steered mode. */
  public record ModeStats(String pair, PeerPath steered, Map<PeerPath, Long> totals, Rate recent) {}

  private record Outcome(PeerPath path, long atMs) {}

  private record Key(ClassPair pair, PeerPath steered) {}

  /** One side of a reported pair: its user and its client address (limit key). */
  public record Party(String user, String address) {}

  /** Unordered: (a, b) and (b, a) are one pair of users, or of addresses. */
  private record CountedPair(boolean byAddress, String low, String high) {
    static CountedPair of(boolean byAddress, String a, String b) {
      return a.compareTo(b) <= 0 ? new CountedPair(byAddress, a, b) : new CountedPair(byAddress, b, a);
    }
  }

  private final int window;
  private final long learningWindowMs;
  private final Map<Key, ArrayDeque<Outcome>> recent = new HashMap<>();
  private final Map<Key, EnumMap<PeerPath, Long>> totals = new HashMap<>();
  /** When each user pair was counted, oldest first (insertion order is time order). */
  private final LinkedHashMap<CountedPair, Long> counted = new LinkedHashMap<>();
  private final int maxCountedPairs;

  public OutcomeStats(SteeringOptions options) {
    this.window = options.getWindow();
    this.learningWindowMs = options.getLearningWindowMs();
    this.maxCountedPairs = options.getMaxCountedPairs();
  }

  /**
   * Records the outcome unless this pair of users or this pair of addresses already had one
   * counted within the learning window; returns whether it counted.
   */
  public boolean recordOnce(ClassPair pair, Party a, Party b, PeerPath steered, PeerPath path, long nowMs) {
    Iterator<Long> oldest = counted.values().iterator();
    while (oldest.hasNext() && nowMs - oldest.next() > learningWindowMs) {
      oldest.remove();
    }
    CountedPair users = CountedPair.of(false, a.user(), b.user());
    CountedPair addresses = CountedPair.of(true, a.address(), b.address());
    if (counted.containsKey(users) || counted.containsKey(addresses)) {
      return false;
    }
    counted.put(users, nowMs);
    counted.put(addresses, nowMs);
    while (counted.size() > maxCountedPairs) {
      Iterator<CountedPair> first = counted.keySet().iterator();
      first.next();
      first.remove();
    }
    record(pair, steered, path, nowMs);
    return true;
  }

  /** User and address pairs currently remembered as counted. */
  public int countedPairs() {
    return counted.size();
  }

  public void record(ClassPair pair, PeerPath steered, PeerPath path, long nowMs) {
    Key key = new Key(pair, steered);
    ArrayDeque<Outcome> outcomes = recent.computeIfAbsent(key, k -> new ArrayDeque<>(window));
    if (outcomes.size() == window) {
      outcomes.removeFirst();
    }
    outcomes.addLast(new Outcome(path, nowMs));
    totals.computeIfAbsent(key, k -> new EnumMap<>(PeerPath.class)).merge(path, 1L, Long::sum);
  }

  /** How often pairs of this class steered to {@code steered} ended on the path that mode aims for. */
  public Rate rate(ClassPair pair, PeerPath steered, long nowMs) {
    ArrayDeque<Outcome> outcomes = recent.get(new Key(pair, steered));
    if (outcomes == null) {
      return new Rate(0, 0);
    }
    while (!outcomes.isEmpty() && nowMs - outcomes.peekFirst().atMs() > learningWindowMs) {
      outcomes.removeFirst();
    }
    int successes = 0;
    for (Outcome o : outcomes) {
      if (o.path() == steered) {
        successes++;
      }
    }
    return new Rate(successes, outcomes.size());
  }

  public List<ModeStats> snapshot(long nowMs) {
    List<ModeStats> out = new ArrayList<>();
    for (Map.Entry<Key, EnumMap<PeerPath, Long>> e : totals.entrySet()) {
      Key key = e.getKey();
      out.add(new ModeStats(key.pair().key(), key.steered(), new EnumMap<>(e.getValue()),
          rate(key.pair(), key.steered(), nowMs)));
    }
    out.sort(Comparator.comparing(ModeStats::pair).thenComparing(ModeStats::steered));
    return out;
  }
}
