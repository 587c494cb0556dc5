package io.switchboard.relay.room;

import java.util.ArrayDeque;

/**
 * Keeps one member's sends and batches to its room in arrival order. Most run at once; one that must ask
 * storage first (a resend beyond the memory window) holds every later one until it is done, so a
 * slow lookup can never let a client's fifth message take a seq before its second.
 */
public final class MessageOrder {
  /** Far above what the frame rate limit lets in during one storage lookup. */
  public static final int DEFAULT_MAX_HELD = 512;

  private final int maxHeld;
  /** Created on the first wait: almost no connection ever needs one. */
  private ArrayDeque<Runnable> held;
  private boolean suspended;

  public MessageOrder(int maxHeld) {
    if (maxHeld < 1) {
      throw new IllegalArgumentException("maxHeld must be positive");
    }
    this.maxHeld = maxHeld;
  }

  /**
   * Runs the step now, or after the steps before it.
   *
   * @return false when too many steps are waiting already: the caller refuses this one
   */
  public boolean submit(Runnable step) {
    if (!suspended) {
      step.run();
      return true;
    }
    if (held == null) {
      held = new ArrayDeque<>();
    }
    if (held.size() >= maxHeld) {
      return false;
    }
    held.add(step);
    return true;
  }

  /** The step now running goes on after an asynchronous lookup: later steps wait for {@link #resume()}. */
  public void suspend() {
    suspended = true;
  }

  /** The suspended step is done: runs the waiting ones in order until one suspends again. */
  public void resume() {
    suspended = false;
    while (!suspended && held != null && !held.isEmpty()) {
      held.poll().run();
    }
  }

  public int held() {
    return held == null ? 0 : held.size();
  }
}
