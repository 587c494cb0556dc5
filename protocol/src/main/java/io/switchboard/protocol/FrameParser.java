package io.switchboard.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one strict parser for client frames. Rejects invalid JSON, duplicate keys, non-object frames,
 * missing or unknown {@code t}, missing or wrong-typed fields and values outside {@link Limits}.
 * Unknown fields are ignored so newer clients keep working against older servers.
 */
public final class FrameParser {
  private static final JsonFactory JSON = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).build())
      .build();

  private final Limits limits;

  public FrameParser(Limits limits) {
    this.limits = limits;
  }

  public Limits limits() {
    return limits;
  }

  public ClientFrame parse(String text) {
    // A char is at most 3 UTF-8 bytes, so only frames near the limit need counting.
    if (text.length() > limits.maxFrameBytes()
        || (text.length() * 3L > limits.maxFrameBytes() && Utf8.length(text) > limits.maxFrameBytes())) {
      throw new ProtocolException(ErrorCode.TOO_LARGE, "frame exceeds " + limits.maxFrameBytes() + " bytes");
    }
    Map<String, Object> fields = readObject(text);
    Object id = readId(fields.get("id"));
    try {
      return toFrame(fields, id);
    } catch (ProtocolException e) {
      throw e.withRef(id);
    }
  }

  private ClientFrame toFrame(Map<String, Object> f, Object id) {
    Object t = f.get("t");
    if (t == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "missing field t");
    }
    if (!(t instanceof String type)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field t must be a string");
    }
    return switch (type) {
      case "hello" -> new ClientFrame.Hello(id, optionalString(f, "token", Limits.MAX_TOKEN_LENGTH),
          resume(f.get("resume")), displayName(f));
      case "join" -> new ClientFrame.Join(id, room(f), mode(f, false), rev(f.get("rev"), "field rev"));
      case "leave" -> new ClientFrame.Leave(id, room(f));
      case "mode" -> new ClientFrame.SetMode(id, room(f), mode(f, true));
      case "send" -> new ClientFrame.Send(id, room(f), cid(f), body(f), bool(f, "resend"), ts(f));
      case "batch" -> batch(f, id);
      case "history" -> new ClientFrame.History(id, room(f), before(f), limit(f));
      case "ping" -> new ClientFrame.Ping(id);
      case "auth" -> new ClientFrame.Auth(id, requiredToken(f));
      case "profile" -> profile(f, id);
      case "signal" -> new ClientFrame.Signal(id, room(f), peer(f, "to"), signalData(f));
      case "p2p-result" -> new ClientFrame.P2pResult(id, room(f), peer(f, "peer"), path(f), setupMs(f), rttMs(f));
      case "grant" -> new ClientFrame.Grant(id, room(f), user(f), role(f));
      case "revoke" -> new ClientFrame.Revoke(id, room(f), user(f));
      case "members" -> new ClientFrame.Members(id, room(f));
      case "encrypt" -> new ClientFrame.Encrypt(id, room(f));
      case "read" -> new ClientFrame.Read(id, room(f), seq(f));
      case "typing" -> new ClientFrame.Typing(id, room(f), requiredBool(f, "on"));
      case "edit" -> new ClientFrame.Edit(id, room(f), seq(f), body(f));
      case "delete" -> new ClientFrame.Delete(id, room(f), seq(f));
      case "react" -> new ClientFrame.React(id, room(f), seq(f), emoji(f), requiredBool(f, "on"));
      default -> throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown frame type '" + clip(type) + "'");
    };
  }

  private static Map<String, Object> readObject(String text) {
    return readJson(text, "frame", p -> {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "frame must be a JSON object");
      }
      return readTopFields(p, text);
    });
  }

  private interface JsonReader<T> {
    T read(JsonParser p) throws IOException;
  }

  /** Reads one JSON value with {@code reader}; anything after it, or invalid JSON, is a bad request. */
  private static <T> T readJson(String text, String what, JsonReader<T> reader) {
    try (JsonParser p = JSON.createParser(text)) {
      T value = reader.read(p);
      if (p.nextToken() != null) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "trailing data after the " + what);
      }
      return value;
    } catch (JsonProcessingException e) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "invalid JSON: " + clip(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "unreadable " + what);
    }
  }

  /** Like {@link #readFields} but keeps the exact text of an object-valued {@code data} (signal payloads). */
  private static Map<String, Object> readTopFields(JsonParser p, String text) throws IOException {
    Map<String, Object> fields = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (name.equals("data") && value == JsonToken.START_OBJECT) {
        int start = (int) p.currentTokenLocation().getCharOffset();
        readFields(p);
        int end = (int) p.currentLocation().getCharOffset();
        fields.put(name, new RawObject(text.substring(start, end)));
      } else {
        fields.put(name, readValue(p, value));
      }
    }
    return fields;
  }

  /** A JSON object passed through untouched; already checked to be well-formed. */
  private record RawObject(String json) {}

  private static Map<String, Object> readFields(JsonParser p) throws IOException {
    Map<String, Object> fields = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      fields.put(name, readValue(p, p.nextToken()));
    }
    return fields;
  }

  private static Object readValue(JsonParser p, JsonToken token) throws IOException {
    return switch (token) {
      case VALUE_STRING -> p.getText();
      case VALUE_NUMBER_INT -> {
        // Out-of-range integers become a Double so every integer field rejects them as "not an integer".
        Object n = p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
            ? (Object) p.getDoubleValue() : (Object) p.getLongValue();
        yield n;
      }
      case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NULL -> JsonNull.INSTANCE;
      case START_OBJECT -> readFields(p);
      case START_ARRAY -> {
        List<Object> items = new ArrayList<>();
        JsonToken next;
        while ((next = p.nextToken()) != JsonToken.END_ARRAY) {
          items.add(readValue(p, next));
        }
        yield items;
      }
      default -> throw new ProtocolException(ErrorCode.BAD_REQUEST, "unexpected JSON token " + token);
    };
  }

  /** Marks an explicit JSON null, which no field of protocol v1 accepts. */
  private enum JsonNull { INSTANCE }

  private static Object readId(Object raw) {
    if (raw == null) {
      return null;
    }
    if (raw instanceof String s && !s.isEmpty() && s.length() <= Limits.MAX_ID_LENGTH) {
      return s;
    }
    if (raw instanceof Long n && n >= 0) {
      return n;
    }
    throw new ProtocolException(ErrorCode.BAD_REQUEST,
        "field id must be a non-negative integer or a string of 1-" + Limits.MAX_ID_LENGTH + " characters");
  }

  private static String requiredString(Map<String, Object> f, String name) {
    Object v = f.get(name);
    if (v == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "missing field " + name);
    }
    if (!(v instanceof String s)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field " + name + " must be a string");
    }
    return s;
  }

  private static String optionalString(Map<String, Object> f, String name, int maxLength) {
    if (f.get(name) == null) {
      return null;
    }
    String s = requiredString(f, name);
    if (s.length() > maxLength) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field " + name + " is longer than " + maxLength);
    }
    return s;
  }

  private static String requiredToken(Map<String, Object> f) {
    String token = optionalString(f, "token", Limits.MAX_TOKEN_LENGTH);
    if (token == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "missing field token");
    }
    return token;
  }

  private static String room(Map<String, Object> f) {
    return roomName(requiredString(f, "room"));
  }

  private static String roomName(String room) {
    if (!Limits.ROOM.matcher(room).matches()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST,
          "invalid room name '" + clip(room) + "': 1-64 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit");
    }
    return room;
  }

  private static String user(Map<String, Object> f) {
    String user = requiredString(f, "user");
    if (!Limits.USER.matcher(user).matches()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "invalid user id: 1-128 of A-Z a-z 0-9 . _ : @ | + = -");
    }
    return user;
  }

  /**
   * {@code hello.name}: trimmed, then 1-{@value Limits#MAX_NAME_CODE_POINTS} code points with no
   * control character (no line breaks, tabs, NUL) and no lone surrogate; null when absent.
   */
  private static String displayName(Map<String, Object> f) {
    String raw = optionalString(f, "name", Limits.MAX_NAME_CODE_POINTS * 2 + 256);
    if (raw == null) {
      return null;
    }
    String name = raw.strip();
    int points = name.codePointCount(0, name.length());
    if (points < 1 || points > Limits.MAX_NAME_CODE_POINTS) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST,
          "field name must be 1-" + Limits.MAX_NAME_CODE_POINTS + " characters after trimming");
    }
    for (int i = 0; i < name.length(); ) {
      int cp = name.codePointAt(i);
      if (Character.getType(cp) == Character.CONTROL || Character.getType(cp) == Character.SURROGATE) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST,
            "field name must not hold control characters (line breaks, tabs, NUL) or lone surrogates");
      }
      i += Character.charCount(cp);
    }
    return name;
  }

  private static final List<String> ROLES = List.of("owner", "member", "reader");

  private static String role(Map<String, Object> f) {
    String role = requiredString(f, "role");
    if (!ROLES.contains(role)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field role must be 'owner', 'member' or 'reader'");
    }
    return role;
  }

  private static String cid(Map<String, Object> f) {
    String cid = requiredString(f, "cid");
    if (!Limits.CID.matcher(cid).matches()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "invalid cid: 1-64 of A-Z a-z 0-9 . _ : -");
    }
    return cid;
  }

  private String body(Map<String, Object> f) {
    String body = requiredString(f, "body");
    if (body.isEmpty()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "body must not be empty");
    }
    int bytes = Utf8.length(body);
    if (bytes < 0) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "body must be valid Unicode text without NUL or lone surrogates");
    }
    if (bytes > limits.maxBodyBytes()) {
      throw new ProtocolException(ErrorCode.TOO_LARGE, "body exceeds " + limits.maxBodyBytes() + " bytes");
    }
    return body;
  }

  /**
   * Decodes and validates every item before the relay sees the batch, so a bad item refuses the
   * whole batch and nothing of it is sequenced.
   */
  private ClientFrame.Batch batch(Map<String, Object> f, Object id) {
    String room = room(f);
    if (!Limits.BATCH_ENCODING.equals(requiredString(f, "enc"))) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field enc must be '" + Limits.BATCH_ENCODING + "'");
    }
    String json = LzString.decompressFromBase64(requiredString(f, "data"), limits.maxBatchChars());
    List<?> raw = readJson(json, "batch items", p -> {
      JsonToken first = p.nextToken();
      if (first != JsonToken.START_ARRAY) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "batch data must be a JSON array of {cid, body}");
      }
      return (List<?>) readValue(p, first);
    });
    if (raw.isEmpty()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "a batch needs at least one item");
    }
    if (raw.size() > Limits.MAX_BATCH_ITEMS) {
      throw new ProtocolException(ErrorCode.TOO_LARGE, "a batch holds at most " + Limits.MAX_BATCH_ITEMS + " items");
    }
    List<ClientFrame.BatchItem> items = new ArrayList<>(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      try {
        if (!(raw.get(i) instanceof Map<?, ?> item)) {
          throw new ProtocolException(ErrorCode.BAD_REQUEST, "must be an object {cid, body}");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) item;
        items.add(new ClientFrame.BatchItem(cid(fields), body(fields), ts(fields)));
      } catch (ProtocolException e) {
        throw new ProtocolException(e.code(), "items[" + i + "]: " + e.getMessage());
      }
    }
    return new ClientFrame.Batch(id, room, items, batchTo(f.get("to")), f.get("resend") == null || bool(f, "resend"));
  }

  /** {@code batch.to}: the peers that already hold every item (absent: none). */
  private static List<String> batchTo(Object v) {
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field to must be an array of peer ids");
    }
    if (list.size() > Limits.MAX_BATCH_TO) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field to lists at most " + Limits.MAX_BATCH_TO + " peers");
    }
    List<String> to = new ArrayList<>(list.size());
    for (Object peer : list) {
      if (!(peer instanceof String s) || s.isEmpty() || s.length() > Limits.MAX_PEER_LENGTH) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "field to must be an array of peer ids from presence");
      }
      to.add(s);
    }
    return to;
  }

  private static RoomMode mode(Map<String, Object> f, boolean required) {
    if (!required && f.get("mode") == null) {
      return RoomMode.ACTIVE;
    }
    RoomMode mode = RoomMode.fromWire(requiredString(f, "mode"));
    if (mode == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field mode must be 'active' or 'background'");
    }
    return mode;
  }

  private static boolean bool(Map<String, Object> f, String name) {
    Object v = f.get(name);
    if (v == null) {
      return false;
    }
    if (!(v instanceof Boolean b)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field " + name + " must be a boolean");
    }
    return b;
  }

  /** A send time in epoch ms; the relay clamps it to its own recent past, so any integer >= 0 parses. */
  private static Long ts(Map<String, Object> f) {
    Object v = f.get("ts");
    if (v == null) {
      return null;
    }
    if (!(v instanceof Long n) || n < 0) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field ts must be an integer >= 0 (epoch ms)");
    }
    return n;
  }

  private static Long before(Map<String, Object> f) {
    Object v = f.get("before");
    if (v == null) {
      return null;
    }
    if (!(v instanceof Long n) || n < 1) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field before must be an integer >= 1");
    }
    return n;
  }

  private int limit(Map<String, Object> f) {
    Object v = f.get("limit");
    if (v == null) {
      return Math.min(Limits.DEFAULT_HISTORY_LIMIT, limits.maxHistoryLimit());
    }
    if (!(v instanceof Long n) || n < 1 || n > limits.maxHistoryLimit()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST,
          "field limit must be an integer from 1 to " + limits.maxHistoryLimit());
    }
    return n.intValue();
  }

  private Map<String, ClientFrame.ResumePoint> resume(Object raw) {
    if (raw == null) {
      return Map.of();
    }
    if (!(raw instanceof Map<?, ?> map)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field resume must be an object of room: lastSeq");
    }
    if (map.size() > limits.maxResumeRooms()) {
      throw new ProtocolException(ErrorCode.TOO_MANY_ROOMS, "resume names more than " + limits.maxResumeRooms() + " rooms");
    }
    Map<String, ClientFrame.ResumePoint> resume = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String room = roomName((String) e.getKey());
      resume.put(room, resumePoint(room, e.getValue()));
    }
    return resume;
  }

  /**
   * A bare number (legacy: epoch unknown) or exactly {@code {"seq": n, "epoch": "..."}}, optionally
   * with {@code "rev": n} (the changes the client's copy reflects).
   */
  private static ClientFrame.ResumePoint resumePoint(String room, Object value) {
    if (value instanceof Long seq && seq >= 0) {
      return new ClientFrame.ResumePoint(seq, null);
    }
    if (value instanceof Map<?, ?> point && point.size() == (point.containsKey("rev") ? 3 : 2)
        && point.get("seq") instanceof Long seq && seq >= 0
        && point.get("epoch") instanceof String epoch && Limits.EPOCH.matcher(epoch).matches()
        && (point.get("rev") == null || point.get("rev") instanceof Long r && r >= 0)) {
      return new ClientFrame.ResumePoint(seq, epoch, (Long) point.get("rev"));
    }
    throw new ProtocolException(ErrorCode.BAD_REQUEST, "resume." + room
        + " must be an integer >= 0 or {\"seq\": integer >= 0, \"epoch\": 1-16 of A-Z a-z 0-9, \"rev\"?: integer >= 0}");
  }

  /** A change rev the client holds: absent, or an integer >= 0. */
  private static Long rev(Object v, String what) {
    if (v == null) {
      return null;
    }
    if (!(v instanceof Long n) || n < 0) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, what + " must be an integer >= 0");
    }
    return n;
  }

  /** The seq of the message a change (or a read cursor) is about. */
  private static long seq(Map<String, Object> f) {
    Object v = f.get("seq");
    if (!(v instanceof Long n) || n < 1) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field seq must be an integer >= 1");
    }
    return n;
  }

  private static boolean requiredBool(Map<String, Object> f, String name) {
    if (f.get(name) == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "missing field " + name);
    }
    return bool(f, name);
  }

  /** 1-32 UTF-8 bytes of text with no whitespace or control characters (which emoji it is is not checked). */
  private static String emoji(Map<String, Object> f) {
    String emoji = requiredString(f, "emoji");
    int bytes = Utf8.length(emoji);
    boolean ok = bytes >= 1 && bytes <= Limits.MAX_EMOJI_BYTES
        && emoji.codePoints().noneMatch(cp -> Character.isWhitespace(cp) || Character.isSpaceChar(cp)
            || Character.getType(cp) == Character.CONTROL);
    if (!ok) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST,
          "field emoji must be 1-" + Limits.MAX_EMOJI_BYTES + " UTF-8 bytes without whitespace or control characters");
    }
    return emoji;
  }

  private static String peer(Map<String, Object> f, String name) {
    String peer = requiredString(f, name);
    if (peer.isEmpty() || peer.length() > Limits.MAX_PEER_LENGTH) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field " + name + " must be a peer id from presence");
    }
    return peer;
  }

  private String signalData(Map<String, Object> f) {
    Object v = f.get("data");
    if (v == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "missing field data");
    }
    if (!(v instanceof RawObject raw)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field data must be a JSON object");
    }
    // Counted as chars first: a char is at least one UTF-8 byte and at most three.
    String json = raw.json();
    if (json.length() > limits.maxSignalBytes()
        || (json.length() * 3L > limits.maxSignalBytes() && Utf8.length(json) > limits.maxSignalBytes())) {
      throw new ProtocolException(ErrorCode.TOO_LARGE, "signal data exceeds " + limits.maxSignalBytes() + " bytes");
    }
    return json;
  }

  private static PeerPath path(Map<String, Object> f) {
    PeerPath path = PeerPath.fromWire(requiredString(f, "path"));
    if (path == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field path must be 'p2p', 'turn' or 'relay'");
    }
    return path;
  }

  private static long setupMs(Map<String, Object> f) {
    Object v = f.get("setupMs");
    if (!(v instanceof Long n) || n < 0 || n > Limits.MAX_SETUP_MS) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field setupMs must be an integer from 0 to " + Limits.MAX_SETUP_MS);
    }
    return n;
  }

  private static Double rttMs(Map<String, Object> f) {
    Object v = f.get("rttMs");
    if (v == null) {
      return null;
    }
    double rtt = v instanceof Long n ? n : v instanceof Double d ? d : -1;
    if (!(rtt >= 0 && rtt <= Limits.MAX_SETUP_MS)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field rttMs must be a number from 0 to " + Limits.MAX_SETUP_MS);
    }
    return rtt;
  }

  private static ClientFrame.Profile profile(Map<String, Object> f, Object id) {
    Object udp = f.get("udp");
    if (!(udp instanceof Boolean reachable)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field udp must be a boolean");
    }
    Object turn = f.get("turn");
    if (turn != null && !(turn instanceof Boolean)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field turn must be a boolean");
    }
    List<String> mapped = strings(f, "mapped", 2);
    for (String address : mapped) {
      if (!SocketAddresses.isIpAndPort(address)) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "field mapped must hold ip:port addresses");
      }
    }
    List<String> host = strings(f, "host", Limits.MAX_PROFILE_ITEMS);
    for (String ip : host) {
      if (!SocketAddresses.isIp(ip)) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "field host must hold IP addresses");
      }
    }
    List<String> candidates = strings(f, "candidates", Limits.MAX_PROFILE_ITEMS);
    for (String type : candidates) {
      if (!CANDIDATE_TYPES.contains(type)) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "field candidates must hold host, srflx, prflx or relay");
      }
    }
    return new ClientFrame.Profile(id, reachable, mapped, host, behaviour(f, "mapping"), behaviour(f, "filtering"),
        (Boolean) turn, candidates);
  }

  private static final List<String> CANDIDATE_TYPES = List.of("host", "srflx", "prflx", "relay");

  private static NatBehaviour behaviour(Map<String, Object> f, String name) {
    if (f.get(name) == null) {
      return NatBehaviour.UNKNOWN;
    }
    NatBehaviour b = NatBehaviour.fromWire(requiredString(f, name));
    if (b == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field " + name
          + " must be endpoint-independent, address-dependent, address-and-port-dependent or unknown");
    }
    return b;
  }

  private static List<String> strings(Map<String, Object> f, String name, int max) {
    Object v = f.get(name);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> items) || items.size() > max) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "field " + name + " must be an array of at most " + max + " strings");
    }
    List<String> out = new ArrayList<>(items.size());
    for (Object item : items) {
      if (!(item instanceof String s) || s.length() > 64) {
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "field " + name + " must hold strings of at most 64 characters");
      }
      out.add(s);
    }
    return out;
  }

  private static String clip(String s) {
    if (s == null) {
      return "";
    }
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }
}
