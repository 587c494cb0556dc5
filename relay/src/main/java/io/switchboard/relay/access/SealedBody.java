package io.switchboard.relay.access;

/**
 * The shape of a body sealed by the SDK for an encrypted room: {@code e1.<keyId>.<payload>}, keyId
 * 1–32 of {@code [A-Za-z0-9_-]}, payload base64url without padding of {@code iv(12) || AES-GCM
 * ciphertext+tag(>= 16)}, so at least 28 bytes decoded. The relay cannot check the seal itself (it has
 * no key); it checks the shape so that a client that forgot to seal is refused instead of storing
 * plaintext. A plain scan, no allocation: it runs on every send into an encrypted room.
 */
public final class SealedBody {
  static final String PREFIX = "e1.";
  static final int MAX_KEY_ID = 32;
  /** 12-byte iv plus a 16-byte tag of an empty plaintext. */
  static final int MIN_PAYLOAD_BYTES = 28;

  private SealedBody() {
  }

  public static boolean isSealed(String body) {
    if (body == null || !body.startsWith(PREFIX)) {
      return false;
    }
    int dot = body.indexOf('.', PREFIX.length());
    int keyLength = dot - PREFIX.length();
    if (dot < 0 || keyLength < 1 || keyLength > MAX_KEY_ID || !base64url(body, PREFIX.length(), dot)) {
      return false;
    }
    int chars = body.length() - dot - 1;
    // unpadded base64: a remainder of 1 char is never valid; 4 chars carry 3 bytes, 2 carry 1, 3 carry 2
    if (chars % 4 == 1 || (long) chars * 3 / 4 < MIN_PAYLOAD_BYTES) {
      return false;
    }
    return base64url(body, dot + 1, body.length());
  }

  /** Whether {@code s[from, to)} is all of {@code A-Z a-z 0-9 - _} (the keyId's alphabet too). */
  private static boolean base64url(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
        return false;
      }
    }
    return true;
  }
}
