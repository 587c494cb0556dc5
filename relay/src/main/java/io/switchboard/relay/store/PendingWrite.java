package io.switchboard.relay.store;

import java.util.Objects;

/**
 * A message handed to the {@link BatchWriter} together with who wants to hear about it. It is only
 * stored while this node owns its room in {@code epoch}.
 */
public record PendingWrite(StoredMessage message, String epoch, WriteListener listener) {

  public PendingWrite {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(epoch, "epoch");
    Objects.requireNonNull(listener, "listener");
  }
}
