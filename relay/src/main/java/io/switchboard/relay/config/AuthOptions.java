package io.switchboard.relay.config;

import io.vertx.core.json.JsonObject;

/**
 * Who may connect: the app's JWTs (Supabase Auth: a JWKS URL for ES256/RS256 keys, the legacy
 * HS256 secret, or both during a key migration) and the relay's own guests. Guests are on when no
 * JWT setting is given, off otherwise unless {@code guests} says so. Environment:
 * {@code SWITCHBOARD_AUTH_*}.
 */
public final class AuthOptions {
  public static final String DEFAULT_AUDIENCE = "authenticated";
  /** A week: a returning guest keeps its identity that long; each hello and refresh hands out a new token. */
  public static final long DEFAULT_GUEST_TOKEN_TTL_SECONDS = 7 * 24 * 3600;
  /** Clock difference tolerated on {@code exp}, {@code nbf} and {@code iat}. */
  public static final long DEFAULT_CLOCK_SKEW_SECONDS = 30;
  /** Time between {@code token_expired} and the close, for an {@code auth} refresh to arrive. */
  public static final long DEFAULT_EXPIRY_GRACE_MS = 10_000;
  /** Least time between two JWKS fetches triggered by an unknown {@code kid}. */
  public static final long DEFAULT_JWKS_REFETCH_INTERVAL_MS = 10_000;

  private String jwksUrl;
  private String jwtSecret;
  private String issuer;
  private String audience = DEFAULT_AUDIENCE;
  private Boolean guests;
  private long guestTokenTtlSeconds = DEFAULT_GUEST_TOKEN_TTL_SECONDS;
  private long clockSkewSeconds = DEFAULT_CLOCK_SKEW_SECONDS;
  private long expiryGraceMs = DEFAULT_EXPIRY_GRACE_MS;
  private long jwksRefetchIntervalMs = DEFAULT_JWKS_REFETCH_INTERVAL_MS;

  public AuthOptions() {
  }

  public AuthOptions(AuthOptions other) {
    this(other.toJson());
  }

  public AuthOptions(JsonObject json) {
    JsonObject known = toJson();
    for (String key : json.fieldNames()) {
      if (!known.containsKey(key)) {
        throw new IllegalArgumentException("unknown auth setting '" + key + "'; known: " + known.fieldNames());
      }
    }
    setJwksUrl(json.getString("jwksUrl", jwksUrl));
    setJwtSecret(json.getString("jwtSecret", jwtSecret));
    setIssuer(json.getString("issuer", issuer));
    setAudience(json.getString("audience", audience));
    setGuests(bool("guests", json.getValue("guests")));
    setGuestTokenTtlSeconds(json.getLong("guestTokenTtlSeconds", guestTokenTtlSeconds));
    setClockSkewSeconds(json.getLong("clockSkewSeconds", clockSkewSeconds));
    setExpiryGraceMs(json.getLong("expiryGraceMs", expiryGraceMs));
    setJwksRefetchIntervalMs(json.getLong("jwksRefetchIntervalMs", jwksRefetchIntervalMs));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("jwksUrl", jwksUrl).put("jwtSecret", jwtSecret).put("issuer", issuer).put("audience", audience)
        .put("guests", guests).put("guestTokenTtlSeconds", guestTokenTtlSeconds)
        .put("clockSkewSeconds", clockSkewSeconds).put("expiryGraceMs", expiryGraceMs)
        .put("jwksRefetchIntervalMs", jwksRefetchIntervalMs);
  }

  /** The environment gives strings; a setting left unset (null) means "decide from the others". */
  private static Boolean bool(String name, Object value) {
    if (value == null || value instanceof Boolean) {
      return (Boolean) value;
    }
    String s = value.toString().trim();
    if (s.equals("true") || s.equals("false")) {
      return Boolean.parseBoolean(s);
    }
    throw new IllegalArgumentException("auth." + name + " must be true or false, was '" + s + "'");
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static long nonNegative(String name, long value) {
    if (value < 0) {
      throw new IllegalArgumentException("auth." + name + " must be >= 0, was " + value);
    }
    return value;
  }

  /** True when a JWT setting is given: the app's users authenticate with its tokens. */
  public boolean jwtConfigured() {
    return jwksUrl != null || jwtSecret != null;
  }

  /** Guests are the default without JWTs, and only allowed alongside them when asked for. */
  public boolean guestsAllowed() {
    return guests != null ? guests : !jwtConfigured();
  }

  public String getJwksUrl() { return jwksUrl; }
  public AuthOptions setJwksUrl(String v) { jwksUrl = blankToNull(v); return this; }
  public String getJwtSecret() { return jwtSecret; }
  public AuthOptions setJwtSecret(String v) { jwtSecret = blankToNull(v); return this; }
  public String getIssuer() { return issuer; }
  public AuthOptions setIssuer(String v) { issuer = blankToNull(v); return this; }
  public String getAudience() { return audience; }
  public AuthOptions setAudience(String v) { audience = blankToNull(v); return this; }
  public Boolean getGuests() { return guests; }
  public AuthOptions setGuests(Boolean v) { guests = v; return this; }
  public long getGuestTokenTtlSeconds() { return guestTokenTtlSeconds; }
  public AuthOptions setGuestTokenTtlSeconds(long v) {
    if (v < 60) {
      throw new IllegalArgumentException("auth.guestTokenTtlSeconds must be >= 60, was " + v);
    }
    guestTokenTtlSeconds = v;
    return this;
  }
  public long getClockSkewSeconds() { return clockSkewSeconds; }
  public AuthOptions setClockSkewSeconds(long v) { clockSkewSeconds = nonNegative("clockSkewSeconds", v); return this; }
  public long getExpiryGraceMs() { return expiryGraceMs; }
  public AuthOptions setExpiryGraceMs(long v) { expiryGraceMs = nonNegative("expiryGraceMs", v); return this; }
  public long getJwksRefetchIntervalMs() { return jwksRefetchIntervalMs; }
  public AuthOptions setJwksRefetchIntervalMs(long v) { jwksRefetchIntervalMs = nonNegative("jwksRefetchIntervalMs", v); return this; }
}
