package io.switchboard.relay.store;

import java.util.Objects;

/** A message handed to the {@link BatchWriter} together with who wants to hear about it. */
public record PendingWrite(StoredMessage message, WriteListener listener) {

  public PendingWrite {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(listener, "listener");
  }
}
