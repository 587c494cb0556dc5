package io.switchboard.natlab;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One pair's outcome. The fields ({@code natA, natB, path, predicted, delivered, duplicates,
 * setupMs, rttMs}) come first in the JSON; the rest explain them.
 */
public record Row(NatType natA, NatType natB, String path, String predicted, String reason, int sent, int delivered,
                  int duplicates, Long setupMs, Double rttMs, String classA, String classB, String candidates,
                  Expected.Pair expected, long pairMs, List<String> errors, JsonObject peerA, JsonObject peerB) {

  /** The path the peers ended on is the one steering predicted. */
  public boolean matched() {
    return path.equals(predicted);
  }

  public boolean classesMatch() {
    return natA.expectedClass().equals(classA) && natB.expectedClass().equals(classB);
  }

  public boolean exactlyOnce() {
    return sent > 0 && delivered == sent && duplicates == 0;
  }

  /** Everything the lab asserts about a pair. */
  public List<String> problems() {
    List<String> p = new ArrayList<>(errors);
    if (!classesMatch()) {
      p.add("classified " + classA + "/" + classB + ", configured " + natA.expectedClass() + "/" + natB.expectedClass());
    }
    if (!exactlyOnce()) {
      p.add("delivered " + delivered + " of " + sent + " with " + duplicates + " duplicate(s)");
    }
    if (expected == null) {
      p.add("no expected row for this pair");
    } else {
      if (!expected.path().equals(path)) {
        p.add("path " + path + ", expected " + expected.path());
      }
      if (!expected.predicted().equals(predicted)) {
        p.add("steering predicted " + predicted + ", expected " + expected.predicted());
      }
    }
    return p;
  }

  public boolean ok() {
    return problems().isEmpty();
  }

  public JsonObject toJson() {
    return new JsonObject().put("natA", natA.wire()).put("natB", natB.wire()).put("path", path)
        .put("predicted", predicted).put("delivered", delivered).put("duplicates", duplicates)
        .put("setupMs", setupMs).put("rttMs", rttMs == null ? null : Math.round(rttMs * 100) / 100.0)
        .put("matched", matched()).put("reason", reason).put("sent", sent)
        .put("classA", classA).put("classB", classB).put("candidates", candidates)
        .put("expected", expected == null ? null : expected.path()).put("ok", ok())
        .put("problems", new JsonArray(problems())).put("pairMs", pairMs)
        .put("labUpMs", peerA.getLong("labUpMs")).put("labDownMs", peerA.getLong("labDownMs"))
        .put("peers", new JsonObject().put("a", peerA).put("b", peerB));
  }
}
