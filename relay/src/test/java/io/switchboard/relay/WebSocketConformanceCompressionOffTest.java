package io.switchboard.relay;

/** Every RFC 6455 conformance test of {@link WebSocketConformanceTest} under {@code compression = off}. */
class WebSocketConformanceCompressionOffTest extends WebSocketConformanceTest {
  @Override
  protected String compression() {
    return "off";
  }
}
