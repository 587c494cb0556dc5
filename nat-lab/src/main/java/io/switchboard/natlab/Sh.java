package io.switchboard.natlab;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs short commands with a time bound; every failure names the command and its output. */
final class Sh {
  /** Pipe readers: own daemon threads (the common pool has one thread on a 2-core machine). */
  static final java.util.concurrent.ExecutorService READERS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "natlab-pipe");
    t.setDaemon(true);
    return t;
  });

  private Sh() {
  }

  record Result(int code, String out, String err) {
    boolean ok() {
      return code == 0;
    }
  }

  static Result run(long timeoutMs, String stdin, List<String> command) {
    ProcessBuilder pb = new ProcessBuilder(command);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new Result(127, "", e.getMessage());
    }
    CompletableFuture<String> out = drain(p.getInputStream());
    CompletableFuture<String> err = drain(p.getErrorStream());
    try {
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(2, TimeUnit.SECONDS);
        return new Result(124, out.getNow(""), "timed out after " + timeoutMs + " ms: " + String.join(" ", command));
      }
      return new Result(p.exitValue(), out.get(2, TimeUnit.SECONDS), err.get(2, TimeUnit.SECONDS));
    } catch (Exception e) {
      p.destroyForcibly();
      return new Result(1, "", e.toString());
    }
  }

  static Result run(String... command) {
    return run(10_000, null, Arrays.asList(command));
  }

  /** Runs and throws {@link IllegalStateException} with the command's stderr when it fails. */
  static String check(String... command) {
    return feed(null, command);
  }

  /** {@link #check} with {@code stdin} written to the command. */
  static String feed(String stdin, String... command) {
    Result r = run(10_000, stdin, Arrays.asList(command));
    if (!r.ok()) {
      throw new IllegalStateException("`" + String.join(" ", command) + "` failed (" + r.code() + "): "
          + r.err().strip());
    }
    return r.out();
  }

  static List<String> list(String... parts) {
    return new ArrayList<>(Arrays.asList(parts));
  }

  private static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    }, READERS);
  }
}
