package io.switchboard.signaling.stun;

import org.ice4j.attribute.Attribute;
import org.ice4j.attribute.OptionalAttribute;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * What ice4j leaves to us on the wire: the framing checks of RFC 5389 §6/§7.3 done before a
 * datagram reaches ice4j's decoder, the two RFC 5780 address attributes ice4j has no class for,
 * and UNKNOWN-ATTRIBUTES in RFC 5389's layout.
 * <p>
 * ice4j's {@code AddressAttribute} is package-private and its type check rejects 0x802B/0x802C,
 * but {@link OptionalAttribute} (what its decoder makes of any attribute it does not know) has a
 * protected constructor and a public body: a subclass carrying a MAPPED-ADDRESS-format value
 * (RFC 5780 §7.1) is encoded by {@code Message.encode} like any other attribute, and a decoded
 * response gives the same value back through {@link OptionalAttribute#getBody()}.
 */
final class StunWire {

  static final int HEADER_LENGTH = 20;
  static final int MAGIC_COOKIE = 0x2112A442;

  static final char BINDING_REQUEST = 0x0001;
  static final char BINDING_SUCCESS = 0x0101;
  static final char BINDING_ERROR = 0x0111;

  static final char CHANGE_REQUEST = Attribute.CHANGE_REQUEST;
  static final char MESSAGE_INTEGRITY = Attribute.MESSAGE_INTEGRITY;
  /** RFC 8489 §14.6. */
  static final char MESSAGE_INTEGRITY_SHA256 = 0x001C;
  static final char FINGERPRINT = Attribute.FINGERPRINT;
  /** RFC 5780 §7.3. */
  static final char RESPONSE_ORIGIN = 0x802B;
  /** RFC 5780 §7.4 (the IANA registry's number; the section's text wrongly says 0x0005). */
  static final char OTHER_ADDRESS = 0x802C;

  static final int CHANGE_IP = 0x04;
  static final int CHANGE_PORT = 0x02;

  private static final byte FAMILY_IPV4 = 0x01;
  private static final byte FAMILY_IPV6 = 0x02;

  private StunWire() {
  }

  /** One attribute as framed in a message: type, value length (unpadded), value offset. */
  record Tlv(char type, int length, int valueOffset) {
  }

  /**
   * The attributes of a datagram that passes the framing checks (first two bits zero, magic
   * cookie, length field a multiple of 4 that matches the datagram exactly, every attribute's
   * padded value inside the message, FINGERPRINT only as the last attribute), or {@code null}.
   * Never reads outside {@code data[0, length)}.
   */
  static List<Tlv> frame(byte[] data, int length) {
    if (length < HEADER_LENGTH || length > data.length || (data[0] & 0xC0) != 0 || int32(data, 4) != MAGIC_COOKIE) {
      return null;
    }
    int messageLength = u16(data, 2);
    if ((messageLength & 3) != 0 || HEADER_LENGTH + messageLength != length) {
      return null;
    }
    List<Tlv> attributes = new ArrayList<>();
    int offset = HEADER_LENGTH;
    while (offset < length) {
      if (offset + 4 > length) {
        return null;
      }
      char type = (char) u16(data, offset);
      int valueLength = u16(data, offset + 2);
      int next = offset + 4 + ((valueLength + 3) & ~3);
      if (next > length) {
        return null;
      }
      if (type == FINGERPRINT && (next != length || valueLength != 4)) {
        return null;
      }
      attributes.add(new Tlv(type, valueLength, offset + 4));
      offset = next;
    }
    return attributes;
  }

  static int u16(byte[] data, int offset) {
    return ((data[offset] & 0xFF) << 8) | (data[offset + 1] & 0xFF);
  }

  static int int32(byte[] data, int offset) {
    return (u16(data, offset) << 16) | u16(data, offset + 2);
  }

  /** RESPONSE-ORIGIN or OTHER-ADDRESS carrying {@code address}. */
  static Attribute addressAttribute(char type, InetSocketAddress address) {
    return new RawAttribute(type, type == OTHER_ADDRESS ? "OTHER-ADDRESS" : "RESPONSE-ORIGIN", encodeAddress(address));
  }

  /**
   * UNKNOWN-ATTRIBUTES as RFC 5389 §15.9 has it: 2 bytes per type, then ordinary padding. ice4j's
   * own class pads an odd list the RFC 3489 way, by repeating an entry and counting it in the
   * length, which RFC 5389 readers then see as one more attribute.
   */
  static Attribute unknownAttributes(List<Character> types) {
    byte[] value = new byte[2 * types.size()];
    for (int i = 0; i < types.size(); i++) {
      value[2 * i] = (byte) (types.get(i) >> 8);
      value[2 * i + 1] = (byte) types.get(i).charValue();
    }
    return new RawAttribute(Attribute.UNKNOWN_ATTRIBUTES, "UNKNOWN-ATTRIBUTES", value);
  }

  /** The MAPPED-ADDRESS-format value (RFC 5389 §15.1) of {@code address}. */
  static byte[] encodeAddress(InetSocketAddress address) {
    byte[] ip = address.getAddress().getAddress();
    byte[] value = new byte[4 + ip.length];
    value[1] = ip.length == 16 ? FAMILY_IPV6 : FAMILY_IPV4;
    value[2] = (byte) (address.getPort() >> 8);
    value[3] = (byte) address.getPort();
    System.arraycopy(ip, 0, value, 4, ip.length);
    return value;
  }

  /** The address in a MAPPED-ADDRESS-format value, or {@code null} if the value is malformed. */
  static InetSocketAddress decodeAddress(byte[] value) {
    if (value == null || value.length < 4) {
      return null;
    }
    int ipLength = switch (value[1]) {
      case FAMILY_IPV4 -> 4;
      case FAMILY_IPV6 -> 16;
      default -> -1;
    };
    if (value.length != 4 + ipLength) {
      return null;
    }
    byte[] ip = new byte[ipLength];
    System.arraycopy(value, 4, ip, 0, ipLength);
    try {
      return new InetSocketAddress(InetAddress.getByAddress(ip), u16(value, 2));
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** An attribute whose value we encode ourselves; ice4j frames and pads it like its own. */
  private static final class RawAttribute extends OptionalAttribute {

    private final String name;

    RawAttribute(char type, String name, byte[] value) {
      super(type);
      this.name = name;
      setBody(value, 0, value.length);
    }

    @Override
    public String getName() {
      return name;
    }
  }
}
