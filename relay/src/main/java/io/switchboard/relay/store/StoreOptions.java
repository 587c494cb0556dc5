package io.switchboard.relay.store;

import io.vertx.core.json.JsonObject;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

import javax.net.ssl.TrustManagerFactory;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Options of the persistence layer, in the style of Vert.x options classes.
 */
public class StoreOptions {

  public static final String DEFAULT_DATABASE_URL = null;
  public static final String DEFAULT_DATA_DIR = "./data";
  public static final int DEFAULT_EMBEDDED_PORT = 0;
  public static final int DEFAULT_POOL_SIZE = 4;
  public static final int DEFAULT_BATCH_MAX_MESSAGES = 256;
  public static final long DEFAULT_BATCH_MAX_DELAY_MS = 100;
  public static final int DEFAULT_RETRY_QUEUE_MAX = 10_000;
  public static final boolean DEFAULT_TRANSACTION_POOLER = false;
  public static final int DEFAULT_BREAKER_MAX_FAILURES = 3;
  public static final long DEFAULT_BREAKER_RESET_TIMEOUT_MS = 2_000;
  public static final long DEFAULT_WRITE_TIMEOUT_MS = 5_000;
  public static final long DEFAULT_EMBEDDED_WATCH_MS = 1_000;
  public static final int DEFAULT_EMBEDDED_RESTART_MAX_FAILURES = 3;
  public static final long DEFAULT_LEASE_MS = 15_000;
  public static final int DEFAULT_RETENTION_DAYS = 0;
  public static final long DEFAULT_MAX_DATABASE_BYTES = 0;

  private String databaseUrl;
  private String dataDir;
  private int embeddedPort;
  private int poolSize;
  private int batchMaxMessages;
  private long batchMaxDelayMs;
  private int retryQueueMax;
  private boolean transactionPooler;
  private int breakerMaxFailures;
  private long breakerResetTimeoutMs;
  private long writeTimeoutMs;
  private long embeddedWatchMs;
  private int embeddedRestartMaxFailures;
  private long leaseMs;
  private int retentionDays;
  private long maxDatabaseBytes;

  public StoreOptions() {
    databaseUrl = DEFAULT_DATABASE_URL;
    dataDir = DEFAULT_DATA_DIR;
    embeddedPort = DEFAULT_EMBEDDED_PORT;
    poolSize = DEFAULT_POOL_SIZE;
    batchMaxMessages = DEFAULT_BATCH_MAX_MESSAGES;
    batchMaxDelayMs = DEFAULT_BATCH_MAX_DELAY_MS;
    retryQueueMax = DEFAULT_RETRY_QUEUE_MAX;
    transactionPooler = DEFAULT_TRANSACTION_POOLER;
    breakerMaxFailures = DEFAULT_BREAKER_MAX_FAILURES;
    breakerResetTimeoutMs = DEFAULT_BREAKER_RESET_TIMEOUT_MS;
    writeTimeoutMs = DEFAULT_WRITE_TIMEOUT_MS;
    embeddedWatchMs = DEFAULT_EMBEDDED_WATCH_MS;
    embeddedRestartMaxFailures = DEFAULT_EMBEDDED_RESTART_MAX_FAILURES;
    leaseMs = DEFAULT_LEASE_MS;
    retentionDays = DEFAULT_RETENTION_DAYS;
    maxDatabaseBytes = DEFAULT_MAX_DATABASE_BYTES;
  }

  public StoreOptions(StoreOptions other) {
    databaseUrl = other.databaseUrl;
    dataDir = other.dataDir;
    embeddedPort = other.embeddedPort;
    poolSize = other.poolSize;
    batchMaxMessages = other.batchMaxMessages;
    batchMaxDelayMs = other.batchMaxDelayMs;
    retryQueueMax = other.retryQueueMax;
    transactionPooler = other.transactionPooler;
    breakerMaxFailures = other.breakerMaxFailures;
    breakerResetTimeoutMs = other.breakerResetTimeoutMs;
    writeTimeoutMs = other.writeTimeoutMs;
    embeddedWatchMs = other.embeddedWatchMs;
    embeddedRestartMaxFailures = other.embeddedRestartMaxFailures;
    leaseMs = other.leaseMs;
    retentionDays = other.retentionDays;
    maxDatabaseBytes = other.maxDatabaseBytes;
  }

  /** Missing keys keep their defaults; values go through the setters, so bad ones are rejected. */
  public StoreOptions(JsonObject json) {
    this();
    setDatabaseUrl(json.getString("databaseUrl", databaseUrl));
    setDataDir(json.getString("dataDir", dataDir));
    setEmbeddedPort(json.getInteger("embeddedPort", embeddedPort));
    setPoolSize(json.getInteger("poolSize", poolSize));
    setBatchMaxMessages(json.getInteger("batchMaxMessages", batchMaxMessages));
    setBatchMaxDelayMs(json.getLong("batchMaxDelayMs", batchMaxDelayMs));
    setRetryQueueMax(json.getInteger("retryQueueMax", retryQueueMax));
    setTransactionPooler(json.getBoolean("transactionPooler", transactionPooler));
    setBreakerMaxFailures(json.getInteger("breakerMaxFailures", breakerMaxFailures));
    setBreakerResetTimeoutMs(json.getLong("breakerResetTimeoutMs", breakerResetTimeoutMs));
    setWriteTimeoutMs(json.getLong("writeTimeoutMs", writeTimeoutMs));
    setEmbeddedWatchMs(json.getLong("embeddedWatchMs", embeddedWatchMs));
    setEmbeddedRestartMaxFailures(json.getInteger("embeddedRestartMaxFailures", embeddedRestartMaxFailures));
    setLeaseMs(json.getLong("leaseMs", leaseMs));
    setRetentionDays(json.getInteger("retentionDays", retentionDays));
    setMaxDatabaseBytes(json.getLong("maxDatabaseBytes", maxDatabaseBytes));
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    if (databaseUrl != null) {
      json.put("databaseUrl", databaseUrl);
    }
    return json
      .put("dataDir", dataDir)
      .put("embeddedPort", embeddedPort)
      .put("poolSize", poolSize)
      .put("batchMaxMessages", batchMaxMessages)
      .put("batchMaxDelayMs", batchMaxDelayMs)
      .put("retryQueueMax", retryQueueMax)
      .put("transactionPooler", transactionPooler)
      .put("breakerMaxFailures", breakerMaxFailures)
      .put("breakerResetTimeoutMs", breakerResetTimeoutMs)
      .put("writeTimeoutMs", writeTimeoutMs)
      .put("embeddedWatchMs", embeddedWatchMs)
      .put("embeddedRestartMaxFailures", embeddedRestartMaxFailures)
      .put("leaseMs", leaseMs)
      .put("retentionDays", retentionDays)
      .put("maxDatabaseBytes", maxDatabaseBytes);
  }

  public String getDatabaseUrl() {
    return databaseUrl;
  }

  /**
   * {@code postgres://} or {@code postgresql://} URL; {@code null} (or blank, as an empty
   * {@code DATABASE_URL=} in a compose file gives) means the embedded database.
   */
  public StoreOptions setDatabaseUrl(String databaseUrl) {
    if (databaseUrl == null || databaseUrl.isBlank()) {
      this.databaseUrl = null;
    } else if (databaseUrl.startsWith("postgres://") || databaseUrl.startsWith("postgresql://")) {
      this.databaseUrl = databaseUrl;
    } else {
      throw new IllegalArgumentException("databaseUrl must start with postgres:// or postgresql://");
    }
    return this;
  }

  public String getDataDir() {
    return dataDir;
  }

  public StoreOptions setDataDir(String dataDir) {
    if (dataDir == null || dataDir.isBlank()) {
      throw new IllegalArgumentException("dataDir must not be empty");
    }
    this.dataDir = dataDir;
    return this;
  }

  public int getEmbeddedPort() {
    return embeddedPort;
  }

  /** 0 chooses a free port at each start. */
  public StoreOptions setEmbeddedPort(int embeddedPort) {
    if (embeddedPort < 0 || embeddedPort > 65535) {
      throw new IllegalArgumentException("embeddedPort must be in 0..65535");
    }
    this.embeddedPort = embeddedPort;
    return this;
  }

  public int getPoolSize() {
    return poolSize;
  }

  public StoreOptions setPoolSize(int poolSize) {
    requirePositive("poolSize", poolSize);
    this.poolSize = poolSize;
    return this;
  }

  public int getBatchMaxMessages() {
    return batchMaxMessages;
  }

  public StoreOptions setBatchMaxMessages(int batchMaxMessages) {
    requirePositive("batchMaxMessages", batchMaxMessages);
    this.batchMaxMessages = batchMaxMessages;
    return this;
  }

  public long getBatchMaxDelayMs() {
    return batchMaxDelayMs;
  }

  /** At least 1: Vert.x timers cannot be shorter. */
  public StoreOptions setBatchMaxDelayMs(long batchMaxDelayMs) {
    requirePositive("batchMaxDelayMs", batchMaxDelayMs);
    this.batchMaxDelayMs = batchMaxDelayMs;
    return this;
  }

  public int getRetryQueueMax() {
    return retryQueueMax;
  }

  public StoreOptions setRetryQueueMax(int retryQueueMax) {
    requirePositive("retryQueueMax", retryQueueMax);
    this.retryQueueMax = retryQueueMax;
    return this;
  }

  public boolean isTransactionPooler() {
    return transactionPooler;
  }

  /**
   * True when {@code databaseUrl} points at a transaction-mode pooler (Supabase port 6543,
   * pgbouncer): server-side prepared statements do not survive between transactions there.
   */
  public StoreOptions setTransactionPooler(boolean transactionPooler) {
    this.transactionPooler = transactionPooler;
    return this;
  }

  public int getBreakerMaxFailures() {
    return breakerMaxFailures;
  }

  public StoreOptions setBreakerMaxFailures(int breakerMaxFailures) {
    requirePositive("breakerMaxFailures", breakerMaxFailures);
    this.breakerMaxFailures = breakerMaxFailures;
    return this;
  }

  public long getBreakerResetTimeoutMs() {
    return breakerResetTimeoutMs;
  }

  public StoreOptions setBreakerResetTimeoutMs(long breakerResetTimeoutMs) {
    requirePositive("breakerResetTimeoutMs", breakerResetTimeoutMs);
    this.breakerResetTimeoutMs = breakerResetTimeoutMs;
    return this;
  }

  public long getWriteTimeoutMs() {
    return writeTimeoutMs;
  }

  public StoreOptions setWriteTimeoutMs(long writeTimeoutMs) {
    requirePositive("writeTimeoutMs", writeTimeoutMs);
    this.writeTimeoutMs = writeTimeoutMs;
    return this;
  }

  public long getEmbeddedWatchMs() {
    return embeddedWatchMs;
  }

  /** How often the embedded postmaster is checked for being alive (and restarted when it died). */
  public StoreOptions setEmbeddedWatchMs(long embeddedWatchMs) {
    requirePositive("embeddedWatchMs", embeddedWatchMs);
    this.embeddedWatchMs = embeddedWatchMs;
    return this;
  }

  public int getEmbeddedRestartMaxFailures() {
    return embeddedRestartMaxFailures;
  }

  /** Failed restarts of a dead embedded postmaster in a row after which {@code /health} answers 503. */
  public StoreOptions setEmbeddedRestartMaxFailures(int embeddedRestartMaxFailures) {
    requirePositive("embeddedRestartMaxFailures", embeddedRestartMaxFailures);
    this.embeddedRestartMaxFailures = embeddedRestartMaxFailures;
    return this;
  }

  public long getLeaseMs() {
    return leaseMs;
  }

  /**
   * How long a room stays claimed by a node that stopped renewing it (renewed every third of it).
   * Only matters with an external database shared by several relays: another relay waits this long
   * before taking over a crashed relay's rooms. At least 300 ms.
   */
  public StoreOptions setLeaseMs(long leaseMs) {
    if (leaseMs < 300) {
      throw new IllegalArgumentException("leaseMs must be >= 300, got " + leaseMs);
    }
    this.leaseMs = leaseMs;
    return this;
  }

  public int getRetentionDays() {
    return retentionDays;
  }

  /** Messages older than this many days are deleted (each room's newest resumeMaxReplay excepted); 0 keeps them. */
  public StoreOptions setRetentionDays(int retentionDays) {
    if (retentionDays < 0) {
      throw new IllegalArgumentException("retentionDays must be >= 0, got " + retentionDays);
    }
    this.retentionDays = retentionDays;
    return this;
  }

  public long getMaxDatabaseBytes() {
    return maxDatabaseBytes;
  }

  /**
   * Past this database size the oldest messages are deleted (each room's newest resumeMaxReplay
   * excepted); 0 means no limit. Supabase's free plan allows 500 MB.
   */
  public StoreOptions setMaxDatabaseBytes(long maxDatabaseBytes) {
    if (maxDatabaseBytes < 0) {
      throw new IllegalArgumentException("maxDatabaseBytes must be >= 0, got " + maxDatabaseBytes);
    }
    this.maxDatabaseBytes = maxDatabaseBytes;
    return this;
  }

  private static void requirePositive(String name, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
  }

  /**
   * Turns a {@code DATABASE_URL} into connect options.
   * <p>
   * {@code sslmode} is read here rather than left to {@link PgConnectOptions#fromUri}: in
   * vertx-pg-client 5.0.8 its parser stores the mode as an enum that the JSON converter then
   * ignores, so {@code ?sslmode=require} would silently connect in clear text.
   * {@code require} encrypts without checking the certificate, as libpq does (Supabase's CA is not
   * in the JDK trust store); {@code verify-ca}/{@code verify-full} check it against
   * {@code sslrootcert} (a PEM file) or else the JDK trust store.
   */
  public static PgConnectOptions connectOptions(String databaseUrl, boolean transactionPooler) {
    Objects.requireNonNull(databaseUrl, "databaseUrl");
    Map<String, String> query = queryParameters(databaseUrl);
    PgConnectOptions options = PgConnectOptions.fromUri(databaseUrl);
    SslMode sslMode = query.containsKey("sslmode") ? SslMode.of(query.get("sslmode")) : SslMode.DISABLE;
    options.setSslMode(sslMode).setSslOptions(new ClientSSLOptions());
    switch (sslMode) {
      case ALLOW, PREFER, REQUIRE -> options.getSslOptions().setTrustAll(true);
      case VERIFY_CA, VERIFY_FULL -> {
        String rootCert = query.get("sslrootcert");
        options.getSslOptions().setTrustOptions(rootCert != null
          ? new PemTrustOptions().addCertPath(rootCert)
          : jdkTrustStore());
        // verify-ca checks the chain only; an empty algorithm turns host name checking off
        options.getSslOptions().setHostnameVerificationAlgorithm(sslMode == SslMode.VERIFY_FULL ? "HTTPS" : "");
      }
      case DISABLE -> { }
    }
    return statementMode(options, transactionPooler);
  }

  /**
   * Caches prepared statements per connection (the writer and readers use a handful of shapes),
   * except behind a transaction pooler, which may hand each transaction a different server
   * connection: there only unnamed statements work.
   */
  static PgConnectOptions statementMode(PgConnectOptions options, boolean transactionPooler) {
    return options.setCachePreparedStatements(!transactionPooler).setUseLayer7Proxy(transactionPooler);
  }

  static Map<String, String> queryParameters(String url) {
    Map<String, String> params = new HashMap<>();
    int q = url.indexOf('?');
    if (q < 0) {
      return params;
    }
    for (String pair : url.substring(q + 1).split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        params.put(pair.substring(0, eq).toLowerCase(),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8).trim());
      }
    }
    return params;
  }

  private static TrustOptions jdkTrustStore() {
    try {
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init((KeyStore) null);
      return TrustOptions.wrap(factory);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("JDK trust store unavailable", e);
    }
  }
}
