package io.switchboard.signaling.turn;

import io.switchboard.signaling.turn.TurnCredentials.Credential;
import io.switchboard.signaling.turn.Uclient.Outcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Credentials from {@link TurnCredentials} against a real coturn started through
 * {@code turn-config/run-coturn.sh} (loopback only, local-testing switch on so the two uclient
 * clients may relay to each other on 127.0.0.1). The secret is written by {@link TurnSecret}
 * before the script runs: the relay and the script share it through the data folder.
 */
@Timeout(60)
class CoturnTest {

  @TempDir
  static Path tmp;

  static String secret;
  static Coturn coturn;
  static TurnCredentials credentials;

  @BeforeAll
  static void startCoturnWithTheRelaysSecret() throws Exception {
    if (!TurnTestSupport.coturnInstalled()) {
      return; // each test then skips (or fails on CI) in requireCoturn(), so the report counts them
    }
    Path dataDir = tmp.resolve("data");
    secret = TurnSecret.loadOrCreate(null, dataDir);
    coturn = Coturn.start(dataDir, true);
    credentials = new TurnCredentials(secret, 3600, Clock.systemUTC());
  }

  @BeforeEach
  void requireCoturn() {
    TurnTestSupport.requireCoturn();
  }

  @AfterAll
  static void stopCoturn() throws Exception {
    if (coturn != null) {
      coturn.close();
      assertThat(coturn.isAlive()).isFalse();
      assertThat(ProcessHandle.of(coturn.pid())).isEmpty();
    }
  }

  @Test
  void anIssuedCredentialRelaysDataBetweenTwoAllocations() throws Exception {
    Credential credential = credentials.issue("alice");

    Outcome outcome = Uclient.relay(coturn, credential.username(), credential.password());

    assertThat(outcome.exitCode()).as(outcome.output()).isZero();
    assertThat(outcome.allocated()).isTrue();
    long[] totals = outcome.totals();
    assertThat(totals).as(outcome.output()).isNotNull();
    assertThat(totals[0]).isPositive();
    assertThat(totals[1]).as("every message came back through the relays").isEqualTo(totals[0]);
  }

  @Test
  void anIssuedCredentialAllocatesOverTcp() throws Exception {
    Credential credential = credentials.issue("bob");

    Outcome outcome = Uclient.allocate(coturn, credential.username(), credential.password(), true);

    assertThat(outcome.allocated()).as(outcome.output()).isTrue();
  }

  @Test
  void anExpiredCredentialIsRefused() throws Exception {
    Clock twoHoursAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC);
    Credential expired = new TurnCredentials(secret, 3600, twoHoursAgo).issue("carol");
    assertThat(expired.expiresAtEpochSeconds()).isLessThan(Instant.now().getEpochSecond());

    Outcome outcome = Uclient.allocate(coturn, expired.username(), expired.password(), false);

    assertRefusedByTheServer(outcome);
    assertThat(coturn.log()).contains("Cannot find credentials of user <" + expired.username() + ">");
  }

  @Test
  void aCredentialSignedWithAnotherSecretIsRefused() throws Exception {
    Credential forged = new TurnCredentials("not-the-shared-secret-0123456789", 3600, Clock.systemUTC()).issue("alice");

    assertRefusedByTheServer(Uclient.allocate(coturn, forged.username(), forged.password(), false));
  }

  @Test
  void aTamperedUsernameIsRefused() throws Exception {
    Credential credential = credentials.issue("alice");
    String otherUser = credential.username().replace(":alice", ":mallory");
    String laterExpiry = (credential.expiresAtEpochSeconds() + 86_400) + ":alice";

    assertRefusedByTheServer(Uclient.allocate(coturn, otherUser, credential.password(), false));
    assertRefusedByTheServer(Uclient.allocate(coturn, laterExpiry, credential.password(), false));
  }

  @Test
  void aTamperedPasswordIsRefused() throws Exception {
    Credential credential = credentials.issue("alice");
    String password = (credential.password().charAt(0) == 'A' ? "B" : "A") + credential.password().substring(1);

    assertRefusedByTheServer(Uclient.allocate(coturn, credential.username(), password, false));
  }

  @Test
  void userIdsWithColonsQuotesAndNonAsciiAreAccepted() throws Exception {
    for (String userId : new String[] {"team:7:bob", "o'neil \"the\" \\ ü", "x' union select 1 --"}) {
      Credential credential = credentials.issue(userId);

      Outcome outcome = Uclient.allocate(coturn, credential.username(), credential.password(), false);

      assertThat(outcome.allocated()).as(userId + " as " + credential.username() + "\n" + outcome.output()).isTrue();
    }
  }

  /** Why {@link TurnCredentials} encodes user ids: coturn refuses (400) a correctly signed raw one. */
  @Test
  void coturnRefusesARawUserIdWithAQuoteEvenWhenCorrectlySigned() throws Exception {
    String username = (Instant.now().getEpochSecond() + 3600) + ":o'neil";

    Outcome outcome = Uclient.allocate(coturn, username, hmacSha1Base64(secret, username), false);

    assertRefusedByTheServer(outcome);
    assertThat(outcome.output()).contains("error 400");
    assertThat(coturn.log()).contains("wrong username: " + username);
  }

  @Test
  void coturnUsesItsOwnFilesAndAcceptsTheWholeRenderedConfig() throws Exception {
    String log = coturn.log();

    assertThat(log).contains("SQLite DB connection success: " + coturn.runDir().toRealPath().resolve("turndb"));
    assertThat(log).contains("pid file created: " + coturn.runDir().toRealPath().resolve("turnserver.pid"));
    assertThat(log).doesNotContain("connection success: /var/lib/turn", "Bad configuration format", "Wrong address", "CONFIG ERROR",
      "Cannot find config file");
  }

  /**
   * The production list (local-testing switch off) in force in a real coturn: even with coturn's
   * own loopback guard lifted by {@code --allow-loopback-peers}, the rendered
   * {@code denied-peer-ip} line for 127/8 refuses the peer, while the allocation itself works.
   * This coturn gets its secret from the script, which creates it (the relay reads the same file).
   */
  @Test
  void theProductionDenyListIsEnforcedByCoturn() throws Exception {
    Path dataDir = tmp.resolve("production/data");
    try (Coturn production = Coturn.start(dataDir, false, "--allow-loopback-peers")) {
      String scriptSecret = TurnSecret.loadOrCreate(null, dataDir);
      assertThat(scriptSecret).isNotEqualTo(secret).matches("[0-9a-f]{64}");
      Credential credential = new TurnCredentials(scriptSecret, 3600, Clock.systemUTC()).issue("alice");

      Outcome outcome = Uclient.relay(production, credential.username(), credential.password());

      assertThat(outcome.allocated()).as(outcome.output()).isTrue();
      assertThat(outcome.output()).contains("403 (Forbidden IP)");
      assertThat(outcome.exitCode()).isEqualTo(255);
      assertThat(production.log()).contains("A peer IP 127.0.0.1 denied in the range: 127.0.0.0-127.255.255.255")
        .doesNotContain("Bad configuration format", "Wrong address", "CONFIG ERROR");
    }
  }

  private static void assertRefusedByTheServer(Outcome outcome) {
    assertThat(outcome.refused()).as(outcome.output()).isTrue();
    // an answer came (a refusal, not a timeout)
    assertThat(outcome.output()).contains("allocate response received");
    assertThat(coturn.isAlive()).isTrue();
  }

  private static String hmacSha1Base64(String key, String message) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.US_ASCII), "HmacSHA1"));
    return Base64.getEncoder().encodeToString(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
  }
}
