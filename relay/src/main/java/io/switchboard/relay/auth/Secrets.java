package io.switchboard.relay.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/** The server secret: configured, or generated once and kept in the data folder so tokens survive restarts. */
public final class Secrets {
  private Secrets() {
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
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
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
