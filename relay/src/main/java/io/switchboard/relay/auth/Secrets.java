package io.switchboard.relay.auth;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The server secret (it signs guest tokens): configured, or generated once and kept where every
 * relay that must accept the tokens finds it — the data folder for a relay alone, the shared
 * database for a cluster — so tokens survive restarts and moves between relays.
 */
public final class Secrets {
  private Secrets() {
  }

  private static final String CREATE_SHARED =
      "INSERT INTO relay_secret (id, guest_secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING";
  private static final String READ_SHARED = "SELECT guest_secret FROM relay_secret WHERE id = 1";

  /**
   * The secret all relays on one database share: the first relay to ask creates it. Clustered
   * relays without a configured secret use it, so a guest who fails over keeps being the same user.
   */
  public static Future<byte[]> shared(Pool pool) {
    return pool.preparedQuery(CREATE_SHARED).execute(Tuple.of(Buffer.buffer(random())))
        .compose(v -> pool.query(READ_SHARED).execute())
        .map(rows -> rows.iterator().next().getBuffer(0).getBytes());
  }

  private static byte[] random() {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    return secret;
  }

  public static byte[] loadOrCreate(String configured, Path dataDir) throws IOException {
    if (configured != null && !configured.isBlank()) {
      return configured.getBytes(StandardCharsets.UTF_8);
    }
    Path file = dataDir.resolve("secret");
    if (Files.exists(file)) {
      return Base64.getDecoder().decode(Files.readString(file).trim());
    }
    Files.createDirectories(dataDir);
    byte[] secret = random();
    Path tmp = dataDir.resolve("secret.tmp");
    Files.writeString(tmp, Base64.getEncoder().encodeToString(secret));
    try {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system; the folder's permissions are all we have
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return secret;
  }
}
