package io.switchboard.natlab;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * nat-lab/expected-matrix.json (Java peers) or expected-matrix-browser.json (browser peers): the path
 * and the steering prediction every pair must show, and, where a peer kind measures less than RFC 5780
 * (browsers), the class the relay gives each NAT type ({@code classes}).
 */
public final class Expected {
  public record Pair(String path, String predicted, String why) {
  }

  private final Map<String, Pair> pairs = new HashMap<>();
  private final Map<NatType, String> classes = new HashMap<>();

  private Expected() {
  }

  /** The Java peers' matrix. */
  public static Expected load() {
    return load("java");
  }

  /** The matrix for a peer kind: {@code expected-matrix.json} for java, {@code expected-matrix-<kind>.json} otherwise. */
  public static Expected load(String kind) {
    String file = kind.equals("java") ? "expected-matrix.json" : "expected-matrix-" + kind + ".json";
    try (InputStream in = Expected.class.getResourceAsStream("/" + file)) {
      if (in == null) {
        throw new IllegalStateException(file + " is not on the classpath");
      }
      JsonObject json = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      Expected e = new Expected();
      JsonArray list = json.getJsonArray("pairs");
      for (int i = 0; i < list.size(); i++) {
        JsonObject p = list.getJsonObject(i);
        NatType a = NatType.parse(p.getString("a"));
        NatType b = NatType.parse(p.getString("b"));
        e.pairs.put(key(a, b), new Pair(p.getString("path"), p.getString("predicted"), p.getString("why")));
      }
      JsonObject classes = json.getJsonObject("classes", new JsonObject());
      for (String type : classes.fieldNames()) {
        e.classes.put(NatType.parse(type), classes.getString(type));
      }
      return e;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public Pair get(NatType a, NatType b) {
    return pairs.get(key(a, b));
  }

  /** The relay's class for a peer of this kind behind {@code type}. */
  public String expectedClass(NatType type) {
    return classes.getOrDefault(type, type.expectedClass());
  }

  public int size() {
    return pairs.size();
  }

  private static String key(NatType a, NatType b) {
    return a.ordinal() <= b.ordinal() ? a.wire() + "|" + b.wire() : b.wire() + "|" + a.wire();
  }
}
