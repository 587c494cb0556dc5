package io.switchboard.signaling.stun;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded hostile datagrams: random bytes, and mutations of valid Binding requests (bit flips,
 * truncation, junk appended, length-field lies, attribute-length lies, duplicated or inserted
 * attributes, wrong magic cookie, other message types). Print the seed when a check fails.
 */
final class StunMutator {

  /** Valid requests to mutate: plain, with CHANGE-REQUEST, with ICE attributes and integrity. */
  static final List<byte[]> SEEDS = List.of(
    StunBytes.bindingRequest().build(),
    StunBytes.bindingRequest().fingerprint().build(),
    StunBytes.bindingRequest().changeRequest(true, true).build(),
    StunBytes.bindingRequest().changeRequest(false, true).attribute(0x8022, "client".getBytes()).fingerprint().build(),
    StunBytes.bindingRequest()
      .attribute(0x0006, "abcd:efgh".getBytes())
      .attribute(0x0024, StunBytes.bytes(0x6e, 0, 0x1e, 0xff))
      .attribute(0x802A, new byte[8])
      .attribute(0x0008, new byte[20])
      .fingerprint()
      .build());

  private final Random random;

  StunMutator(long seed) {
    this.random = new Random(seed);
  }

  /** Random bytes of a random length in [0, maxLength]; half of them start with a STUN header. */
  byte[] randomDatagram(int maxLength) {
    byte[] data = new byte[random.nextInt(maxLength + 1)];
    random.nextBytes(data);
    if (data.length >= 20 && random.nextBoolean()) {
      data[0] = (byte) (data[0] & 0x01);
      data[1] = (byte) (random.nextBoolean() ? 0x01 : data[1]);
      int length = random.nextBoolean() ? data.length - 20 : random.nextInt(0x10000);
      data[2] = (byte) (length >> 8);
      data[3] = (byte) length;
      System.arraycopy(StunBytes.hex("2112a442"), 0, data, 4, 4);
    }
    return data;
  }

  /** One to three mutations of a random seed. */
  byte[] mutateSeed() {
    byte[] data = SEEDS.get(random.nextInt(SEEDS.size())).clone();
    int rounds = 1 + random.nextInt(3);
    for (int i = 0; i < rounds; i++) {
      data = mutate(data);
    }
    return data;
  }

  byte[] mutate(byte[] data) {
    switch (random.nextInt(10)) {
      case 0 -> { // bit flips
        for (int i = 0, n = 1 + random.nextInt(4); i < n && data.length > 0; i++) {
          data[random.nextInt(data.length)] ^= (byte) (1 << random.nextInt(8));
        }
      }
      case 1 -> data = Arrays.copyOf(data, random.nextInt(data.length + 1)); // truncation
      case 2 -> { // junk appended, sometimes with the length field following
        byte[] longer = Arrays.copyOf(data, data.length + 1 + random.nextInt(64));
        for (int i = data.length; i < longer.length; i++) {
          longer[i] = (byte) random.nextInt(256);
        }
        if (random.nextBoolean()) {
          putU16(longer, 2, longer.length - 20);
        }
        data = longer;
      }
      case 3 -> putU16(data, 2, lie(data.length - 20)); // message length lie
      case 4 -> { // attribute length lie
        int at = attributeOffset(data);
        if (at >= 0) {
          putU16(data, at + 2, lie(StunWire.u16(data, at + 2)));
        }
      }
      case 5 -> { // duplicate an attribute, message length adjusted
        int at = attributeOffset(data);
        if (at >= 0) {
          int end = Math.min(data.length, at + 4 + ((StunWire.u16(data, at + 2) + 3) & ~3));
          byte[] copy = new byte[data.length + (end - at)];
          System.arraycopy(data, 0, copy, 0, end);
          System.arraycopy(data, at, copy, end, end - at);
          System.arraycopy(data, end, copy, 2 * end - at, data.length - end);
          putU16(copy, 2, copy.length - 20);
          data = copy;
        }
      }
      case 6 -> { // insert a random attribute at the front, message length adjusted
        int length = random.nextInt(24);
        byte[] attribute = new byte[4 + ((length + 3) & ~3)];
        random.nextBytes(attribute);
        int type = random.nextBoolean() ? random.nextInt(0x30) : random.nextInt(0x10000);
        putU16(attribute, 0, type);
        putU16(attribute, 2, length);
        if (data.length >= 20) {
          byte[] longer = new byte[data.length + attribute.length];
          System.arraycopy(data, 0, longer, 0, 20);
          System.arraycopy(attribute, 0, longer, 20, attribute.length);
          System.arraycopy(data, 20, longer, 20 + attribute.length, data.length - 20);
          putU16(longer, 2, longer.length - 20);
          data = longer;
        }
      }
      case 7 -> { // wrong magic cookie
        if (data.length >= 8) {
          data[4 + random.nextInt(4)] ^= (byte) (1 + random.nextInt(255));
        }
      }
      case 8 -> putU16(data, 0, random.nextBoolean() ? random.nextInt(0x40) : random.nextInt(0x10000)); // message type
      default -> { // overwrite a byte in the attribute area with an extreme value
        if (data.length > 20) {
          data[20 + random.nextInt(data.length - 20)] = (byte) (random.nextBoolean() ? 0xFF : 0x00);
        }
      }
    }
    return data;
  }

  private int lie(int truth) {
    return switch (random.nextInt(4)) {
      case 0 -> truth + 4;
      case 1 -> Math.max(0, truth - 4);
      case 2 -> 0xFFFF;
      default -> random.nextInt(0x10000);
    };
  }

  /** The offset of a random attribute header within the (possibly broken) attribute area, or -1. */
  private int attributeOffset(byte[] data) {
    int offset = 20;
    int chosen = -1;
    int seen = 0;
    while (offset + 4 <= data.length) {
      seen++;
      if (random.nextInt(seen) == 0) {
        chosen = offset;
      }
      offset += 4 + ((StunWire.u16(data, offset + 2) + 3) & ~3);
    }
    return chosen;
  }

  private static void putU16(byte[] data, int offset, int value) {
    if (offset + 1 < data.length) {
      data[offset] = (byte) (value >> 8);
      data[offset + 1] = (byte) value;
    }
  }
}
