package io.switchboard.relay.startup;

import io.vertx.pgclient.PgConnectOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What an operator reads when the relay starts: a first line at once (the first start spends
 * seconds unpacking and initialising the embedded Postgres and would otherwise be silent), then,
 * when it listens, the page to open, the admin address and the database in use.
 */
public final class StartMessages {
  private StartMessages() {
  }

  /** The version from the jar's manifest; a build from classes (tests, IDE) has none. */
  public static String version() {
    String v = StartMessages.class.getPackage().getImplementationVersion();
    return v == null ? "(development build)" : v;
  }

  /** True when the embedded Postgres has no cluster in {@code dataDir} yet: this start runs initdb. */
  public static boolean firstStart(Path dataDir) {
    return !Files.exists(dataDir.resolve("pg").resolve("PG_VERSION"));
  }

  /**
   * The first line.
   *
   * @param databaseUrl null for the embedded Postgres in {@code dataDir}
   */
  public static String starting(String version, String databaseUrl, Path dataDir) {
    String head = "switchboard " + version + " starting; ";
    if (databaseUrl != null) {
      return head + "database " + database(databaseUrl, dataDir);
    }
    Path dir = dataDir.toAbsolutePath().normalize();
    if (firstStart(dir)) {
      return head + "first start: unpacking and initialising the embedded Postgres in " + dir
          + " (takes a few seconds, once)";
    }
    return head + "starting the embedded Postgres in " + dir.resolve("pg");
  }

  /** The line when the relay listens: one place with everything needed to use it. */
  public static String ready(String host, int port, String adminHost, int adminPort, String database) {
    String page = pageUrl(host, port);
    String where = anyAddress(host) ? " (listening on all interfaces, port " + port + ")" : "";
    return "ready: open " + page + where + "; WebSocket " + page.replaceFirst("^http", "ws") + "ws"
        + "; admin " + pageUrl(adminHost, adminPort) + " (/health, /ready, /metrics); database " + database;
  }

  /**
   * The page to open in a browser: {@code http://localhost:PORT/} for a wildcard bind (a browser
   * cannot open 0.0.0.0 everywhere, and it says nothing about where to go), else the bound host.
   */
  public static String pageUrl(String host, int port) {
    String h = anyAddress(host) ? "localhost" : host.contains(":") ? "[" + host + "]" : host;
    return "http://" + h + ":" + port + "/";
  }

  static boolean anyAddress(String host) {
    String h = host == null ? "" : host.trim();
    return h.isEmpty() || h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]") || h.equals("0:0:0:0:0:0:0:0");
  }

  /**
   * The database in use, never its password: {@code embedded in DIR/pg} or the URL's
   * {@code postgres://user@host:port/db} (and its sslmode).
   */
  public static String database(String databaseUrl, Path dataDir) {
    if (databaseUrl == null) {
      return "embedded in " + dataDir.toAbsolutePath().normalize().resolve("pg");
    }
    try {
      PgConnectOptions o = PgConnectOptions.fromUri(databaseUrl);
      String host = o.getHost().contains(":") ? "[" + o.getHost() + "]" : o.getHost();
      String ssl = sslMode(databaseUrl);
      return "postgres://" + o.getUser() + "@" + host + ":" + o.getPort() + "/" + o.getDatabase()
          + (ssl == null ? "" : " (sslmode=" + ssl + ")") + " from DATABASE_URL";
    } catch (RuntimeException e) {
      // the start fails on it with its own message; never echo a URL that may hold a password
      return "from DATABASE_URL (unparseable)";
    }
  }

  private static String sslMode(String url) {
    int q = url.indexOf('?');
    if (q < 0) {
      return null;
    }
    for (String pair : url.substring(q + 1).split("&")) {
      if (pair.toLowerCase(Locale.ROOT).startsWith("sslmode=")) {
        return pair.substring("sslmode=".length());
      }
    }
    return null;
  }
}
