package io.switchboard.signaling.steer;

import io.switchboard.protocol.NatClass;

/** An unordered pair of NAT classes: {@code cone|symmetric} is the same pair as {@code symmetric|cone}. */
public record ClassPair(NatClass first, NatClass second) {
  public ClassPair {
    if (first.ordinal() > second.ordinal()) {
      NatClass swap = first;
      first = second;
      second = swap;
    }
  }

  public boolean has(NatClass c) {
    return first == c || second == c;
  }

  public boolean is(NatClass a, NatClass b) {
    return equals(new ClassPair(a, b));
  }

  /** Stable text for metrics labels and JSON: {@code port-restricted|symmetric}. */
  public String key() {
    return first.wire() + "|" + second.wire();
  }
}
