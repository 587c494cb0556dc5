package io.switchboard.signaling.turn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TurnSecretTest {

  @TempDir
  Path tmp;

  @Test
  void createsSixtyFourHexCharactersReadableOnlyByTheOwner() throws IOException {
    Path dataDir = tmp.resolve("data/nested");

    String secret = TurnSecret.loadOrCreate(null, dataDir);

    Path file = dataDir.resolve("turn-secret");
    assertThat(secret).matches("[0-9a-f]{64}");
    assertThat(Files.readString(file)).isEqualTo(secret + "\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(listNames(dataDir)).containsExactly("turn-secret"); // no temporary file left behind
  }

  @Test
  void readsTheSameSecretOnTheNextStart() throws IOException {
    String first = TurnSecret.loadOrCreate(null, tmp);

    assertThat(TurnSecret.loadOrCreate(null, tmp)).isEqualTo(first);
    assertThat(TurnSecret.loadOrCreate("", tmp)).isEqualTo(first);
  }

  @Test
  void eachDataDirGetsItsOwnRandomSecret() throws IOException {
    assertThat(TurnSecret.loadOrCreate(null, tmp.resolve("a"))).isNotEqualTo(TurnSecret.loadOrCreate(null, tmp.resolve("b")));
  }

  @Test
  void readsAFileWrittenByHandTrimmed() throws IOException {
    Files.writeString(tmp.resolve("turn-secret"), "  my-own-secret-of-some-length \n\n");

    assertThat(TurnSecret.loadOrCreate(null, tmp)).isEqualTo("my-own-secret-of-some-length");
  }

  @Test
  void configuredSecretWinsAndNoFileIsCreated() throws IOException {
    Files.writeString(tmp.resolve("turn-secret"), "the-file-secret-0123456789");

    assertThat(TurnSecret.loadOrCreate("configured-secret-0123", tmp)).isEqualTo("configured-secret-0123");
    assertThat(TurnSecret.loadOrCreate("configured-secret-0123", tmp.resolve("fresh"))).isEqualTo("configured-secret-0123");
    assertThat(tmp.resolve("fresh")).doesNotExist();
  }

  @Test
  void rejectsAConfiguredSecretCoturnCouldNotCarry() {
    assertThatThrownBy(() -> TurnSecret.loadOrCreate("short", tmp)).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("at least 16");
    assertThatThrownBy(() -> TurnSecret.loadOrCreate("has spaces inside it", tmp)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsAFileWithoutAUsableSecret() throws IOException {
    Path file = tmp.resolve("turn-secret");
    for (String content : new String[] {"", "  \n", "short\n", "two words are not a secret\n", "line-one-0123456789\nline-two-0123456789\n"}) {
      Files.writeString(file, content);

      assertThatThrownBy(() -> TurnSecret.loadOrCreate(null, tmp)).as(content).isInstanceOf(IOException.class)
        .hasMessageContaining("turn-secret must hold one line").hasMessageContaining("delete it");
    }
  }

  @Test
  void concurrentFirstStartsAgreeOnOneSecret() throws Exception {
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 20; round++) {
        Path dataDir = tmp.resolve("round-" + round);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          Callable<String> load = () -> {
            start.await();
            return TurnSecret.loadOrCreate(null, dataDir);
          };
          results.add(pool.submit(load));
        }
        start.countDown();
        Set<String> seen = new HashSet<>();
        for (Future<String> result : results) {
          seen.add(result.get());
        }

        assertThat(seen).as("round %d", round).containsExactly(Files.readString(dataDir.resolve("turn-secret")).trim());
        assertThat(listNames(dataDir)).containsExactly("turn-secret");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<String> listNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}
