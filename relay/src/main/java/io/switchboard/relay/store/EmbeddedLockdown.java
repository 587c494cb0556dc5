package io.switchboard.relay.store;

import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the embedded Postgres to the relay: zonky's initdb opens the server with {@code trust} to
 * anyone who can reach it. Here the superuser gets a generated password (kept in
 * {@code <dataDir>/pg-password}, 0600), pg_hba.conf accepts only SCRAM logins over loopback TCP,
 * the server gets no Unix socket and listens on 127.0.0.1 only, and the unpacked binaries are not
 * writable by group or others.
 */
final class EmbeddedLockdown {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedLockdown.class);

  static final String PASSWORD_FILE = "pg-password";
  static final String SUPERUSER = "postgres";
  /** The whole pg_hba.conf: anything else (initdb's trust, an old folder, a hand edit) is replaced at start. */
  static final String HBA = """
      # Written by Switchboard at every start (docs/operations.md, "The embedded database"):
      # password (SCRAM) logins over loopback TCP only; the server has no Unix socket.
      host all all 127.0.0.1/32 scram-sha-256
      """;
  private static final Set<PosixFilePermission> GROUP_OTHER_WRITE =
      EnumSet.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
  private static final long SINGLE_USER_TIMEOUT_S = 60;

  private EmbeddedLockdown() {
  }

  /** The superuser's password and whether it was generated just now (then the cluster must be told). */
  record Password(String value, boolean created) {
  }

  /**
   * Reads {@code pg-password} in {@code dataDir}, or generates one. The file is created 0600 before
   * a byte is written and moved into place atomically, so it is never readable by others nor half
   * written.
   */
  static Password loadOrCreatePassword(Path dataDir) throws IOException {
    Path file = dataDir.resolve(PASSWORD_FILE);
    if (Files.exists(file)) {
      ownerOnly(file, "rw-------");
      String value = Files.readString(file).trim();
      if (!value.isEmpty()) {
        return new Password(value, false);
      }
    }
    Files.createDirectories(dataDir);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String value = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Path tmp = dataDir.resolve(PASSWORD_FILE + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(tmp);
    } catch (FileAlreadyExistsException e) {
      throw new IOException("another process is creating " + file, e);
    }
    Files.writeString(tmp, value + "\n");
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    return new Password(value, true);
  }

  /**
   * Runs before the postmaster starts (for a new cluster after zonky's initdb): the folder stays
   * 0700, and unless pg_hba.conf is already ours and the password not new, the
   * password is set in single-user mode (no listening socket, so no window in which the old trust
   * rules are reachable) and pg_hba.conf replaced.
   */
  static void lockCluster(Path pgData, Path binaries, Password password) throws IOException {
    ownerOnly(pgData, "rwx------");
    Path hba = pgData.resolve("pg_hba.conf");
    boolean hbaOurs = Files.exists(hba) && Files.readString(hba).equals(HBA);
    if (hbaOurs && !password.created()) {
      return;
    }
    LOG.info("Securing the embedded database in {}: setting the superuser password, SCRAM-only pg_hba.conf", pgData);
    setPassword(pgData, binaries, password.value());
    Path tmp = pgData.resolve("pg_hba.conf.tmp");
    Files.writeString(tmp, HBA);
    Files.move(tmp, hba, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static void setPassword(Path pgData, Path binaries, String password) throws IOException {
    List<String> command = new ArrayList<>();
    if (LinuxUtils.isUnshareAvailable()) {
      // as root, the same way zonky runs every Postgres binary (Postgres refuses to run as root)
      command.addAll(List.of("unshare", "-U"));
    }
    command.addAll(List.of(binaries.resolve("bin/postgres").toString(), "--single", "-D", pgData.toString(),
        "-c", "password_encryption=scram-sha-256", "-c", "log_statement=none", SUPERUSER));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (OutputStream stdin = process.getOutputStream()) {
      // a generated password has no quote; one written by hand might
      String literal = "'" + password.replace("'", "''") + "'";
      stdin.write(("ALTER ROLE " + SUPERUSER + " WITH PASSWORD " + literal + "\n").getBytes(StandardCharsets.UTF_8));
    }
    // the output echoes the statement: read it so the pipe never fills, log only a failure's tail
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!process.waitFor(SINGLE_USER_TIMEOUT_S, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("postgres --single did not finish in " + SINGLE_USER_TIMEOUT_S + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted setting the database password", e);
    }
    if (process.exitValue() != 0 || output.contains("ERROR:")) {
      throw new IOException("setting the embedded database password failed (postgres --single exit "
          + process.exitValue() + "): " + output.replace(password, "***").lines()
          .filter(l -> l.contains("ERROR") || l.contains("FATAL")).toList());
    }
  }

  /**
   * Removes group and other write from everything under {@code dir} (and {@code dir} itself):
   * zonky unpacks with the process's umask, and an older relay may have left them writable.
   * Symbolic links are skipped (their targets are in the tree).
   */
  static void notWritableByOthers(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        if (!Files.isSymbolicLink(p)) {
          dropGroupOtherWrite(p);
        }
      }
    }
  }

  /**
   * Whoever may write the data folder may rename pg-bin and plant other binaries. It is only
   * warned about: the folder may be shared on purpose (and chmod on, say, /tmp would break it).
   */
  static void warnIfWritableByOthers(Path dir) throws IOException {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
      if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
        LOG.warn("The data folder {} is writable by group or others ({}): they could replace the database's "
            + "binaries in pg-bin; chmod go-w it", dir, PosixFilePermissions.toString(perms));
      }
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system
    }
  }

  private static void dropGroupOtherWrite(Path p) throws IOException {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
      if (perms.removeAll(GROUP_OTHER_WRITE)) {
        Files.setPosixFilePermissions(p, perms);
      }
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system
    }
  }

  /** Sets {@code mode} if the file allows more; a non-POSIX file system leaves the folder's protection. */
  private static void ownerOnly(Path file, String mode) throws IOException {
    try {
      Set<PosixFilePermission> wanted = PosixFilePermissions.fromString(mode);
      Set<PosixFilePermission> current = Files.getPosixFilePermissions(file);
      if (!wanted.containsAll(current)) {
        LOG.warn("{} was {}; setting {}", file, PosixFilePermissions.toString(current), mode);
        Files.setPosixFilePermissions(file, wanted);
      }
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system
    }
  }
}
