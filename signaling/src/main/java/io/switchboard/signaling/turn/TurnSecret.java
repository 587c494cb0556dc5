package io.switchboard.signaling.turn;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The secret the relay shares with coturn ({@code static-auth-secret}): configured, or kept in
 * {@code <dataDir>/turn-secret} so that {@code turn-config/run-coturn.sh} hands the same one to
 * coturn. Both sides create the file the same way when it is missing: 32 random bytes as 64 hex
 * characters and a newline, mode 0600, published atomically (a hard link from a private temporary
 * file, which fails rather than replaces when another process got there first — the loser reads
 * the winner's secret).
 *
 * <p>Blocking file IO: call it from {@code executeBlocking}.
 */
public final class TurnSecret {

  public static final String FILE_NAME = "turn-secret";

  /** What coturn's config file can carry as {@code static-auth-secret=...}: printable ASCII, no blanks. */
  private static final Pattern VALID = Pattern.compile("[!-~]{" + TurnOptions.MIN_SECRET_LENGTH + ",}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private TurnSecret() {
  }

  /**
   * Returns {@code configured} when it is set; otherwise the trimmed content of
   * {@code <dataDir>/turn-secret}, creating the folder and the file when they don't exist.
   *
   * @throws IOException when the file can't be read or created, or holds no valid secret
   */
  public static String loadOrCreate(String configured, Path dataDir) throws IOException {
    if (configured != null && !configured.isBlank()) {
      if (!isValid(configured)) {
        throw new IllegalArgumentException("configured turn secret must be at least " + TurnOptions.MIN_SECRET_LENGTH
          + " printable ASCII characters without spaces");
      }
      return configured;
    }
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      return read(file);
    }
    Files.createDirectories(dataDir);
    byte[] random = new byte[32];
    RANDOM.nextBytes(random);
    String secret = HexFormat.of().formatHex(random);
    Path tmp = createPrivateFile(dataDir);
    try {
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap((secret + "\n").getBytes(StandardCharsets.US_ASCII)));
        channel.force(true);
      }
      try {
        Files.createLink(file, tmp);
      } catch (FileAlreadyExistsException lostTheRace) {
        return read(file);
      } catch (UnsupportedOperationException noHardLinks) {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      }
      return secret;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Whether coturn can use {@code secret} as its {@code static-auth-secret}. */
  static boolean isValid(String secret) {
    return secret != null && VALID.matcher(secret).matches();
  }

  private static String read(Path file) throws IOException {
    String secret = Files.readString(file, StandardCharsets.UTF_8).trim();
    if (!isValid(secret)) {
      throw new IOException(file + " must hold one line of at least " + TurnOptions.MIN_SECRET_LENGTH
        + " printable ASCII characters without spaces; delete it to have a new secret generated");
    }
    return secret;
  }

  private static Path createPrivateFile(Path dir) throws IOException {
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return Files.createTempFile(dir, "." + FILE_NAME + "-", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    // not a POSIX file system: the folder's permissions are all we have
    return Files.createTempFile(dir, "." + FILE_NAME + "-", ".tmp");
  }
}
