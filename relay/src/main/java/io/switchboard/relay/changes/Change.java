package io.switchboard.relay.changes;

/** What a client asks to change of one message. */
public sealed interface Change {
  /** The author's new body (already validated like {@code send.body}). */
  record Edit(String body) implements Change {}

  /** Delete-for-everyone: the body and reactions are erased. */
  record Delete() implements Change {}

  /** The user's reaction {@code emoji} on ({@code on}) or off. */
  record React(String emoji, boolean on) implements Change {}
}
