package io.switchboard.peer;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A STUN or TURN server, in the shape of WebRTC's {@code RTCIceServer}: {@code urls} such as
 * {@code stun:127.0.0.1:3478} or {@code turn:127.0.0.1:3478?transport=udp}, and for TURN the
 * long-term credentials (with the TURN REST scheme: {@code username = "expiry:user"},
 * {@code credential = base64(HMAC-SHA1(secret, username))}).
 *
 * <p>What ice4j can use here: {@code stun:} (UDP) and {@code turn:} over UDP. {@code stuns:},
 * {@code turns:} and {@code ?transport=tcp} parse but are skipped with a warning when the peer
 * gathers: ice4j's TURN client allocates from UDP host candidates only in this setup, and it has no
 * TLS transport for STUN/TURN.
 *
 * @param urls at least one URL
 * @param username TURN username, {@code null} for STUN-only servers
 * @param credential TURN password, {@code null} for STUN-only servers
 */
public record IceServer(List<String> urls, String username, String credential) {

  public IceServer {
    if (urls == null || urls.isEmpty()) {
      throw new IllegalArgumentException("ice server needs at least one url");
    }
    List<String> copy = new ArrayList<>(urls.size());
    for (String url : urls) {
      Url parsed = Url.parse(url);
      if (parsed.isTurn() && (username == null || credential == null)) {
        throw new IllegalArgumentException("TURN url needs username and credential: " + IpLiteral.abbreviate(url));
      }
      copy.add(url);
    }
    urls = List.copyOf(copy);
  }

  /** A STUN server without credentials. */
  public static IceServer stun(String url) {
    return new IceServer(List.of(url), null, null);
  }

  /** A TURN server with long-term credentials. */
  public static IceServer turn(String url, String username, String credential) {
    return new IceServer(List.of(url), username, credential);
  }

  /** The parsed URLs. */
  List<Url> parsedUrls() {
    return urls.stream().map(Url::parse).toList();
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("urls", new JsonArray(new ArrayList<>(urls)));
    if (username != null) {
      json.put("username", username);
    }
    if (credential != null) {
      json.put("credential", credential);
    }
    return json;
  }

  /** Reads {@code {"urls": [..] | "..", "username": .., "credential": ..}}; throws {@link IllegalArgumentException}. */
  public static IceServer fromJson(JsonObject json) {
    if (json == null) {
      throw new IllegalArgumentException("ice server is null");
    }
    Object urls = json.getValue("urls");
    List<String> list = new ArrayList<>();
    if (urls instanceof String s) {
      list.add(s);
    } else if (urls instanceof JsonArray array) {
      for (Object o : array) {
        if (!(o instanceof String s)) {
          throw new IllegalArgumentException("ice server urls must be strings");
        }
        list.add(s);
      }
    } else {
      throw new IllegalArgumentException("ice server urls must be a string or an array of strings");
    }
    return new IceServer(list, optionalString(json, "username"), optionalString(json, "credential"));
  }

  /** Leaves the credential out: options get logged. */
  @Override
  public String toString() {
    return "IceServer[urls=" + urls + ", username=" + username + ", credential=" + (credential == null ? "null" : "…") + "]";
  }

  private static String optionalString(JsonObject json, String key) {
    Object value = json.getValue(key);
    if (value == null || value instanceof String) {
      return (String) value;
    }
    throw new IllegalArgumentException("ice server " + key + " must be a string");
  }

  /**
   * One parsed STUN/TURN URL (RFC 7064 / RFC 7065): {@code scheme:host[:port][?transport=udp|tcp]}.
   *
   * @param scheme stun, stuns, turn or turns
   * @param host an IP literal (IPv6 without brackets) or a host name
   * @param port given or the scheme's default (3478, 5349 for the TLS schemes)
   * @param transport udp or tcp (tcp for the TLS schemes)
   */
  record Url(String scheme, String host, int port, String transport) {

    boolean isTurn() {
      return scheme.startsWith("turn");
    }

    /** Whether ice4j can use this URL here: plain STUN or TURN over UDP. */
    boolean isSupported() {
      return ("stun".equals(scheme) || "turn".equals(scheme)) && "udp".equals(transport);
    }

    static Url parse(String url) {
      if (url == null) {
        throw new IllegalArgumentException("ice server url is null");
      }
      if (url.length() > 256) {
        throw new IllegalArgumentException("ice server url too long");
      }
      int colon = url.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("ice server url has no scheme: " + IpLiteral.abbreviate(url));
      }
      String scheme = url.substring(0, colon).toLowerCase(Locale.ROOT);
      boolean tls = scheme.equals("stuns") || scheme.equals("turns");
      if (!tls && !scheme.equals("stun") && !scheme.equals("turn")) {
        throw new IllegalArgumentException("ice server url scheme must be stun, stuns, turn or turns: " + IpLiteral.abbreviate(url));
      }
      String rest = url.substring(colon + 1);
      String transport = tls ? "tcp" : "udp";
      int query = rest.indexOf('?');
      if (query >= 0) {
        String q = rest.substring(query + 1).toLowerCase(Locale.ROOT);
        rest = rest.substring(0, query);
        if (!scheme.startsWith("turn") || !(q.equals("transport=udp") || q.equals("transport=tcp"))) {
          throw new IllegalArgumentException("ice server url query must be ?transport=udp|tcp on turn urls: " + IpLiteral.abbreviate(url));
        }
        transport = q.substring("transport=".length());
      }
      String host;
      String portText = null;
      if (rest.startsWith("[")) {
        int close = rest.indexOf(']');
        if (close < 0) {
          throw new IllegalArgumentException("ice server url has an unclosed '[': " + IpLiteral.abbreviate(url));
        }
        host = rest.substring(1, close);
        IpLiteral.parse(host, "ice server IPv6 address");
        String after = rest.substring(close + 1);
        if (!after.isEmpty()) {
          if (!after.startsWith(":")) {
            throw new IllegalArgumentException("ice server url: junk after ']': " + IpLiteral.abbreviate(url));
          }
          portText = after.substring(1);
        }
      } else {
        int portColon = rest.lastIndexOf(':');
        if (portColon >= 0) {
          if (rest.indexOf(':') != portColon) {
            throw new IllegalArgumentException("ice server url: IPv6 hosts need brackets: " + IpLiteral.abbreviate(url));
          }
          portText = rest.substring(portColon + 1);
          rest = rest.substring(0, portColon);
        }
        host = rest;
        if (!host.matches("[A-Za-z0-9.-]{1,253}")) {
          throw new IllegalArgumentException("ice server url host is invalid: " + IpLiteral.abbreviate(url));
        }
      }
      int port = tls ? 5349 : 3478;
      if (portText != null) {
        if (!portText.matches("[0-9]{1,5}") || Integer.parseInt(portText) < 1 || Integer.parseInt(portText) > 65535) {
          throw new IllegalArgumentException("ice server url port must be 1-65535: " + IpLiteral.abbreviate(url));
        }
        port = Integer.parseInt(portText);
      }
      return new Url(scheme, host, port, transport);
    }
  }
}
