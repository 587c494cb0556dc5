package io.switchboard.signaling.stun;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Builds STUN messages byte by byte, independently of ice4j, so tests can write exactly the
 * requests (and odd ones) they mean and check responses against bytes computed here.
 */
final class StunBytes {

  static final byte[] TRANSACTION_ID = HexFormat.of().parseHex("0102030405060708090a0b0c");

  private final int type;
  private byte[] transactionId = TRANSACTION_ID;
  private int cookie = StunWire.MAGIC_COOKIE;
  private final List<byte[]> attributes = new ArrayList<>();
  private boolean fingerprint;

  private StunBytes(int type) {
    this.type = type;
  }

  static StunBytes message(int type) {
    return new StunBytes(type);
  }

  static StunBytes bindingRequest() {
    return new StunBytes(StunWire.BINDING_REQUEST);
  }

  StunBytes transactionId(byte[] id) {
    this.transactionId = id;
    return this;
  }

  StunBytes cookie(int cookie) {
    this.cookie = cookie;
    return this;
  }

  /** An attribute with its value padded to 4 bytes. */
  StunBytes attribute(int attributeType, byte... value) {
    ByteBuffer buffer = ByteBuffer.allocate(4 + ((value.length + 3) & ~3));
    buffer.putShort((short) attributeType).putShort((short) value.length).put(value);
    attributes.add(buffer.array());
    return this;
  }

  StunBytes changeRequest(boolean ip, boolean port) {
    return attribute(StunWire.CHANGE_REQUEST, bytes(0, 0, 0, (ip ? 4 : 0) | (port ? 2 : 0)));
  }

  StunBytes fingerprint() {
    this.fingerprint = true;
    return this;
  }

  byte[] build() {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    attributes.forEach(body::writeBytes);
    int length = body.size() + (fingerprint ? 8 : 0);
    ByteBuffer message = ByteBuffer.allocate(20 + length);
    message.putShort((short) type).putShort((short) length).putInt(cookie).put(transactionId).put(body.toByteArray());
    byte[] bytes = message.array();
    if (fingerprint) {
      ByteBuffer.wrap(bytes, 20 + body.size(), 8)
        .putShort((short) StunWire.FINGERPRINT).putShort((short) 4).putInt(crc(bytes, 20 + body.size()));
    }
    return bytes;
  }

  /** RFC 5389 §15.5: CRC-32 of everything before FINGERPRINT, XOR 0x5354554e. */
  static int crc(byte[] bytes, int length) {
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, length);
    return (int) crc.getValue() ^ 0x5354554e;
  }

  /** The attributes of a well-framed message, as (type, value) pairs in order. */
  static List<Attr> attributes(byte[] message) {
    List<StunWire.Tlv> tlvs = StunWire.frame(message, message.length);
    if (tlvs == null) {
      throw new AssertionError("not a well-framed STUN message: " + hex(message));
    }
    List<Attr> out = new ArrayList<>();
    for (StunWire.Tlv tlv : tlvs) {
      byte[] value = new byte[tlv.length()];
      System.arraycopy(message, tlv.valueOffset(), value, 0, value.length);
      out.add(new Attr(tlv.type(), value));
    }
    return out;
  }

  record Attr(int type, byte[] value) {

    String hexValue() {
      return hex(value);
    }
  }

  static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex.replaceAll("\\s", ""));
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }
}
