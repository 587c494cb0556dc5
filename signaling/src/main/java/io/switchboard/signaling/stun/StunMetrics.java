package io.switchboard.signaling.stun;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.Map;

/**
 * The STUN service's meters (Micrometer dotted; Prometheus shows
 * {@code switchboard_stun_requests_total{result="answered|error|dropped|rate_limited"}}). Every
 * datagram that reaches a STUN socket counts exactly once:
 * <ul>
 *   <li>{@code answered} - a Binding success response was sent;</li>
 *   <li>{@code error} - a Binding error response was sent (420 Unknown Attribute, 400 Bad Request);</li>
 *   <li>{@code dropped} - no response: not STUN, malformed, oversized, or not a Binding request;</li>
 *   <li>{@code rate_limited} - no response: its source IP was over {@code ratePerSource}.</li>
 * </ul>
 */
public final class StunMetrics {

  public static final String REQUESTS = "switchboard.stun.requests";
  public static final String RESULT_TAG = "result";

  private final Map<BindingHandler.Result, Counter> counters = new EnumMap<>(BindingHandler.Result.class);

  /** Registers the counters up front (they show as 0 before the first datagram). */
  StunMetrics(MeterRegistry registry) {
    for (BindingHandler.Result result : BindingHandler.Result.values()) {
      counters.put(result, Counter.builder(REQUESTS)
        .description("Datagrams received by the STUN service, by what became of them")
        .tag(RESULT_TAG, result.tag())
        .register(registry));
    }
  }

  void count(BindingHandler.Result result) {
    counters.get(result).increment();
  }
}
