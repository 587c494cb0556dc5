package io.switchboard.relay.startup;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EmbeddedPlatformTest {
  @Test
  void linuxX8664WithGlibcRunsTheEmbeddedPostgres() {
    assertThat(EmbeddedPlatform.problem("Linux", "amd64", false)).isNull();
    assertThat(EmbeddedPlatform.problem("Linux", "x86_64", false)).isNull();
    // this machine (and CI) is such a platform: the check must not stop the relays the suite starts
    assertThat(EmbeddedPlatform.problem()).isNull();
  }

  @Test
  void everywhereElseTheStartSaysToSetDatabaseUrl() {
    String[][] others = {{"Mac OS X", "aarch64"}, {"Mac OS X", "x86_64"}, {"Windows 11", "amd64"},
        {"Linux", "aarch64"}, {"Linux", "arm"}, {"FreeBSD", "amd64"}, {null, null}};
    for (String[] p : others) {
      String problem = EmbeddedPlatform.problem(p[0], p[1], false);
      assertThat(problem).as(p[0] + " " + p[1]).isNotNull()
          .contains("Linux x86_64 (glibc) only").contains(p[0] + " " + p[1]).contains("DATABASE_URL");
    }
  }

  @Test
  void muslLinuxIsRefusedToo() {
    assertThat(EmbeddedPlatform.problem("Linux", "amd64", true)).contains("musl").contains("DATABASE_URL");
  }
}
