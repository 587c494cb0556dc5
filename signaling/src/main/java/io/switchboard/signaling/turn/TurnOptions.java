package io.switchboard.signaling.turn;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Options of the TURN credential service, in the style of Vert.x options classes: defaults as
 * constants, a no-arg, a copy and a {@link JsonObject} constructor, fluent setters, and every
 * check in {@link #validate()}.
 *
 * <p>TURN is off while {@link #getUrls() urls} is empty. The {@link #getSecret() secret} is shared
 * with coturn ({@code static-auth-secret}); when it is not configured it is loaded from (or created
 * in) {@code <dataDir>/turn-secret}, the file {@code turn-config/run-coturn.sh} reads.
 */
public class TurnOptions {

  public static final List<String> DEFAULT_URLS = List.of();
  public static final String DEFAULT_SECRET = null;
  public static final long DEFAULT_TTL_SECONDS = 3600;
  public static final String DEFAULT_REALM = "switchboard";

  public static final long MIN_TTL_SECONDS = 60;
  public static final long MAX_TTL_SECONDS = 86_400;
  public static final int MIN_SECRET_LENGTH = 16;

  /** RFC 7065: {@code turn:} or {@code turns:}, a host, an optional port, an optional transport. */
  private static final Pattern TURN_URL =
    Pattern.compile("turns?:(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(\\?transport=(udp|tcp))?");
  /** What coturn accepts as a realm (its is_secure_string) and as a config-file value. */
  private static final Pattern REALM = Pattern.compile("[!#-&(-\\[\\]-~]+");

  private List<String> urls;
  private String secret;
  private long ttlSeconds;
  private String realm;

  public TurnOptions() {
    urls = new ArrayList<>(DEFAULT_URLS);
    secret = DEFAULT_SECRET;
    ttlSeconds = DEFAULT_TTL_SECONDS;
    realm = DEFAULT_REALM;
  }

  public TurnOptions(TurnOptions other) {
    urls = new ArrayList<>(other.urls);
    secret = other.secret;
    ttlSeconds = other.ttlSeconds;
    realm = other.realm;
  }

  /** Missing keys keep their defaults. Call {@link #validate()} before use. */
  public TurnOptions(JsonObject json) {
    this();
    JsonArray jsonUrls = json.getJsonArray("urls");
    if (jsonUrls != null) {
      List<String> list = new ArrayList<>();
      for (Object url : jsonUrls) {
        if (!(url instanceof String)) {
          throw new IllegalArgumentException("turn.urls must be an array of strings");
        }
        list.add((String) url);
      }
      setUrls(list);
    }
    setSecret(json.getString("secret", secret));
    setTtlSeconds(json.getLong("ttlSeconds", ttlSeconds));
    setRealm(json.getString("realm", realm));
  }

  /** Includes the secret when one is configured: don't log it. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("urls", new JsonArray(new ArrayList<>(urls)));
    if (secret != null) {
      json.put("secret", secret);
    }
    return json.put("ttlSeconds", ttlSeconds).put("realm", realm);
  }

  /**
   * Checks every option.
   *
   * @throws IllegalArgumentException naming the first option that is wrong and why
   */
  public TurnOptions validate() {
    for (String url : urls) {
      if (url == null || !(url.startsWith("turn:") || url.startsWith("turns:"))) {
        throw new IllegalArgumentException("turn url must start with turn: or turns: (got " + url + ")");
      }
      if (!TURN_URL.matcher(url).matches()) {
        throw new IllegalArgumentException("turn url must look like turn:HOST[:PORT][?transport=udp|tcp] (got " + url + ")");
      }
    }
    if (secret != null && !TurnSecret.isValid(secret)) {
      throw new IllegalArgumentException("turn secret must be at least " + MIN_SECRET_LENGTH
        + " printable ASCII characters without spaces (or unset to use <dataDir>/turn-secret)");
    }
    if (ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS) {
      throw new IllegalArgumentException("turn ttlSeconds must be in " + MIN_TTL_SECONDS + ".." + MAX_TTL_SECONDS
        + " (got " + ttlSeconds + ")");
    }
    if (realm == null || !REALM.matcher(realm).matches()) {
      throw new IllegalArgumentException("turn realm must be non-empty printable ASCII without spaces, quotes or backslashes (got "
        + realm + ")");
    }
    return this;
  }

  /** Whether browsers are offered TURN at all: at least one url is configured. */
  public boolean isEnabled() {
    return !urls.isEmpty();
  }

  /** The urls handed to browsers as one RTCIceServer; an unmodifiable view. */
  public List<String> getUrls() {
    return Collections.unmodifiableList(urls);
  }

  /**
   * For example {@code turn:turn.example.com:3478?transport=udp},
   * {@code turn:turn.example.com:3478?transport=tcp}, {@code turns:turn.example.com:5349}.
   * Empty (the default) disables TURN.
   */
  public TurnOptions setUrls(List<String> urls) {
    this.urls = new ArrayList<>(Objects.requireNonNull(urls, "urls"));
    return this;
  }

  public TurnOptions addUrl(String url) {
    urls.add(url);
    return this;
  }

  public String getSecret() {
    return secret;
  }

  /** coturn's {@code static-auth-secret}; null or blank loads (or creates) {@code <dataDir>/turn-secret}. */
  public TurnOptions setSecret(String secret) {
    this.secret = secret == null || secret.isBlank() ? null : secret;
    return this;
  }

  public long getTtlSeconds() {
    return ttlSeconds;
  }

  /** How long an issued credential stays valid, {@value #MIN_TTL_SECONDS}..{@value #MAX_TTL_SECONDS} s. */
  public TurnOptions setTtlSeconds(long ttlSeconds) {
    this.ttlSeconds = ttlSeconds;
    return this;
  }

  public String getRealm() {
    return realm;
  }

  /**
   * The realm coturn runs with ({@code SWITCHBOARD_TURN_REALM} of {@code run-coturn.sh}). The REST
   * credential scheme does not sign it; browsers learn it from coturn's 401 challenge.
   */
  public TurnOptions setRealm(String realm) {
    this.realm = realm;
    return this;
  }
}
