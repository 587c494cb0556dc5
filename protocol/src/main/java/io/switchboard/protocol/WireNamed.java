package io.switchboard.protocol;

/** An enum constant with a name on the wire. */
interface WireNamed {
  String wire();

  /** The constant of {@code type} named {@code value} on the wire, or null. */
  static <E extends Enum<E> & WireNamed> E fromWire(Class<E> type, String value) {
    for (E constant : type.getEnumConstants()) {
      if (constant.wire().equals(value)) {
        return constant;
      }
    }
    return null;
  }
}
