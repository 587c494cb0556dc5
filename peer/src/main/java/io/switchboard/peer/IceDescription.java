package io.switchboard.peer;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What one peer tells the other to run ICE: its credentials and its candidates. Carried by the
 * signaling layer as JSON, {@code {"ufrag":"…","pwd":"…","candidates":["candidate:…", …]}}.
 *
 * <p>The canonical constructor validates everything (so no invalid description exists):
 * {@code ufrag} 4–256 and {@code pwd} 22–256 ice-chars (RFC 8839 §5.4), at most
 * {@value #MAX_CANDIDATES} candidates, each a valid {@link IceCandidate} line. Violations throw
 * {@link IllegalArgumentException}; so does {@link #fromJson} for missing, unknown or mistyped fields.
 * An empty candidate list is valid (a peer that gathered nothing); {@link IcePeer#connect} then fails
 * fast.
 */
public record IceDescription(String ufrag, String pwd, List<String> candidates) {

  public static final int MAX_CANDIDATES = 64;
  /** Longest JSON text {@link #parse} reads. */
  public static final int MAX_JSON_LENGTH = 64 * 1024;

  private static final Pattern UFRAG = Pattern.compile("[A-Za-z0-9+/]{4,256}");
  private static final Pattern PWD = Pattern.compile("[A-Za-z0-9+/]{22,256}");
  private static final Set<String> FIELDS = Set.of("ufrag", "pwd", "candidates");

  public IceDescription {
    if (ufrag == null || !UFRAG.matcher(ufrag).matches()) {
      throw new IllegalArgumentException("ufrag must be 4-256 ice-chars [A-Za-z0-9+/]: " + IpLiteral.abbreviate(ufrag));
    }
    if (pwd == null || !PWD.matcher(pwd).matches()) {
      // never echo a password
      throw new IllegalArgumentException("pwd must be 22-256 ice-chars [A-Za-z0-9+/]");
    }
    if (candidates == null) {
      throw new IllegalArgumentException("candidates is null");
    }
    if (candidates.size() > MAX_CANDIDATES) {
      throw new IllegalArgumentException("too many candidates: " + candidates.size() + " > " + MAX_CANDIDATES);
    }
    List<String> copy = new ArrayList<>(candidates.size());
    for (int i = 0; i < candidates.size(); i++) {
      String line = candidates.get(i);
      try {
        IceCandidate.parse(line);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("candidates[" + i + "]: " + e.getMessage(), e);
      }
      copy.add(line);
    }
    candidates = List.copyOf(copy);
  }

  /** The candidates, parsed. */
  public List<IceCandidate> parsedCandidates() {
    return candidates.stream().map(IceCandidate::parse).toList();
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("ufrag", ufrag)
        .put("pwd", pwd)
        .put("candidates", new JsonArray(new ArrayList<>(candidates)));
  }

  /**
   * Reads a description from its JSON form, rejecting anything but exactly {@code ufrag},
   * {@code pwd} (strings) and {@code candidates} (array of strings).
   *
   * @throws IllegalArgumentException with a message saying what is wrong
   */
  public static IceDescription fromJson(JsonObject json) {
    if (json == null) {
      throw new IllegalArgumentException("description is null");
    }
    for (String key : json.fieldNames()) {
      if (!FIELDS.contains(key)) {
        throw new IllegalArgumentException("unknown field in description: " + IpLiteral.abbreviate(key));
      }
    }
    String ufrag = string(json, "ufrag");
    String pwd = string(json, "pwd");
    Object value = json.getValue("candidates");
    if (!(value instanceof JsonArray array)) {
      throw new IllegalArgumentException("candidates must be an array" + (value == null ? " (missing)" : ""));
    }
    if (array.size() > MAX_CANDIDATES) {
      throw new IllegalArgumentException("too many candidates: " + array.size() + " > " + MAX_CANDIDATES);
    }
    List<String> lines = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof String line)) {
        throw new IllegalArgumentException("candidates[" + i + "] must be a string");
      }
      lines.add(line);
    }
    return new IceDescription(ufrag, pwd, lines);
  }

  /**
   * Reads a description from JSON text.
   *
   * @throws IllegalArgumentException if the text is not a JSON object or not a valid description
   */
  public static IceDescription parse(String json) {
    if (json == null) {
      throw new IllegalArgumentException("description is null");
    }
    if (json.length() > MAX_JSON_LENGTH) {
      throw new IllegalArgumentException("description longer than " + MAX_JSON_LENGTH + " characters");
    }
    JsonObject object;
    try {
      object = new JsonObject(json);
    } catch (RuntimeException e) { // DecodeException, ClassCastException for non-objects
      throw new IllegalArgumentException("description is not a JSON object: " + e.getMessage(), e);
    }
    return fromJson(object);
  }

  /** Leaves the password out: descriptions get logged. */
  @Override
  public String toString() {
    return "IceDescription[ufrag=" + ufrag + ", pwd=…, candidates=" + candidates + "]";
  }

  private static String string(JsonObject json, String key) {
    Object value = json.getValue(key);
    if (value instanceof String s) {
      return s;
    }
    throw new IllegalArgumentException(key + " must be a string" + (value == null ? " (missing)" : ""));
  }
}
