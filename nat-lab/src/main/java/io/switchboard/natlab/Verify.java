package io.switchboard.natlab;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ground truth: for every NAT type, what coturn's {@code turnutils_natdiscovery} (RFC 5780, against
 * coturn's two addresses) reports from the client namespace, and what the relay's classification
 * (the {@code profile} answer to the Java peer's report) says, against what the lab configured.
 */
public final class Verify {
  private Verify() {
  }

  public record Truth(NatType type, String discoveredMapping, String discoveredFiltering, String relayClass,
                      String relayMapping, String relayFiltering, String raw) {
    public boolean discoveryOk() {
      return type.mapping().equals(discoveredMapping) && type.filtering().equals(discoveredFiltering);
    }

    public boolean classOk() {
      return type.expectedClass().equals(relayClass);
    }

    public boolean ok() {
      return discoveryOk() && classOk();
    }
  }

  /** Two types at a time (sides a and b), natdiscovery and the probe running side by side. */
  public static List<Truth> run(Lab lab, PairRunner runner, List<NatType> types) throws IOException {
    List<Truth> out = new ArrayList<>();
    for (int i = 0; i < types.size(); i += 2) {
      List<Lab.Side> sides = new ArrayList<>();
      List<CompletableFuture<String>> discovery = new ArrayList<>();
      List<CompletableFuture<String>> probes = new ArrayList<>();
      try {
        for (int k = i; k < Math.min(i + 2, types.size()); k++) {
          Lab.Side side = lab.side(k == i ? "a" : "b", types.get(k));
          sides.add(side);
          String tag = "verify-" + side.type().wire();
          discovery.add(lab.runIn(side.clientNs(), List.of("turnutils_natdiscovery", "-m", "-f", Lab.RELAY_IP),
              tag + "-natdiscovery", 40_000));
          probes.add(runner.probe(side, tag + "-probe"));
        }
        for (int k = 0; k < sides.size(); k++) {
          String raw = PairRunner.join(discovery.get(k));
          java.nio.file.Files.writeString(lab.options().logDir().resolve("verify-" + sides.get(k).type().wire()
              + "-natdiscovery.out"), raw);
          JsonObject probe = PairRunner.parse(PairRunner.join(probes.get(k)), "probe");
          out.add(new Truth(sides.get(k).type(), mapping(raw), filtering(raw), probe.getString("class", "-"),
              probe.getString("classMapping", "-"), probe.getString("classFiltering", "-"), raw));
        }
      } finally {
        sides.forEach(lab::removeSide);
      }
    }
    return out;
  }

  private static final Pattern MAPPING = Pattern.compile("NAT with (.*?) Mapping", Pattern.CASE_INSENSITIVE);
  private static final Pattern FILTERING = Pattern.compile("NAT with (.*?) Filtering", Pattern.CASE_INSENSITIVE);

  /** natdiscovery's wording ("NAT with Endpoint Independent Mapping!") in RFC 4787's wire names. */
  static String mapping(String raw) {
    String section = section(raw, "Mapping Behavior", "Filtering Behavior");
    if (section.toLowerCase(Locale.ROOT).contains("no nat")) {
      return NatType.Behaviour.EI.wire;
    }
    return behaviour(MAPPING.matcher(section), section);
  }

  static String filtering(String raw) {
    String section = section(raw, "Filtering Behavior", null);
    if (section.toLowerCase(Locale.ROOT).contains("no nat")) {
      return NatType.Behaviour.EI.wire;
    }
    return behaviour(FILTERING.matcher(section), section);
  }

  private static String section(String raw, String from, String to) {
    int start = raw.indexOf(from);
    if (start < 0) {
      return "";
    }
    int end = to == null ? -1 : raw.indexOf(to, start);
    return end < 0 ? raw.substring(start) : raw.substring(start, end);
  }

  private static String behaviour(Matcher m, String section) {
    if (!m.find()) {
      // natdiscovery prints only this when no answer came back over UDP.
      return section.contains("STUN receive timeout") ? NatType.NO_UDP : "-";
    }
    String s = m.group(1).toLowerCase(Locale.ROOT);
    if (s.contains("endpoint independent")) {
      return NatType.Behaviour.EI.wire;
    }
    if (s.contains("address and port dependent")) {
      return NatType.Behaviour.APD.wire;
    }
    if (s.contains("address dependent")) {
      return NatType.Behaviour.AD.wire;
    }
    return s;
  }

  public static String markdown(List<Truth> truths) {
    StringBuilder md = new StringBuilder();
    md.append("| NAT | configured mapping / filtering | turnutils_natdiscovery | relay's class (mapping / filtering) | ok |\n");
    md.append("|---|---|---|---|---|\n");
    for (Truth t : truths) {
      md.append("| ").append(t.type().wire()).append(" | ").append(t.type().mapping()).append(" / ").append(t.type().filtering())
          .append(" | ").append(t.discoveredMapping()).append(" / ").append(t.discoveredFiltering())
          .append(" | ").append(t.relayClass()).append(" (").append(t.relayMapping()).append(" / ").append(t.relayFiltering())
          .append(") | ").append(t.ok() ? "✓" : "✗").append(" |\n");
    }
    return md.toString();
  }
}
