package io.switchboard.relay.store;

import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoreOptionsTest {

  @Test
  void defaults() {
    StoreOptions o = new StoreOptions();
    assertThat(o.getDatabaseUrl()).isNull();
    assertThat(o.getDataDir()).isEqualTo("./data");
    assertThat(o.getEmbeddedPort()).isZero();
    assertThat(o.getPoolSize()).isEqualTo(4);
    assertThat(o.getBatchMaxMessages()).isEqualTo(256);
    assertThat(o.getBatchMaxDelayMs()).isEqualTo(100);
    assertThat(o.getRetryQueueMax()).isEqualTo(10_000);
    assertThat(o.isTransactionPooler()).isFalse();
    assertThat(o.getBreakerMaxFailures()).isEqualTo(3);
    assertThat(o.getBreakerResetTimeoutMs()).isEqualTo(2_000);
    assertThat(o.getWriteTimeoutMs()).isEqualTo(5_000);
    assertThat(o.getLeaseMs()).isEqualTo(15_000);
    assertThat(new StoreOptions(new JsonObject()).toJson()).isEqualTo(o.toJson());
  }

  @Test
  void jsonRoundTripAndCopy() {
    StoreOptions o = new StoreOptions()
      .setDatabaseUrl("postgresql://u:p@db.example.com:6543/postgres?sslmode=require")
      .setDataDir("/var/lib/switchboard")
      .setEmbeddedPort(55432)
      .setPoolSize(7)
      .setBatchMaxMessages(64)
      .setBatchMaxDelayMs(25)
      .setRetryQueueMax(500)
      .setTransactionPooler(true)
      .setBreakerMaxFailures(5)
      .setBreakerResetTimeoutMs(1_000)
      .setWriteTimeoutMs(3_000)
      .setEmbeddedWatchMs(250)
      .setEmbeddedRestartMaxFailures(9)
      .setLeaseMs(4_000)
      .setRetentionDays(30)
      .setMaxDatabaseBytes(450_000_000L);
    JsonObject json = o.toJson();
    assertThat(json.getLong("embeddedWatchMs")).isEqualTo(250);
    assertThat(json.getInteger("embeddedRestartMaxFailures")).isEqualTo(9);
    assertThat(json.getLong("leaseMs")).isEqualTo(4_000);
    assertThat(json.getInteger("retentionDays")).isEqualTo(30);
    assertThat(json.getLong("maxDatabaseBytes")).isEqualTo(450_000_000L);
    assertThat(json.getString("databaseUrl")).isEqualTo(o.getDatabaseUrl());
    assertThat(json.getInteger("poolSize")).isEqualTo(7);
    assertThat(json.getBoolean("transactionPooler")).isTrue();
    assertThat(new StoreOptions(json).toJson()).isEqualTo(json);
    assertThat(new StoreOptions(o).toJson()).isEqualTo(json);
    // JSON as it comes from a config file: numbers may be any numeric type
    assertThat(new StoreOptions(new JsonObject().put("batchMaxDelayMs", 7)).getBatchMaxDelayMs()).isEqualTo(7);
  }

  @Test
  void blankUrlMeansEmbedded() {
    assertThat(new StoreOptions().setDatabaseUrl("  ").getDatabaseUrl()).isNull();
    assertThat(new StoreOptions().toJson().containsKey("databaseUrl")).isFalse();
  }

  @Test
  void badValuesRejected() {
    StoreOptions o = new StoreOptions();
    assertThatThrownBy(() -> o.setPoolSize(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("poolSize");
    assertThatThrownBy(() -> o.setBatchMaxMessages(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setBatchMaxDelayMs(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setRetryQueueMax(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setBreakerMaxFailures(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setBreakerResetTimeoutMs(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setWriteTimeoutMs(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setEmbeddedWatchMs(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setEmbeddedRestartMaxFailures(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setLeaseMs(299)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leaseMs");
    assertThatThrownBy(() -> o.setRetentionDays(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retentionDays");
    assertThatThrownBy(() -> o.setMaxDatabaseBytes(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxDatabaseBytes");
    assertThatThrownBy(() -> o.setEmbeddedPort(65536)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setEmbeddedPort(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setDataDir("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setDatabaseUrl("mysql://x/y")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new StoreOptions(new JsonObject().put("poolSize", 0)))
      .isInstanceOf(IllegalArgumentException.class);
    // rejected values leave the object unchanged
    assertThat(o.toJson()).isEqualTo(new StoreOptions().toJson());
  }

  @Test
  void parsesPlainUrl() {
    PgConnectOptions c = StoreOptions.connectOptions("postgres://alice:s%40cret@db.example.com:5433/chat", false);
    assertThat(c.getHost()).isEqualTo("db.example.com");
    assertThat(c.getPort()).isEqualTo(5433);
    assertThat(c.getUser()).isEqualTo("alice");
    assertThat(c.getPassword()).isEqualTo("s@cret");
    assertThat(c.getDatabase()).isEqualTo("chat");
    assertThat(c.getSslMode()).isEqualTo(SslMode.DISABLE);
    assertThat(c.getCachePreparedStatements()).isTrue();
    assertThat(c.getUseLayer7Proxy()).isFalse();
  }

  @Test
  void sslmodeRequireTurnsSslOnWithoutVerification() {
    // the shape of a Supabase session-pooler URL
    PgConnectOptions c = StoreOptions.connectOptions(
      "postgresql://postgres.abcdefgh:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres?sslmode=require", false);
    assertThat(c.getSslMode()).isEqualTo(SslMode.REQUIRE);
    assertThat(c.getSslOptions().isTrustAll()).isTrue();
    assertThat(c.getUser()).isEqualTo("postgres.abcdefgh");
  }

  @Test
  void sslmodeVerifyFullChecksHostAndChain() {
    PgConnectOptions c = StoreOptions.connectOptions("postgres://u:p@h/db?sslmode=verify-full", false);
    assertThat(c.getSslMode()).isEqualTo(SslMode.VERIFY_FULL);
    assertThat(c.getSslOptions().isTrustAll()).isFalse();
    assertThat(c.getSslOptions().getHostnameVerificationAlgorithm()).isEqualTo("HTTPS");
    assertThat(c.getSslOptions().getTrustOptions()).isNotNull();

    PgConnectOptions pem = StoreOptions.connectOptions(
      "postgres://u:p@h/db?sslmode=verify-ca&sslrootcert=%2Fetc%2Fssl%2Fsupabase.crt", false);
    assertThat(pem.getSslMode()).isEqualTo(SslMode.VERIFY_CA);
    assertThat(pem.getSslOptions().getHostnameVerificationAlgorithm()).isEmpty();
    assertThat(((PemTrustOptions) pem.getSslOptions().getTrustOptions()).getCertPaths())
      .containsExactly("/etc/ssl/supabase.crt");
  }

  @Test
  void sslmodeDisable() {
    assertThat(StoreOptions.connectOptions("postgres://u@h/db?sslmode=disable", false).getSslMode())
      .isEqualTo(SslMode.DISABLE);
  }

  @Test
  void transactionPoolerTurnsPreparedStatementCacheOff() {
    PgConnectOptions c = StoreOptions.connectOptions(
      "postgresql://postgres.abcdefgh:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require", true);
    assertThat(c.getPort()).isEqualTo(6543);
    assertThat(c.getCachePreparedStatements()).isFalse();
    assertThat(c.getUseLayer7Proxy()).isTrue();
    assertThat(c.getSslMode()).isEqualTo(SslMode.REQUIRE);
  }

  @Test
  void badUrlsRejected() {
    assertThatThrownBy(() -> StoreOptions.connectOptions("postgres://u@h/db?sslmode=sometimes", false))
      .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StoreOptions.connectOptions("postgres://u@h:99999/db", false))
      .isInstanceOf(IllegalArgumentException.class);
  }
}
