package io.switchboard.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IceDescriptionTest {
  static final String UFRAG = "a1b2";
  static final String PWD = "0123456789abcdefghijkl";
  static final List<String> CANDIDATES = List.of(
      "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host",
      "candidate:3 1 udp 1694498815 198.51.100.7 61000 typ srflx raddr 10.0.0.2 rport 50000",
      "candidate:2 1 udp 16777215 203.0.113.9 49160 typ relay raddr 198.51.100.7 rport 61000",
      "candidate:4 1 udp 2122262783 ::1 50001 typ host generation 0 network-id 2");

  static JsonObject valid() {
    return new IceDescription(UFRAG, PWD, CANDIDATES).toJson();
  }

  @Test
  void roundTripsThroughJsonObjectAndText() {
    IceDescription description = new IceDescription(UFRAG, PWD, CANDIDATES);
    assertThat(IceDescription.fromJson(description.toJson())).isEqualTo(description);
    assertThat(IceDescription.parse(description.toJson().encode())).isEqualTo(description);
    assertThat(description.toJson().fieldNames()).containsExactlyInAnyOrder("ufrag", "pwd", "candidates");
    assertThat(description.parsedCandidates()).extracting(IceCandidate::type).containsExactly("host", "srflx", "relay", "host");
    assertThat(description.toString()).doesNotContain(PWD);
  }

  @Test
  void acceptsAnEmptyCandidateListAndExactlySixtyFourCandidates() {
    assertThat(IceDescription.fromJson(valid().put("candidates", new JsonArray())).candidates()).isEmpty();
    List<String> many = Collections.nCopies(IceDescription.MAX_CANDIDATES, CANDIDATES.get(0));
    assertThat(new IceDescription(UFRAG, PWD, many).candidates()).hasSize(64);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "missing ufrag          | {\"pwd\":\"0123456789abcdefghijkl\",\"candidates\":[]}                     | ufrag must be a string (missing)",
      "missing pwd            | {\"ufrag\":\"a1b2\",\"candidates\":[]}                                      | pwd must be a string (missing)",
      "missing candidates     | {\"ufrag\":\"a1b2\",\"pwd\":\"0123456789abcdefghijkl\"}                     | candidates must be an array (missing)",
      "ufrag number           | {\"ufrag\":1234,\"pwd\":\"0123456789abcdefghijkl\",\"candidates\":[]}      | ufrag must be a string",
      "ufrag too short        | {\"ufrag\":\"abc\",\"pwd\":\"0123456789abcdefghijkl\",\"candidates\":[]}   | ufrag must be 4-256 ice-chars",
      "ufrag bad char         | {\"ufrag\":\"ab:cd\",\"pwd\":\"0123456789abcdefghijkl\",\"candidates\":[]} | ufrag must be 4-256 ice-chars",
      "pwd too short          | {\"ufrag\":\"a1b2\",\"pwd\":\"short\",\"candidates\":[]}                   | pwd must be 22-256 ice-chars",
      "candidates object      | {\"ufrag\":\"a1b2\",\"pwd\":\"0123456789abcdefghijkl\",\"candidates\":{}}  | candidates must be an array",
      "candidate number       | {\"ufrag\":\"a1b2\",\"pwd\":\"0123456789abcdefghijkl\",\"candidates\":[1]} | candidates[0] must be a string",
      "candidate null         | {\"ufrag\":\"a1b2\",\"pwd\":\"0123456789abcdefghijkl\",\"candidates\":[null]} | candidates[0] must be a string",
      "unknown field          | {\"ufrag\":\"a1b2\",\"pwd\":\"0123456789abcdefghijkl\",\"candidates\":[],\"x\":1} | unknown field in description: 'x'",
      "not an object          | [1,2,3]                                                                    | not a JSON object",
      "not json               | {ufrag:                                                                    | not a JSON object",
  })
  void rejectsMalformedDescriptions(String name, String json, String message) {
    assertThatThrownBy(() -> IceDescription.parse(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void rejectsMoreThanSixtyFourCandidates() {
    JsonArray many = new JsonArray();
    IntStream.range(0, 65).forEach(i -> many.add(CANDIDATES.get(0)));
    assertThatThrownBy(() -> IceDescription.fromJson(valid().put("candidates", many)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("too many candidates: 65 > 64");
  }

  @Test
  void namesTheBadCandidate() {
    JsonObject json = valid().put("candidates", new JsonArray().add(CANDIDATES.get(0)).add("candidate:1 1 udp 1 evil.example 5 typ host"));
    assertThatThrownBy(() -> IceDescription.fromJson(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("candidates[1]: candidate address is not an IP address literal: 'evil.example'");
  }

  @Test
  void rejectsNullsWithoutNullPointerExceptions() {
    assertThatThrownBy(() -> IceDescription.fromJson(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IceDescription.parse(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new IceDescription(null, PWD, List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new IceDescription(UFRAG, null, List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new IceDescription(UFRAG, PWD, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new IceDescription(UFRAG, PWD, Collections.singletonList(null)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IceDescription.parse("x".repeat(IceDescription.MAX_JSON_LENGTH + 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- fuzzing: hostile input may be rejected, but only ever with IllegalArgumentException ----

  private static final String[] TOKENS = {
      "", " ", "0", "-1", "1", "256", "257", "65535", "65536", "2147483647", "2147483648", "4294967296",
      "99999999999", "1e3", "0x10", "udp", "UDP", "tcp", "sctp", "typ", "host", "srflx", "prflx", "relay", "bogus",
      "raddr", "rport", "generation", "127.0.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.251", "256.1.1.1", "1.2.3",
      "01.2.3.4", "::", "::1", "fe80::1%eth0", "[::1]", "1:2", "zz:1", "gggg::1", "::ffff:1.2.3.4", "example.com",
      "abc.local", "a".repeat(40), "é", "\u0000", "\n", "candidate:", "candidate:1", ":", "%", "+/", null};

  @Test
  void fuzzedJsonObjectsAreAcceptedOrRejectedWithIllegalArgumentOnly() {
    long seed = 20_241_125L;
    Random random = new Random(seed);
    int accepted = 0;
    for (int i = 0; i < 5_000; i++) {
      JsonObject json = valid();
      int mutations = 1 + random.nextInt(3);
      for (int m = 0; m < mutations; m++) {
        mutate(json, random);
      }
      if (check(() -> IceDescription.fromJson(json), json.toString(), seed, i)) {
        accepted++;
      }
    }
    assertThat(accepted).as("some mutations stay valid").isPositive().isLessThan(5_000);
  }

  @Test
  void fuzzedJsonTextIsAcceptedOrRejectedWithIllegalArgumentOnly() {
    long seed = 7L;
    Random random = new Random(seed);
    String valid = valid().encode();
    String alphabet = "{}[]\":,\\ 0123456789abcdefnulltrue.-+e:/\u00e9\u0000";
    for (int i = 0; i < 5_000; i++) {
      StringBuilder text = new StringBuilder(valid);
      int edits = 1 + random.nextInt(4);
      for (int e = 0; e < edits && text.length() > 0; e++) {
        int at = random.nextInt(text.length());
        switch (random.nextInt(3)) {
          case 0 -> text.deleteCharAt(at);
          case 1 -> text.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
          default -> text.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
        }
      }
      String input = text.toString();
      check(() -> IceDescription.parse(input), input, seed, i);
    }
  }

  /** Runs one fuzz case: true if accepted (then it must round-trip), false if rejected properly. */
  private static boolean check(Supplier<IceDescription> parse, String input, long seed, int i) {
    IceDescription parsed;
    try {
      parsed = parse.get();
    } catch (IllegalArgumentException expected) {
      assertThat(expected.getMessage()).isNotBlank();
      return false;
    } catch (Throwable t) {
      throw new AssertionError("seed " + seed + " case " + i + ": " + t + " for input " + input, t);
    }
    if (!IceDescription.fromJson(parsed.toJson()).equals(parsed)) {
      fail("seed " + seed + " case " + i + ": accepted but does not round-trip: " + input);
    }
    return true;
  }

  private static void mutate(JsonObject json, Random random) {
    String field = List.of("ufrag", "pwd", "candidates").get(random.nextInt(3));
    switch (random.nextInt(8)) {
      case 0 -> json.remove(field);
      case 1 -> json.put(field, randomValue(random));
      case 2 -> json.put(List.of("x", "ufrag2", "", "candidates ", "\u0000").get(random.nextInt(5)), randomValue(random));
      case 3 -> json.put("ufrag", randomString(random, 1 + random.nextInt(300)));
      case 4 -> json.put("pwd", randomString(random, 1 + random.nextInt(300)));
      case 5 -> {
        JsonArray many = new JsonArray();
        int n = 60 + random.nextInt(10);
        IntStream.range(0, n).forEach(k -> many.add(CANDIDATES.get(k % CANDIDATES.size())));
        json.put("candidates", many);
      }
      default -> {
        if (json.getValue("candidates") instanceof JsonArray array && !array.isEmpty()) {
          int index = random.nextInt(array.size());
          Object value = array.getValue(index);
          array.set(index, value instanceof String s && random.nextInt(5) > 0 ? mutateLine(s, random) : randomValue(random));
        }
      }
    }
  }

  private static String mutateLine(String line, Random random) {
    List<String> tokens = new ArrayList<>(List.of(line.split(" ", -1)));
    switch (random.nextInt(6)) {
      case 0 -> tokens.set(random.nextInt(tokens.size()), String.valueOf(TOKENS[random.nextInt(TOKENS.length)]));
      case 1 -> tokens.remove(random.nextInt(tokens.size()));
      case 2 -> tokens.add(random.nextInt(tokens.size() + 1), String.valueOf(TOKENS[random.nextInt(TOKENS.length)]));
      case 3 -> {
        String joined = String.join(" ", tokens);
        int at = random.nextInt(joined.length());
        return joined.substring(0, at) + joined.substring(Math.min(joined.length(), at + 1 + random.nextInt(3)));
      }
      case 4 -> {
        String joined = String.join(" ", tokens);
        int at = random.nextInt(joined.length() + 1);
        return joined.substring(0, at) + TOKENS[random.nextInt(TOKENS.length)] + joined.substring(at);
      }
      default -> Collections.swap(tokens, random.nextInt(tokens.size()), random.nextInt(tokens.size()));
    }
    return String.join(" ", tokens);
  }

  private static Object randomValue(Random random) {
    return switch (random.nextInt(9)) {
      case 0 -> null;
      case 1 -> random.nextLong();
      case 2 -> random.nextBoolean();
      case 3 -> random.nextDouble();
      case 4 -> new JsonObject().put("candidates", new JsonArray().add(1));
      case 5 -> new JsonArray().add(random.nextInt()).addNull().add("candidate:");
      case 6 -> new JsonArray(new ArrayList<>(CANDIDATES));
      case 7 -> String.valueOf(TOKENS[random.nextInt(TOKENS.length)]);
      default -> randomString(random, random.nextInt(40));
    };
  }

  private static String randomString(Random random, int length) {
    String alphabet = "abcXYZ019+/:= .\u00e9\u4e2d";
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < length; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
