package io.switchboard.relay;

/** Every RFC 6455 conformance test of {@link WebSocketConformanceTest} under {@code compression = deflate-no-context}. */
class WebSocketConformanceNoContextTest extends WebSocketConformanceTest {
  @Override
  protected String compression() {
    return "deflate-no-context";
  }
}
