package io.switchboard.relay.http;

import io.switchboard.protocol.ErrorCode;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/** {@code Authorization: Bearer <token>} on HTTP requests: reading it, checking a shared token, refusing. */
public final class Bearer {
  private static final String SCHEME = "bearer ";

  private Bearer() {
  }

  /**
   * The bearer token of the request; null when there is no Authorization header.
   * @return "" for a header that is not a bearer token (refused like a wrong token)
   */
  public static String token(RoutingContext ctx) {
    String header = ctx.request().getHeader("authorization");
    if (header == null) {
      return null;
    }
    String h = header.trim();
    // RFC 9110: the scheme is case-insensitive
    if (h.length() <= SCHEME.length() || !h.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME)) {
      return "";
    }
    return h.substring(SCHEME.length()).trim();
  }

  /**
   * Whether {@code presented} is {@code expected}, in time independent of where they differ and of
   * their lengths (both are hashed first), so the admin token cannot be guessed byte by byte.
   */
  public static boolean matches(String presented, String expected) {
    if (presented == null || expected == null) {
      return false;
    }
    return MessageDigest.isEqual(sha256(presented), sha256(expected));
  }

  /** 401 with {@code WWW-Authenticate: Bearer} and the JSON error body. */
  public static void unauthorized(RoutingContext ctx, String message) {
    ctx.response().putHeader("www-authenticate", "Bearer");
    JsonResponses.error(ctx, 401, ErrorCode.UNAUTHORIZED, message);
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
