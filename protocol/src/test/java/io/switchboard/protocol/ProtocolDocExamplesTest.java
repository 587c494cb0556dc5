package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every example line in docs/protocol.md is checked against the parser and encoder. */
class ProtocolDocExamplesTest {
  private static final Path DOC = Path.of("..", "docs", "protocol.md");
  private final FrameParser parser = new FrameParser(Limits.defaults());

  static List<String> wireLines() throws IOException {
    List<String> lines = new ArrayList<>();
    boolean inWire = false;
    for (String line : Files.readAllLines(DOC)) {
      if (line.startsWith("```")) {
        inWire = line.equals("```wire");
      } else if (inWire && !line.isBlank()) {
        lines.add(line);
      }
    }
    return lines;
  }

  @Test
  void docHasExamplesOfEveryKind() throws IOException {
    List<String> lines = wireLines();
    assertThat(lines).anyMatch(l -> l.startsWith("C> "));
    assertThat(lines).anyMatch(l -> l.startsWith("S> "));
    assertThat(lines).anyMatch(l -> l.startsWith("X> "));
    assertThat(lines).allMatch(l -> l.startsWith("C> ") || l.startsWith("S> ") || l.startsWith("X> "));
  }

  @TestFactory
  List<DynamicTest> clientExamplesParse() throws IOException {
    return wireLines().stream().filter(l -> l.startsWith("C> "))
        .map(l -> DynamicTest.dynamicTest(l, () -> assertThat(parser.parse(l.substring(3))).isNotNull()))
        .toList();
  }

  @TestFactory
  List<DynamicTest> invalidExamplesAreRejectedWithTheirCode() throws IOException {
    return wireLines().stream().filter(l -> l.startsWith("X> ")).map(l -> {
      String rest = l.substring(3);
      String code = rest.substring(0, rest.indexOf(' '));
      String frame = rest.substring(code.length() + 1);
      return DynamicTest.dynamicTest(l, () -> assertThatThrownBy(() -> parser.parse(frame))
          .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code().wire()).isEqualTo(code)));
    }).toList();
  }

  @TestFactory
  List<DynamicTest> serverExamplesAreObjectsWithAKnownType() throws IOException {
    List<String> serverTypes = List.of("welcome", "joined", "left", "mode", "msg", "ack", "unread", "page",
        "error", "pong", "presence", "signal", "profile", "steer", "role", "granted", "revoked", "members", "authed",
        "reads", "typing", "changed", "seqs", "encrypted");
    return wireLines().stream().filter(l -> l.startsWith("S> ")).map(l -> DynamicTest.dynamicTest(l, () -> {
      try (JsonParser p = new JsonFactory().createParser(l.substring(3))) {
        assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
        assertThat(p.nextFieldName()).isEqualTo("t");
        assertThat(serverTypes).contains(p.nextTextValue());
      }
    })).toList();
  }
}
