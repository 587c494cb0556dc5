package io.switchboard.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.relay.store.StoreOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @Test
  void defaultsWithoutAnything() {
    RelayOptions o = ConfigLoader.load(Map.of(), null);
    assertThat(o.getPort()).isEqualTo(RelayOptions.DEFAULT_PORT);
    assertThat(o.getStore().getPoolSize()).isEqualTo(StoreOptions.DEFAULT_POOL_SIZE);
    assertThat(o.getStore().getDatabaseUrl()).isNull();
  }

  @Test
  void fileThenEnvironment(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("relay.json");
    Files.writeString(file, "{\"port\": 9000, \"maxBodyBytes\": 2048, \"store\": {\"poolSize\": 2, \"batchMaxDelayMs\": 20}}");
    RelayOptions o = ConfigLoader.load(Map.of(
        "SWITCHBOARD_PORT", "9100",
        "SWITCHBOARD_STORE_POOL_SIZE", "3",
        "SWITCHBOARD_STORE_TRANSACTION_POOLER", "true",
        "DATABASE_URL", "postgres://u:p@db.example:6543/postgres?sslmode=require",
        "SWITCHBOARD_DATA_DIR", "/var/lib/switchboard",
        "SWITCHBOARD_SECRET", "a-long-enough-secret"), file);
    assertThat(o.getPort()).isEqualTo(9100);
    assertThat(o.getMaxBodyBytes()).isEqualTo(2048);
    assertThat(o.getStore().getPoolSize()).isEqualTo(3);
    assertThat(o.getStore().getBatchMaxDelayMs()).isEqualTo(20);
    assertThat(o.getStore().isTransactionPooler()).isTrue();
    assertThat(o.getStore().getDatabaseUrl()).startsWith("postgres://u:p@db.example:6543");
    assertThat(o.getStore().getDataDir()).isEqualTo("/var/lib/switchboard");
    assertThat(o.getSecret()).isEqualTo("a-long-enough-secret");
  }

  @Test
  void badValuesNameTheVariable(@TempDir Path dir) throws IOException {
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_PORT", "eighty"), null))
        .hasMessageContaining("SWITCHBOARD_PORT");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_PORT", "70000"), null))
        .hasMessageContaining("port");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_STORE_TRANSACTION_POOLER", "yes"), null))
        .hasMessageContaining("SWITCHBOARD_STORE_TRANSACTION_POOLER");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_SECRET", "short"), null))
        .hasMessageContaining("secret");
    Path typo = dir.resolve("typo.json");
    Files.writeString(typo, "{\"prot\": 1}");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(), typo)).hasMessageContaining("prot");
    Path notJson = dir.resolve("bad.json");
    Files.writeString(notJson, "port=1");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(), notJson)).hasMessageContaining("bad.json");
  }

  @Test
  void compressionIsOneOfThreeValuesAndSurvivesTheJsonRoundTrip() {
    for (String v : RelayOptions.COMPRESSION_VALUES) {
      RelayOptions o = ConfigLoader.load(Map.of("SWITCHBOARD_COMPRESSION", v), null);
      assertThat(o.getCompression()).isEqualTo(v);
      assertThat(new RelayOptions(o.toJson()).getCompression()).isEqualTo(v);
    }
    assertThat(ConfigLoader.load(Map.of(), null).getCompression()).isEqualTo(RelayOptions.DEFAULT_COMPRESSION);
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_COMPRESSION", "gzip"), null))
        .hasMessageContaining("compression");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_COMPRESSION", "true"), null))
        .hasMessageContaining("compression");
  }

  @Test
  void p2pSettingsFromTheEnvironment() {
    RelayOptions o = ConfigLoader.load(Map.of(
        "SWITCHBOARD_P2P_TURN_URLS", "turn:t.example:3478?transport=udp, turn:t.example:3478?transport=tcp",
        "SWITCHBOARD_P2P_MIN_SUCCESS_RATE", "0.5",
        "SWITCHBOARD_P2P_STUN_ADDRESSES", "203.0.113.1,203.0.113.2",
        "SWITCHBOARD_P2P_ENABLED", "false"), null);
    assertThat(o.getP2p().turnUrlList()).containsExactly("turn:t.example:3478?transport=udp",
        "turn:t.example:3478?transport=tcp");
    assertThat(o.getP2p().getMinSuccessRate()).isEqualTo(0.5);
    assertThat(o.getP2p().stunAddressList()).containsExactly("203.0.113.1", "203.0.113.2");
    assertThat(o.getP2p().isEnabled()).isFalse();
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_P2P_STUN_ALT_PORT", "3490"), null))
        .hasMessageContaining("stunAltPort");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_P2P_STUN_ADDRESSES", "a,b,c"), null))
        .hasMessageContaining("stunAddresses");
  }

  @Test
  void stunPerSourceLimitReachesTheStunService() {
    RelayOptions o = ConfigLoader.load(Map.of("SWITCHBOARD_P2P_STUN_RATE_PER_SOURCE", "5",
        "SWITCHBOARD_P2P_STUN_BURST_PER_SOURCE", "9"), null);
    assertThat(o.getP2p().stunOptions().getRatePerSource()).isEqualTo(5);
    assertThat(o.getP2p().stunOptions().getBurstPerSource()).isEqualTo(9);
    assertThat(new P2pOptions(o.getP2p().toJson()).toJson()).isEqualTo(o.getP2p().toJson());
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_P2P_STUN_RATE_PER_SOURCE", "0"), null))
        .hasMessageContaining("stunRatePerSource");
  }

  @Test
  void limitsFromTheEnvironmentAndTheFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("relay.json");
    Files.writeString(file, "{\"limits\": {\"httpBurst\": 7, \"trustedProxies\": \"10.0.0.0/8\"}}");
    RelayOptions o = ConfigLoader.load(Map.of(
        "SWITCHBOARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS", "5",
        "SWITCHBOARD_LIMITS_TRUSTED_PROXIES", "192.0.2.1, 2001:db8::/32"), file);
    assertThat(o.getLimits().getMaxConnectionsPerAddress()).isEqualTo(5);
    assertThat(o.getLimits().getHttpBurst()).isEqualTo(7);
    assertThat(o.getLimits().getTrustedProxies()).isEqualTo("192.0.2.1, 2001:db8::/32");
    assertThat(new RelayOptions(o.toJson()).getLimits().toJson()).isEqualTo(o.getLimits().toJson());
    assertThat(new RelayOptions().getLimits().getTrustedProxies()).isEmpty();
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_LIMITS_TRUSTED_PROXIES", "proxy.example"), null))
        .hasMessageContaining("proxy.example");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_LIMITS_HTTP_BURST", "0"), null))
        .hasMessageContaining("httpBurst");
  }

  @Test
  void clusterSettingsComeFromTheirOwnVariables() {
    RelayOptions o = ConfigLoader.load(Map.of("SWITCHBOARD_CLUSTER_MEMBERS", "10.0.0.1:5701, relay-2:5702",
        "SWITCHBOARD_CLUSTER_HOST", "10.0.0.1", "SWITCHBOARD_CLUSTER_PORT", "5710", "SWITCHBOARD_CLUSTER_BUS_PORT", "5810", "SWITCHBOARD_EVENT_LOOPS", "3"), null);
    assertThat(o.getCluster().enabled()).isTrue();
    assertThat(o.getCluster().memberList()).containsExactly("10.0.0.1:5701", "relay-2:5702");
    assertThat(o.getCluster().getHost()).isEqualTo("10.0.0.1");
    assertThat(o.getCluster().getPort()).isEqualTo(5710);
    assertThat(o.getCluster().getBusPort()).isEqualTo(5810);
    assertThat(o.effectiveEventLoops()).isEqualTo(3);
    assertThat(new RelayOptions(o.toJson()).getCluster().toJson()).isEqualTo(o.getCluster().toJson());
    RelayOptions defaults = ConfigLoader.load(Map.of(), null);
    assertThat(defaults.getCluster().enabled()).isFalse();
    assertThat(defaults.effectiveEventLoops()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_CLUSTER_MEMBERS", "relay-2"), null))
        .hasMessageContaining("host:port");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_CLUSTER_MEMBERS", "relay-2:99999"), null))
        .hasMessageContaining("1..65535");
    assertThat(defaults.getCluster().getBusPort()).as("any free port").isZero();
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_CLUSTER_BUS_PORT", "-1"), null))
        .hasMessageContaining("cluster.busPort");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SWITCHBOARD_EVENT_LOOPS", "-1"), null))
        .hasMessageContaining("eventLoops");
  }

  @Test
  void envNames() {
    assertThat(ConfigLoader.envName("SWITCHBOARD_", "maxBodyBytes")).isEqualTo("SWITCHBOARD_MAX_BODY_BYTES");
    assertThat(ConfigLoader.envName("SWITCHBOARD_STORE_", "poolSize")).isEqualTo("SWITCHBOARD_STORE_POOL_SIZE");
  }

  @Test
  void theReadmeConfigTablesListExactlyTheSettingsAndTheirDefaults() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    Matcher row = Pattern.compile("(?m)^\\| `([\\w.]+)` \\| `(\\w+)` \\| `?([^`|]*?)`? \\|").matcher(readme);
    Map<String, String> documented = new java.util.LinkedHashMap<>();
    while (row.find()) {
      documented.put(row.group(1), row.group(3).trim());
    }
    var relay = new RelayOptions().toJson();
    var store = new StoreOptions().toJson();
    var p2p = new P2pOptions().toJson();
    var limits = new LimitsOptions().toJson();
    var auth = new AuthOptions().toJson();
    var cluster = new ClusterOptions().toJson();
    Set<String> keys = new LinkedHashSet<>(relay.fieldNames());
    keys.remove("store");
    keys.remove("p2p");
    keys.remove("limits");
    keys.remove("auth");
    keys.remove("cluster");
    cluster.fieldNames().forEach(key -> keys.add("cluster." + key));
    keys.addAll(store.fieldNames());
    keys.addAll(p2p.fieldNames());
    keys.addAll(limits.fieldNames());
    keys.addAll(auth.fieldNames());
    keys.add("databaseUrl");
    assertThat(documented.keySet()).containsExactlyInAnyOrderElementsOf(keys);
    for (String key : relay.fieldNames()) {
      Object value = relay.getValue(key);
      if (value != null && !(value instanceof io.vertx.core.json.JsonObject)) {
        assertThat(documented.get(key)).as(key).isEqualTo(value.toString());
      }
    }
    for (String key : store.fieldNames()) {
      assertThat(documented.get(key)).as(key).isEqualTo(store.getValue(key).toString());
    }
    for (String key : limits.fieldNames()) {
      assertThat(documented.get(key)).as(key).isEqualTo(limits.getValue(key).toString());
    }
    for (String key : auth.fieldNames()) {
      if (auth.getValue(key) != null) {
        assertThat(documented.get(key)).as(key).isEqualTo(auth.getValue(key).toString());
      }
    }
    for (String key : cluster.fieldNames()) {
      Object value = cluster.getValue(key);
      assertThat(documented.get("cluster." + key)).as(key).isEqualTo(value == null ? "unset" : value.toString());
    }
    for (String key : p2p.fieldNames()) {
      if (p2p.getValue(key) != null) {
        assertThat(documented.get(key)).as(key).isEqualTo(p2p.getValue(key).toString());
      }
    }
  }
}
