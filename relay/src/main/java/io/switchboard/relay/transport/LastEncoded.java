package io.switchboard.relay.transport;

import java.nio.charset.StandardCharsets;

/**
 * The UTF-8 bytes of the last text a transport's connections wrote. A fan-out writes one String
 * instance to every receiver in turn, so with this it is encoded once per frame instead of once per
 * receiver: in a JFR profile of the 100-user chat, {@code String.getBytes} inside
 * {@code writeTextMessage} was 44 % of the relay's allocation. Matched by identity, never by
 * content. Entries are immutable (final fields), so connections on several event loops may share
 * one: a race costs a miss, never another text's bytes.
 */
final class LastEncoded {
  private record Entry(String text, byte[] utf8) {
  }

  private Entry last;

  /** The text's UTF-8; the same array for the same instance while no other text came between. */
  byte[] utf8(String text) {
    Entry e = last;
    if (e != null && e.text() == text) {
      return e.utf8();
    }
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    last = new Entry(text, utf8);
    return utf8;
  }
}
