package io.switchboard.relay.store;

/**
 * Outcome of one {@link BatchWriter#offer}; called on the writer's context.
 */
public interface WriteListener {

  /**
   * At most once, as soon as the message is known not to be stored promptly (it was offered while
   * the store was degraded, or a flush that held it failed). It will still be stored later.
   */
  void onDelayed();

  /**
   * Exactly once (unless fenced), when the row is committed or was already there: {@code seq} is the one the table
   * holds for the message's {@code (room, sender, cid)}, which differs from the offered seq when
   * this was a resend of an already stored message.
   */
  void onStored(long seq);

  /**
   * Exactly once instead of {@link #onStored}, when this node no longer owns the message's room in
   * the message's epoch (another relay took it over): the message was not stored and never will be.
   */
  void onFenced();
}
