package io.switchboard.relay.auth;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public keys of one JWKS URL, keyed by the key source's id (the configured issuer, else the
 * URL) and {@code kid}. Fresh for at most 10 minutes (less when the response's max-age says so);
 * an unknown {@code kid} triggers a refetch, but all fetches are single-flight and at most one per
 * {@code refetchIntervalMs}, so a flood of random kids costs one request per interval. While the
 * endpoint fails, the last keys it served stay in use. Runs on one event loop (no locks).
 */
public final class JwksCache {
  private static final Logger LOG = LoggerFactory.getLogger(JwksCache.class);
  /** Supabase's edge caches its JWKS this long; rotated keys show up within it. */
  public static final long MAX_AGE_MS = 10 * 60_000;

  /** A fetched JWKS document and its Cache-Control max-age in ms (negative: none given). */
  public record Fetched(JsonObject body, long maxAgeMs) {}

  private final String source;
  private final Supplier<Future<Fetched>> fetch;
  private final long refetchIntervalMs;
  private final LongSupplier millis;
  private Map<String, JwtKey> keys = Map.of();
  private boolean loaded;
  private long freshUntilMs;
  private long lastFetchMs;
  private boolean fetchedOnce;
  private Future<Void> inFlight;

  public JwksCache(String source, Supplier<Future<Fetched>> fetch, long refetchIntervalMs, LongSupplier millis) {
    this.source = source;
    this.fetch = fetch;
    this.refetchIntervalMs = refetchIntervalMs;
    this.millis = millis;
  }

  /** The key source's id: the issuer tokens must name to use these keys, else the JWKS URL. */
  public String source() {
    return source;
  }

  /**
   * The key of {@code source} + {@code kid}. Fails with {@code unauthorized} when the JWKS has no such
   * key, with {@code auth_unavailable} when the JWKS could never be fetched.
   */
  public Future<JwtKey> key(String tokenSource, String kid) {
    if (!source.equals(tokenSource)) {
      return Future.failedFuture(new ProtocolException(ErrorCode.UNAUTHORIZED, "token from an unknown issuer"));
    }
    String k = kid == null ? "" : kid;
    long now = millis.getAsLong();
    JwtKey key = keys.get(k);
    boolean fresh = loaded && now < freshUntilMs;
    if (key != null && fresh) {
      return Future.succeededFuture(key);
    }
    if (inFlight == null && fetchedOnce && now - lastFetchMs < refetchIntervalMs) {
      return lookedUp(k);
    }
    return refresh(now).transform(ar -> lookedUp(k));
  }

  private Future<JwtKey> lookedUp(String kid) {
    JwtKey key = keys.get(kid);
    if (key != null) {
      return Future.succeededFuture(key);
    }
    if (!loaded) {
      return Future.failedFuture(new ProtocolException(ErrorCode.AUTH_UNAVAILABLE,
          "the relay cannot reach its JWKS to check the token; retry later with the same token"));
    }
    return Future.failedFuture(new ProtocolException(ErrorCode.UNAUTHORIZED, "token signed with an unknown key"));
  }

  private Future<Void> refresh(long now) {
    if (inFlight != null) {
      return inFlight;
    }
    fetchedOnce = true;
    lastFetchMs = now;
    Promise<Void> done = Promise.promise();
    inFlight = done.future();
    Future<Fetched> fetching;
    try {
      fetching = fetch.get();
    } catch (RuntimeException e) {
      fetching = Future.failedFuture(e);
    }
    fetching.onComplete(ar -> {
      inFlight = null;
      if (ar.succeeded()) {
        keys = parse(ar.result().body());
        loaded = true;
        long maxAge = ar.result().maxAgeMs();
        freshUntilMs = millis.getAsLong() + (maxAge < 0 ? MAX_AGE_MS : Math.min(maxAge, MAX_AGE_MS));
      } else {
        LOG.warn("fetching the JWKS of {} failed ({}); {}", source, ar.cause().toString(),
            loaded ? "keeping the " + keys.size() + " keys it served last" : "JWT logins wait for it");
      }
      done.complete();
    });
    return done.future();
  }

  private static Map<String, JwtKey> parse(JsonObject body) {
    Map<String, JwtKey> parsed = new HashMap<>();
    Object list = body == null ? null : body.getValue("keys");
    if (list instanceof JsonArray array) {
      for (Object o : array) {
        JwtKey key = o instanceof JsonObject jwk ? JwtKey.fromJwk(jwk) : null;
        if (key != null) {
          parsed.putIfAbsent(key.kid(), key);
        }
      }
    }
    return Map.copyOf(parsed);
  }
}
