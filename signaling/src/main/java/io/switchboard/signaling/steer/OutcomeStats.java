package io.switchboard.signaling.steer;

import io.switchboard.protocol.PeerPath;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What steered pairs reported, per NAT class pair and steered mode: a bounded window of recent
 * outcomes for the learning rule, and running totals for operators. Confined to one thread.
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

  private final int window;
  private final long learningWindowMs;
  private final Map<Key, ArrayDeque<Outcome>> recent = new HashMap<>();
  private final Map<Key, EnumMap<PeerPath, Long>> totals = new HashMap<>();

  public OutcomeStats(SteeringOptions options) {
    this.window = options.getWindow();
    this.learningWindowMs = options.getLearningWindowMs();
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
