package io.switchboard.natlab;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** nat-lab/expected-matrix.json: the path and the steering prediction every pair must show. */
public final class Expected {
  public record Pair(String path, String predicted, String why) {
  }

  private final Map<String, Pair> pairs = new HashMap<>();

  private Expected() {
  }

  public static Expected load() {
    try (InputStream in = Expected.class.getResourceAsStream("/expected-matrix.json")) {
      if (in == null) {
        throw new IllegalStateException("expected-matrix.json is not on the classpath");
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
      return e;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public Pair get(NatType a, NatType b) {
    return pairs.get(key(a, b));
  }

  public int size() {
    return pairs.size();
  }

  private static String key(NatType a, NatType b) {
    return a.ordinal() <= b.ordinal() ? a.wire() + "|" + b.wire() : b.wire() + "|" + a.wire();
  }
}
