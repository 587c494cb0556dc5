package io.switchboard.relay.startup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartMessagesTest {
  @TempDir
  Path dir;

  @Test
  void aWildcardBindPrintsALocalhostPageAndSaysItListensEverywhere() {
    for (String any : new String[] {"0.0.0.0", "::", "[::]", "", null}) {
      assertThat(StartMessages.pageUrl(any, 8080)).as(any).isEqualTo("http://localhost:8080/");
      assertThat(StartMessages.ready(any, 8080, "127.0.0.1", 8081, "embedded in /d/pg")).as(any)
          .startsWith("ready: open http://localhost:8080/ (listening on all interfaces, port 8080); "
              + "WebSocket ws://localhost:8080/ws; admin http://127.0.0.1:8081/ (/health, /ready, /metrics); "
              + "database embedded in /d/pg")
          .doesNotContain("0.0.0.0");
    }
  }

  @Test
  void aSpecificBindPrintsThatHost() {
    assertThat(StartMessages.pageUrl("127.0.0.1", 9000)).isEqualTo("http://127.0.0.1:9000/");
    assertThat(StartMessages.pageUrl("chat.example.org", 80)).isEqualTo("http://chat.example.org:80/");
    assertThat(StartMessages.pageUrl("::1", 8080)).isEqualTo("http://[::1]:8080/");
    assertThat(StartMessages.ready("10.0.0.5", 8080, "0.0.0.0", 8081, "x"))
        .startsWith("ready: open http://10.0.0.5:8080/; WebSocket ws://10.0.0.5:8080/ws; admin http://localhost:8081/")
        .doesNotContain("all interfaces, port 8080");
  }

  @Test
  void theDatabaseIsNamedWithoutItsPassword() {
    String d = StartMessages.database("postgres://postgres.abcd:s3cr3t-pw@aws-0-eu.pooler.supabase.com:6543/postgres"
        + "?sslmode=verify-full&sslrootcert=/etc/ca.pem", dir);
    assertThat(d).isEqualTo("postgres://postgres.abcd@aws-0-eu.pooler.supabase.com:6543/postgres (sslmode=verify-full)"
        + " from DATABASE_URL").doesNotContain("s3cr3t");
    assertThat(StartMessages.database("postgresql://u:pw@[::1]:5432/chat", dir))
        .isEqualTo("postgres://u@[::1]:5432/chat from DATABASE_URL");
    assertThat(StartMessages.database("not a url:pw@x", dir)).doesNotContain("pw");
    assertThat(StartMessages.database(null, dir)).isEqualTo("embedded in " + dir.toAbsolutePath().resolve("pg"));
  }

  @Test
  void theFirstLineSaysWhetherThisStartInitialisesTheDatabase() throws Exception {
    assertThat(StartMessages.starting("1.2.3", null, dir)).isEqualTo("switchboard 1.2.3 starting; first start: "
        + "unpacking and initialising the embedded Postgres in " + dir.toAbsolutePath() + " (takes a few seconds, once)");
    Files.createDirectories(dir.resolve("pg"));
    Files.writeString(dir.resolve("pg/PG_VERSION"), "17\n");
    assertThat(StartMessages.starting("1.2.3", null, dir))
        .isEqualTo("switchboard 1.2.3 starting; starting the embedded Postgres in " + dir.toAbsolutePath().resolve("pg"));
    assertThat(StartMessages.starting("1.2.3", "postgres://a:b@db:5432/x", dir))
        .isEqualTo("switchboard 1.2.3 starting; database postgres://a@db:5432/x from DATABASE_URL");
  }

  @Test
  void aBuildFromClassesHasNoVersionButSaysSo() {
    // tests run from target/classes: no manifest; the shaded jar's manifest has Implementation-Version
    assertThat(StartMessages.version()).isEqualTo("(development build)");
  }
}
