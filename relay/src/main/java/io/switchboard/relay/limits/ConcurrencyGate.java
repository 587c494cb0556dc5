package io.switchboard.relay.limits;

/**
 * At most {@code max} operations at once; the rest are refused rather than queued, because a queue
 * in front of the database pool is exactly what makes chat acks wait. Event-loop confined.
 */
public final class ConcurrencyGate {
  private final int max;
  private int inFlight;

  public ConcurrencyGate(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be >= 1");
    }
    this.max = max;
  }

  public boolean tryEnter() {
    if (inFlight >= max) {
      return false;
    }
    inFlight++;
    return true;
  }

  public void exit() {
    if (inFlight == 0) {
      throw new IllegalStateException("exit without enter");
    }
    inFlight--;
  }

  public int inFlight() {
    return inFlight;
  }
}
