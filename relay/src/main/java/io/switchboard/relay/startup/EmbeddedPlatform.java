package io.switchboard.relay.startup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The embedded Postgres ships one set of binaries: zonky's Linux x86_64 build, linked against
 * glibc (relay/pom.xml excludes the others to keep the jar small). Anywhere else the relay needs
 * {@code DATABASE_URL}; this says so before anything starts, instead of zonky's stack trace
 * ("Missing embedded postgres binaries") seconds later.
 */
public final class EmbeddedPlatform {
  /** The loader of musl libc (Alpine and similar): glibc binaries do not run there. */
  private static final Path MUSL_LOADER = Path.of("/lib/ld-musl-x86_64.so.1");

  private EmbeddedPlatform() {
  }

  /** {@link #problem(String, String, boolean)} for this JVM's platform. */
  public static String problem() {
    return problem(System.getProperty("os.name"), System.getProperty("os.arch"), Files.exists(MUSL_LOADER));
  }

  /**
   * Why the embedded Postgres cannot run on this platform, or null when it can.
   *
   * @param osName the JVM's {@code os.name}
   * @param osArch the JVM's {@code os.arch}
   * @param musl whether the C library is musl (Alpine) rather than glibc
   */
  public static String problem(String osName, String osArch, boolean musl) {
    String os = osName == null ? "" : osName.toLowerCase(Locale.ROOT);
    String arch = osArch == null ? "" : osArch.toLowerCase(Locale.ROOT);
    boolean linux = os.startsWith("linux");
    boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
    if (linux && x64 && !musl) {
      return null;
    }
    String platform = osName + " " + osArch + (linux && x64 ? " with musl libc (Alpine?)" : "");
    return "the embedded Postgres in this build runs on Linux x86_64 (glibc) only, and this is " + platform
        + ": set DATABASE_URL to a Postgres you run (e.g. postgres://user:password@localhost:5432/postgres, "
        + "or a Supabase project), or run the container image; see README, \"Platforms\"";
  }
}
