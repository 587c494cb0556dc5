package io.switchboard.relay.startup;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogFormatTest {
  @Test
  void textJsonAndUnsetAreFormats() {
    assertThat(LogFormat.problem(null)).isNull();
    assertThat(LogFormat.problem("text")).isNull();
    assertThat(LogFormat.problem("json")).isNull();
    // logback.xml includes switchboard-log-<format>.xml: one for each accepted value
    assertThat(LogFormat.class.getResource("/switchboard-log-text.xml")).isNotNull();
    assertThat(LogFormat.class.getResource("/switchboard-log-json.xml")).isNotNull();
    assertThat(LogFormat.class.getResource("/switchboard-log-" + LogFormat.DEFAULT_FORMAT + ".xml")).isNotNull();
  }

  @Test
  void anythingElseIsRefusedWithAHint() {
    assertThat(LogFormat.problem("JSON")).isEqualTo("SWITCHBOARD_LOG_FORMAT must be text or json, got \"JSON\" (lower case, no spaces)");
    assertThat(LogFormat.problem(" json")).endsWith("(lower case, no spaces)");
    assertThat(LogFormat.problem("logstash")).isEqualTo("SWITCHBOARD_LOG_FORMAT must be text or json, got \"logstash\"");
    assertThat(LogFormat.problem("")).isNotNull();
  }
}
