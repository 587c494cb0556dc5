package io.switchboard.relay.transport;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The {@code allowedOrigins} setting: which browser origins may open the WebSocket. Origins are
 * compared normalised (scheme and host lower-case, the scheme's default port dropped), so
 * {@code https://App.example:443} in the setting matches the {@code https://app.example} a browser
 * sends. {@code *} allows any origin.
 */
public final class AllowedOrigins {
  private final boolean any;
  private final Set<String> origins;

  private AllowedOrigins(boolean any, Set<String> origins) {
    this.any = any;
    this.origins = Set.copyOf(origins);
  }

  /**
   * @param setting comma-separated origins ({@code scheme://host[:port]}) or {@code *}
   * @throws IllegalArgumentException naming the entry that is not an origin
   */
  public static AllowedOrigins parse(String setting) {
    Set<String> origins = new LinkedHashSet<>();
    boolean any = false;
    for (String raw : setting.split(",", -1)) {
      String entry = raw.trim();
      if (entry.equals("*")) {
        any = true;
        continue;
      }
      String origin = normalise(entry);
      if (origin == null) {
        throw new IllegalArgumentException("allowedOrigins: '" + entry + "' is not an origin; give a comma-separated "
            + "list of scheme://host[:port] (no path, e.g. https://app.example.com) or * for any");
      }
      origins.add(origin);
    }
    return new AllowedOrigins(any, origins);
  }

  /**
   * Whether a WebSocket upgrade with this {@code Origin} header may proceed: no header (not a
   * browser), a listed origin, or the relay's own pages (the origin's host and port are the
   * request's {@code Host}; the demo at {@code /} keeps working whatever the list says).
   */
  public boolean allows(String originHeader, String hostHeader) {
    if (originHeader == null || any) {
      return true;
    }
    String origin = normalise(originHeader.trim());
    return origin != null && (origins.contains(origin) || sameHost(origin, hostHeader));
  }

  private static boolean sameHost(String origin, String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) {
      return false;
    }
    String scheme = origin.substring(0, origin.indexOf("://"));
    // the Host header as an origin of the same scheme: both sides then drop the same default port
    return origin.equals(normalise(scheme + "://" + hostHeader.trim()));
  }

  /**
   * {@code scheme://host[:port]} in canonical form, or null when {@code value} is not an origin
   * (a path, query, user info, an opaque {@code null} origin, no host).
   */
  static String normalise(String value) {
    URI uri;
    try {
      uri = new URI(value);
    } catch (URISyntaxException e) {
      return null;
    }
    String scheme = uri.getScheme();
    String host = uri.getHost();
    if (scheme == null || host == null || uri.getRawUserInfo() != null || uri.getRawQuery() != null
        || uri.getRawFragment() != null || !(uri.getRawPath() == null || uri.getRawPath().isEmpty())) {
      return null;
    }
    scheme = scheme.toLowerCase(Locale.ROOT);
    host = host.toLowerCase(Locale.ROOT);
    int port = uri.getPort();
    if (port == defaultPort(scheme)) {
      port = -1;
    }
    return scheme + "://" + host + (port == -1 ? "" : ":" + port);
  }

  private static int defaultPort(String scheme) {
    return switch (scheme) {
      case "http", "ws" -> 80;
      case "https", "wss" -> 443;
      default -> -2;
    };
  }
}
