package io.switchboard.webclient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import io.switchboard.protocol.LzString;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Java codec against the npm package it must match, over 100,000 seeded random strings: the same
 * compressed output in every form, and each side decodes the other's. test/lz-oracle.mjs runs the
 * npm side; strings travel as JSON lines with every non-ASCII char escaped (lone surrogates too).
 */
class LzStringDifferentialTest {
  private static final int STRINGS = 100_000;
  private static final Path ORACLE = Path.of("test", "lz-oracle.mjs");
  private static final JsonFactory JSON = JsonFactory.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

  @Test
  void javaAndNpmLzStringAgreeOnEveryString() throws Exception {
    requireNode();
    List<String> inputs = randomStrings(new Random(0xd1ff));
    Process node = new ProcessBuilder("node", ORACLE.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      CompletableFuture<Void> requests = CompletableFuture.runAsync(() -> writeRequests(node, inputs));
      try (BufferedReader replies = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
        for (String input : inputs) {
          String line = replies.readLine();
          if (line == null) {
            fail("the oracle stopped early (exit %s)", node.waitFor(5, TimeUnit.SECONDS) ? node.exitValue() : "none");
          }
          check(input, fields(line));
        }
      }
      requests.get(10, TimeUnit.SECONDS);
      assertThat(node.waitFor(10, TimeUnit.SECONDS)).as("oracle exits when its input ends").isTrue();
      assertThat(node.exitValue()).isZero();
    } finally {
      node.destroyForcibly();
    }
  }

  /** Plain comparisons first: describing 900,000 assertions up front would cost more than the codecs. */
  private static void check(String input, Map<String, String> js) {
    Map<String, String> java = new HashMap<>();
    java.put("base64", LzString.compressToBase64(input));
    java.put("raw", LzString.compress(input));
    java.put("utf16", LzString.compressToUtf16(input));
    java.put("fromBase64", LzString.decompressFromBase64(js.get("base64"), input.length()));
    java.put("fromRaw", LzString.decompress(js.get("raw"), input.length()));
    java.put("fromUtf16", LzString.decompressFromUtf16(js.get("utf16"), input.length()));
    boolean agree = java.get("base64").equals(js.get("base64")) && java.get("raw").equals(js.get("raw"))
        && java.get("utf16").equals(js.get("utf16"));
    for (String decoded : List.of("fromBase64", "fromRaw", "fromUtf16")) {
      agree &= input.equals(java.get(decoded)) && input.equals(js.get(decoded));
    }
    if (!agree) {
      // compressed forms as Java / JS produced them; from*: what Java / JS decoded from the other side
      assertThat(java).as("Java vs JS for %s", escaped(input)).isEqualTo(Map.of("base64", js.get("base64"),
          "raw", js.get("raw"), "utf16", js.get("utf16"), "fromBase64", input, "fromRaw", input, "fromUtf16", input));
      assertThat(js).as("JS decoding Java's output of %s", escaped(input)).containsAllEntriesOf(
          Map.of("fromBase64", input, "fromRaw", input, "fromUtf16", input));
    }
  }

  private static void writeRequests(Process node, List<String> inputs) {
    try (Writer out = new OutputStreamWriter(node.getOutputStream(), StandardCharsets.US_ASCII);
        JsonGenerator json = JSON.createGenerator(out)) {
      json.setRootValueSeparator(null);
      for (String input : inputs) {
        json.writeStartObject();
        json.writeStringField("s", input);
        json.writeStringField("base64", LzString.compressToBase64(input));
        json.writeStringField("raw", LzString.compress(input));
        json.writeStringField("utf16", LzString.compressToUtf16(input));
        json.writeEndObject();
        json.writeRaw('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, String> fields(String line) throws IOException {
    Map<String, String> fields = new HashMap<>();
    try (JsonParser p = JSON.createParser(line)) {
      assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        p.nextToken();
        fields.put(name, p.currentToken() == JsonToken.VALUE_NULL ? null : p.getText());
      }
    }
    return fields;
  }

  /** Chat text and worse: ASCII, Hangul, emoji, lone surrogates, any code unit, repetition, some KB long. */
  static List<String> randomStrings(Random random) {
    String[] fragments = {"hello ", "안녕하세요 ", "👋", "ㅋㅋㅋ", "__proto__", "{\"cid\":\"c1\",\"body\":\"", "\n", "\ud800",
        "\udfff", "constructor", "\u0000"};
    List<String> strings = new ArrayList<>(STRINGS);
    strings.add("");
    while (strings.size() < STRINGS) {
      int length = switch (random.nextInt(100)) {
        case 0, 1, 2, 3, 4 -> 0;
        case 5 -> 500 + random.nextInt(3500);
        default -> random.nextInt(80);
      };
      int style = random.nextInt(7);
      StringBuilder s = new StringBuilder(length);
      while (s.length() < length) {
        switch (style == 6 ? random.nextInt(6) : style) {
          case 0 -> s.append((char) (32 + random.nextInt(95)));
          case 1 -> s.append((char) (0xAC00 + random.nextInt(11172)));
          case 2 -> s.appendCodePoint(0x1F000 + random.nextInt(0x1000));
          case 3 -> s.append((char) random.nextInt(0x10000)); // any code unit, lone surrogates included
          case 4 -> s.append(fragments[random.nextInt(fragments.length)]);
          default -> s.append(s.length() > 0 && random.nextBoolean()
              ? s.substring(random.nextInt(s.length())) : String.valueOf((char) ('a' + random.nextInt(3))));
        }
      }
      strings.add(s.toString());
    }
    return strings;
  }

  /** CI must prove the codec; a developer machine without node gets a loud skip. */
  private static void requireNode() {
    String missing = null;
    try {
      Process version = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      if (!version.waitFor(30, TimeUnit.SECONDS) || version.exitValue() != 0) {
        missing = "node --version failed";
      }
    } catch (IOException e) {
      missing = "node is not on the PATH";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      missing = "interrupted";
    }
    if (missing == null && !Files.isDirectory(Path.of("node_modules", "lz-string"))) {
      missing = "node_modules/lz-string is missing (run npm ci in web-client)";
    }
    if (missing == null) {
      return;
    }
    if ("true".equals(System.getenv("CI"))) {
      fail("LZ-String differential test cannot run on CI: " + missing);
    }
    System.err.println("!!! SKIPPING LzStringDifferentialTest: " + missing + " — the Java codec is NOT checked against npm");
    Assumptions.abort(missing);
  }

  private static String escaped(String s) {
    StringBuilder out = new StringBuilder("\"");
    int shown = Math.min(s.length(), 200);
    for (int i = 0; i < shown; i++) {
      char c = s.charAt(i);
      out.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\u%04x", (int) c));
    }
    return out.append(s.length() > shown ? "…\" (" + s.length() + " chars)" : "\"").toString();
  }
}
