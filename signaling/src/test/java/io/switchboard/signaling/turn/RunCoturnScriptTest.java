package io.switchboard.signaling.turn;

import io.switchboard.signaling.turn.TurnTestSupport.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code turn-config/run-coturn.sh} without coturn: its rendering ({@code --print-config}), its
 * checks, and — with a stand-in {@code turnserver} that records its arguments — the secret it
 * shares with {@link TurnSecret} and the command line it execs.
 */
class RunCoturnScriptTest {

  /** The ranges the brief names, as coturn 4.6.1 needs them (first-last, not CIDR). */
  static final List<String> REQUIRED_DENIALS = List.of(
    "0.0.0.0-0.255.255.255",           // 0.0.0.0/8
    "10.0.0.0-10.255.255.255",         // 10/8
    "100.64.0.0-100.127.255.255",      // 100.64/10
    "127.0.0.0-127.255.255.255",       // 127/8
    "169.254.0.0-169.254.255.255",     // 169.254/16
    "172.16.0.0-172.31.255.255",       // 172.16/12
    "192.0.0.0-192.0.0.255",           // 192.0.0.0/24
    "192.168.0.0-192.168.255.255",     // 192.168/16
    "198.18.0.0-198.19.255.255",       // 198.18/15
    "224.0.0.0-239.255.255.255",       // 224/4
    "240.0.0.0-255.255.255.255",       // 240/4
    "::1",
    "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // fc00::/7
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"  // fe80::/10
  );

  @TempDir
  Path tmp;

  @Test
  void productionConfigDeniesEveryInternalRange() throws Exception {
    List<String> config = settings(printConfig(Map.of()));

    assertThat(denied(config)).containsAll(REQUIRED_DENIALS);
    assertThat(config).contains("use-auth-secret", "static-auth-secret=<redacted>", "realm=switchboard",
      "fingerprint", "no-cli", "no-multicast-peers", "stale-nonce=600", "listening-port=3478",
      "min-port=49160", "max-port=49200", "user-quota=10", "total-quota=1000", "max-bps=1000000", "no-tls", "no-dtls");
    assertThat(config).doesNotContain("allow-loopback-peers");
    assertThat(config).noneMatch(line -> line.startsWith("listening-ip=") || line.startsWith("relay-ip="));
  }

  @Test
  void localTestingOnlyAllowsLoopback() throws Exception {
    Set<String> production = new LinkedHashSet<>(settings(printConfig(Map.of("SWITCHBOARD_TURN_LOCAL_TESTING", "0"))));
    Set<String> local = new LinkedHashSet<>(settings(printConfig(Map.of("SWITCHBOARD_TURN_LOCAL_TESTING", "1"))));

    Set<String> onlyInProduction = new HashSet<>(production);
    onlyInProduction.removeAll(local);
    Set<String> onlyInLocal = new HashSet<>(local);
    onlyInLocal.removeAll(production);

    assertThat(onlyInProduction).containsExactlyInAnyOrder(
      "denied-peer-ip=127.0.0.0-127.255.255.255", "denied-peer-ip=::1");
    assertThat(onlyInLocal).containsExactly("allow-loopback-peers");
    assertThat(settings(printConfig(Map.of()))).containsExactlyElementsOf(production); // off is the default
  }

  /**
   * The rendered list read the way coturn 4.6.1 reads it ({@code ioa_addr_in_range}: an all-zero
   * bound is open-ended, IPv6 compares byte by byte, an address of the other family compares by
   * family number). A list that passes this can't deny public peers by accident — as
   * {@code denied-peer-ip=::} would (it denies everything).
   */
  @Test
  void deniedRangesBlockInternalAddressesAndNothingPublic() throws Exception {
    List<Range> production = ranges(denied(settings(printConfig(Map.of()))));
    List<Range> local = ranges(denied(settings(printConfig(Map.of("SWITCHBOARD_TURN_LOCAL_TESTING", "1")))));

    for (String internal : List.of("0.1.2.3", "10.1.2.3", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.1.2.3",
      "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.168.1.1", "198.18.0.1", "198.19.255.1",
      "192.0.2.1", "198.51.100.7", "203.0.113.9", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
      "::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "64:ff9b:1::1",
      "2001::a00:1", "2002:a00:1::1", "2001:db8::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1",
      "ff02::fb")) {
      assertThat(deniedBy(production, internal)).as(internal).isNotEmpty();
    }
    for (String publicPeer : List.of("1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "100.63.255.255",
      "100.128.0.1", "126.255.255.255", "128.0.0.1", "169.253.0.1", "172.15.255.255", "172.32.0.1", "192.0.1.1",
      "192.167.255.255", "192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255",
      "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001::1", "2001:1::1", "fbff::1")) {
      assertThat(deniedBy(production, publicPeer)).as(publicPeer).isEmpty();
      assertThat(deniedBy(local, publicPeer)).as(publicPeer).isEmpty();
    }
    assertThat(deniedBy(local, "127.0.0.1")).isEmpty();
    assertThat(deniedBy(local, "::1")).isEmpty();
    assertThat(deniedBy(local, "10.0.0.1")).isNotEmpty();
    assertThat(deniedBy(local, "::ffff:127.0.0.1")).isNotEmpty(); // only the loopback lines go
  }

  @Test
  void rendersTheSettingsFromTheEnvironment() throws Exception {
    Path cert = Files.writeString(tmp.resolve("cert.pem"), "not read by --print-config");
    List<String> config = settings(printConfig(Map.of(
      "SWITCHBOARD_TURN_LISTEN_IP", "127.0.0.1",
      "SWITCHBOARD_TURN_PORT", "3479",
      "SWITCHBOARD_TURN_RELAY_IP", "127.0.0.2",
      "SWITCHBOARD_TURN_EXTERNAL_IP", "203.0.113.5/10.0.0.5",
      "SWITCHBOARD_TURN_MIN_PORT", "50000",
      "SWITCHBOARD_TURN_MAX_PORT", "50019",
      "SWITCHBOARD_TURN_REALM", "turn.example.com",
      "SWITCHBOARD_TURN_USER_QUOTA", "3",
      "SWITCHBOARD_TURN_TLS_CERT", cert.toString(),
      "SWITCHBOARD_TURN_TLS_KEY", "/etc/ssl/private/turn.key")));

    assertThat(config).contains("listening-ip=127.0.0.1", "listening-port=3479", "relay-ip=127.0.0.2",
      "external-ip=203.0.113.5/10.0.0.5", "min-port=50000", "max-port=50019", "realm=turn.example.com",
      "user-quota=3", "tls-listening-port=5349", "cert=" + cert, "pkey=/etc/ssl/private/turn.key",
      "no-tlsv1", "no-tlsv1_1", "no-dtls");
    assertThat(config).doesNotContain("no-tls");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "SWITCHBOARD_TURN_MIN_PORT      | 50001           | SWITCHBOARD_TURN_MIN_PORT must not be above SWITCHBOARD_TURN_MAX_PORT",
    "SWITCHBOARD_TURN_MIN_PORT      | 80              | SWITCHBOARD_TURN_MIN_PORT must be a port number in 1024..65535",
    "SWITCHBOARD_TURN_PORT          | 70000           | SWITCHBOARD_TURN_PORT must be a port number in 1..65535",
    "SWITCHBOARD_TURN_PORT          | 3478x           | SWITCHBOARD_TURN_PORT must be a port number",
    "SWITCHBOARD_TURN_USER_QUOTA    | -1              | SWITCHBOARD_TURN_USER_QUOTA must be a non-negative integer",
    "SWITCHBOARD_TURN_REALM         | a\\b            | SWITCHBOARD_TURN_REALM must be printable ASCII without quotes or backslashes",
    "SWITCHBOARD_TURN_LISTEN_IP     | 1.2.3.4 5.6.7.8 | SWITCHBOARD_TURN_LISTEN_IP must not contain spaces or control characters",
    "SWITCHBOARD_TURN_LOCAL_TESTING | maybe           | SWITCHBOARD_TURN_LOCAL_TESTING must be 0 or 1",
    "SWITCHBOARD_TURN_TLS_CERT      | /tmp/cert.pem   | set both SWITCHBOARD_TURN_TLS_CERT and SWITCHBOARD_TURN_TLS_KEY, or neither",
  })
  void refusesBadSettings(String name, String value, String message) throws Exception {
    Map<String, String> env = new HashMap<>(Map.of(name, value));
    env.putIfAbsent("SWITCHBOARD_TURN_MAX_PORT", "50000");

    Result result = script(env, "--print-config");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.stderr()).contains(message);
    assertThat(result.stdout()).isEmpty();
  }

  @Test
  void aNewlineCannotInjectConfiguration() throws Exception {
    Result result = script(Map.of("SWITCHBOARD_TURN_RELAY_IP", "127.0.0.1\nallow-loopback-peers"), "--print-config");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.stdout()).doesNotContain("allow-loopback-peers");
  }

  @Test
  void printConfigTouchesNoFileAndNeedsNoCoturn() throws Exception {
    Path dataDir = tmp.resolve("data");
    Result result = script(Map.of("SWITCHBOARD_DATA_DIR", dataDir.toString(),
      "SWITCHBOARD_TURNSERVER", tmp.resolve("no-such-turnserver").toString()), "--print-config");

    assertThat(result.exitCode()).isZero();
    assertThat(dataDir).doesNotExist();
  }

  @Test
  void createsTheSecretTheRelayThenReads() throws Exception {
    Path dataDir = tmp.resolve("data");

    Result result = script(fakeTurnserverEnv(dataDir));

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    Path secretFile = dataDir.resolve("turn-secret");
    String secret = Files.readString(secretFile);
    assertThat(secret).matches("[0-9a-f]{64}\n");
    assertThat(mode(secretFile)).isEqualTo("rw-------");
    assertThat(TurnSecret.loadOrCreate(null, dataDir)).isEqualTo(secret.trim());
    assertThat(renderedConfig(dataDir)).contains("static-auth-secret=" + secret.trim());
    try (Stream<Path> files = Files.list(dataDir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("turn-secret", "coturn");
    }
  }

  @Test
  void usesTheSecretTheRelayCreatedAndExecsTurnserverWithItsOwnFiles() throws Exception {
    Path dataDir = tmp.resolve("data");
    String secret = TurnSecret.loadOrCreate(null, dataDir);

    Result result = script(fakeTurnserverEnv(dataDir), "--", "--verbose");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    Path runDir = dataDir.resolve("coturn").toRealPath();
    Path config = runDir.resolve("turnserver.conf");
    assertThat(renderedConfig(dataDir)).contains("static-auth-secret=" + secret).doesNotContain("${");
    assertThat(mode(config)).isEqualTo("rw-------");
    assertThat(mode(runDir)).isEqualTo("rwx------");
    assertThat(Files.readAllLines(tmp.resolve("args"))).containsExactly(
      "-c", config.toString(),
      "--userdb=" + runDir.resolve("turndb"),
      "--pidfile=" + runDir.resolve("turnserver.pid"),
      "--log-file=stdout",
      "--no-cli",
      "--verbose");
    assertThat(Files.readString(dataDir.resolve("turn-secret")).trim()).isEqualTo(secret);
  }

  @Test
  void aConfiguredSecretWinsOverTheFile() throws Exception {
    Path dataDir = tmp.resolve("data");
    Map<String, String> env = new HashMap<>(fakeTurnserverEnv(dataDir));
    env.put("SWITCHBOARD_TURN_SECRET", "configured-secret-0123456789");

    Result result = script(env);

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(renderedConfig(dataDir)).contains("static-auth-secret=configured-secret-0123456789");
    assertThat(dataDir.resolve("turn-secret")).doesNotExist();
  }

  @Test
  void refusesASecretFileTheRelayWouldRefuse() throws Exception {
    Path dataDir = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(dataDir.resolve("turn-secret"), "too short\n");

    Result result = script(fakeTurnserverEnv(dataDir));

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.stderr()).contains("must be at least 16 printable ASCII characters without spaces");
    assertThat(tmp.resolve("args")).doesNotExist();
  }

  @Test
  void readsAHandWrittenSecretFileTrimmedLikeTheRelay() throws Exception {
    Path dataDir = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(dataDir.resolve("turn-secret"), "  hand-written-secret-0123 \n\n");

    Result result = script(fakeTurnserverEnv(dataDir));

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(renderedConfig(dataDir)).contains("static-auth-secret=hand-written-secret-0123");
    assertThat(TurnSecret.loadOrCreate(null, dataDir)).isEqualTo("hand-written-secret-0123");
  }

  @Test
  void saysHowToInstallCoturnWhenItIsMissing() throws Exception {
    Path dataDir = tmp.resolve("data");
    Result result = script(Map.of("SWITCHBOARD_DATA_DIR", dataDir.toString(),
      "SWITCHBOARD_TURNSERVER", "no-such-turnserver"));

    assertThat(result.exitCode()).isEqualTo(127);
    assertThat(result.stderr()).contains("'no-such-turnserver' not found: install Debian's coturn package: apt-get install coturn");
    assertThat(dataDir).doesNotExist();
  }

  @Test
  void helpDescribesUsageAndEnvironment() throws Exception {
    Result result = script(Map.of(), "--help");

    assertThat(result.exitCode()).isZero();
    assertThat(result.stdout()).contains("--print-config", "SWITCHBOARD_TURN_LOCAL_TESTING", "SWITCHBOARD_DATA_DIR")
      .doesNotContain("set -euo");
  }

  @Test
  void refusesUnknownArguments() throws Exception {
    Result result = script(Map.of(), "--min-port=1");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.stderr()).contains("unknown argument '--min-port=1'");
  }

  // --- helpers ---------------------------------------------------------------------------------

  private Result script(Map<String, String> env, String... args) throws IOException, InterruptedException {
    Map<String, String> full = TurnTestSupport.cleanEnv();
    full.putAll(env);
    List<String> command = new ArrayList<>(List.of("bash", TurnTestSupport.script().toString()));
    command.addAll(List.of(args));
    return TurnTestSupport.run(full, tmp, Duration.ofSeconds(20), command);
  }

  private Result printConfig(Map<String, String> env) throws IOException, InterruptedException {
    Result result = script(env, "--print-config");
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    return result;
  }

  /** A stand-in turnserver that writes its arguments, one a line, to {@code <tmp>/args}. */
  private Map<String, String> fakeTurnserverEnv(Path dataDir) throws IOException {
    Path fake = tmp.resolve("fake-turnserver");
    Files.writeString(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$FAKE_ARGS\"\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    return Map.of("SWITCHBOARD_DATA_DIR", dataDir.toString(), "SWITCHBOARD_TURNSERVER", fake.toString(),
      "FAKE_ARGS", tmp.resolve("args").toString());
  }

  private static List<String> renderedConfig(Path dataDir) throws IOException {
    return Files.readAllLines(dataDir.resolve("coturn/turnserver.conf"));
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }

  /** The lines coturn acts on: no comments, no blanks. */
  private static List<String> settings(Result result) {
    return result.stdout().lines().filter(line -> !line.isBlank() && !line.startsWith("#")).toList();
  }

  private static List<String> denied(List<String> settings) {
    return settings.stream().filter(line -> line.startsWith("denied-peer-ip="))
      .map(line -> line.substring("denied-peer-ip=".length())).toList();
  }

  // --- coturn 4.6.1's reading of denied-peer-ip (src/client/ns_turn_ioaddr.c) -----------------

  record Range(String text, byte[] min, byte[] max) {
  }

  private static List<Range> ranges(List<String> denied) throws IOException {
    List<Range> ranges = new ArrayList<>();
    for (String text : denied) {
      int dash = text.indexOf('-');
      String min = dash < 0 ? text : text.substring(0, dash);
      String max = dash < 0 ? text : text.substring(dash + 1);
      ranges.add(new Range(text, address(min), address(max)));
    }
    return ranges;
  }

  private static List<String> deniedBy(List<Range> ranges, String peer) throws IOException {
    byte[] address = address(peer);
    return ranges.stream().filter(range -> inRange(range, address)).map(Range::text).toList();
  }

  /** 4 bytes for IPv4 text, 16 for IPv6 text (Java would turn ::ffff:a.b.c.d into IPv4; coturn doesn't). */
  private static byte[] address(String text) throws IOException {
    byte[] bytes = InetAddress.getByName(text).getAddress();
    if (text.contains(":") && bytes.length == 4) {
      byte[] mapped = new byte[16];
      mapped[10] = (byte) 0xff;
      mapped[11] = (byte) 0xff;
      System.arraycopy(bytes, 0, mapped, 12, 4);
      return mapped;
    }
    assertThat(InetAddress.getByAddress(bytes) instanceof Inet4Address).isEqualTo(bytes.length == 4);
    return bytes;
  }

  /** ioa_addr_in_range. */
  private static boolean inRange(Range range, byte[] address) {
    if (isAny(range.min()) || lessOrEqual(range.min(), address)) {
      return isAny(range.max()) || lessOrEqual(address, range.max());
    }
    return false;
  }

  /** addr_any: all zero (the port is zero in a range). */
  private static boolean isAny(byte[] address) {
    for (byte b : address) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  /** addr_less_eq: by family number (AF_INET 2 before AF_INET6 10), IPv4 as a number, IPv6 byte by byte. */
  private static boolean lessOrEqual(byte[] a, byte[] b) {
    if (a.length != b.length) {
      return a.length < b.length;
    }
    if (a.length == 4) {
      return Integer.compareUnsigned(toInt(a), toInt(b)) <= 0;
    }
    for (int i = 0; i < 16; i++) {
      if ((a[i] & 0xff) > (b[i] & 0xff)) {
        return false;
      }
    }
    return true;
  }

  private static int toInt(byte[] a) {
    return (a[0] & 0xff) << 24 | (a[1] & 0xff) << 16 | (a[2] & 0xff) << 8 | (a[3] & 0xff);
  }
}
