package io.switchboard.signaling.steer;

import io.switchboard.protocol.NatClass;
import io.switchboard.protocol.PeerPath;

/**
 * Decides how two peers should connect: the rule table (docs/steering.md, RFC 4787 reasoning),
 * then the learning rule — a class pair whose steered mode keeps failing is moved past it.
 */
public final class SteeringPolicy {
  private final SteeringOptions options;
  private final boolean turnConfigured;
  private final OutcomeStats stats;

  public SteeringPolicy(SteeringOptions options, boolean turnConfigured, OutcomeStats stats) {
    this.options = options;
    this.turnConfigured = turnConfigured;
    this.stats = stats;
  }

  public OutcomeStats stats() {
    return stats;
  }

  public Decision decide(NatProfile a, NatProfile b, int roomSize, long nowMs) {
    boolean turnUsable = turnConfigured && !Boolean.FALSE.equals(a.turn()) && !Boolean.FALSE.equals(b.turn());
    Decision rule = rule(new ClassPair(a.natClass(), b.natClass()), roomSize, turnUsable);
    if (rule.mode() == PeerPath.RELAY) {
      return rule;
    }
    ClassPair pair = new ClassPair(a.natClass(), b.natClass());
    Decision d = rule;
    if (d.mode() == PeerPath.P2P && failing(pair, PeerPath.P2P, nowMs)) {
      d = turnUsable ? new Decision(PeerPath.TURN, "learned-direct-fails")
          : new Decision(PeerPath.RELAY, "learned-direct-fails");
    }
    if (d.mode() == PeerPath.TURN && failing(pair, PeerPath.TURN, nowMs)) {
      d = new Decision(PeerPath.RELAY, "learned-turn-fails");
    }
    return d;
  }

  /** The rule table alone, first match wins. */
  public Decision rule(ClassPair pair, int roomSize, boolean turnUsable) {
    if (roomSize > options.getMeshMax()) {
      return new Decision(PeerPath.RELAY, "mesh-limit");
    }
    if (pair.has(NatClass.UDP_BLOCKED)) {
      return turnOrRelay(turnUsable, "udp-blocked");
    }
    if (pair.has(NatClass.NONE) || pair.has(NatClass.FULL_CONE)) {
      return new Decision(PeerPath.P2P, "reachable");
    }
    if (pair.is(NatClass.SYMMETRIC, NatClass.SYMMETRIC)) {
      return turnOrRelay(turnUsable, "symmetric-both");
    }
    if (pair.is(NatClass.SYMMETRIC, NatClass.PORT_RESTRICTED)) {
      return turnOrRelay(turnUsable, "symmetric-port-restricted");
    }
    return new Decision(PeerPath.P2P, "hole-punch");
  }

  private static Decision turnOrRelay(boolean turnUsable, String reason) {
    return new Decision(turnUsable ? PeerPath.TURN : PeerPath.RELAY, turnUsable ? reason : reason + "-no-turn");
  }

  private boolean failing(ClassPair pair, PeerPath mode, long nowMs) {
    OutcomeStats.Rate rate = stats.rate(pair, mode, nowMs);
    return rate.samples() >= options.getMinSamples() && rate.value() < options.getMinSuccessRate();
  }
}
