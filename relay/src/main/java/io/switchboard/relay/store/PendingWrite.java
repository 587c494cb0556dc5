package io.switchboard.relay.store;

import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A message handed to the {@link BatchWriter} together with who wants to hear about it. It is only
 * stored while this node owns its room in {@code epoch}; {@code durable} is the room's watermark,
 * read when the batch is written and recorded with it (every message of a room passes the same
 * supplier).
 */
public record PendingWrite(StoredMessage message, String epoch, LongSupplier durable, WriteListener listener) {

  public PendingWrite {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(epoch, "epoch");
    Objects.requireNonNull(durable, "durable");
    Objects.requireNonNull(listener, "listener");
  }
}
