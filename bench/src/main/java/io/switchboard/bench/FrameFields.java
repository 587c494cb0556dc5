package io.switchboard.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * The few top-level fields the driver reads from a server frame, pulled with Jackson's streaming
 * parser. Bodies and nested values are skipped, never turned into Strings or maps: at 100,000
 * deliveries a second the driver shares the machine with the server it measures, and building a
 * JsonObject per frame was the largest part of its own CPU (JFR, 2026-11-30). Both dialects go
 * through here, so the driver's cost per frame stays alike for the relay and for Socket.IO.
 */
final class FrameFields {
  private static final JsonFactory JSON = new JsonFactory();

  String t;
  String room;
  long seq = -1;
  String cid;
  Long ts;
  Boolean stored;
  /** {@code id} and {@code ref}: a String or a Long, as the frame has them. */
  Object id;
  Object ref;
  String code;
  Long heartbeatMs;

  /** A relay frame: one JSON object. */
  static FrameFields ofObject(String json) {
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("not a JSON object");
      }
      FrameFields f = readObject(p);
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("trailing data after the object");
      }
      return f;
    } catch (IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** A Socket.IO event {@code ["name", arg]}: the event name and, for an object arg, its fields. */
  record Event(String name, FrameFields fields, String text) {}

  static Event ofSocketIoEvent(String jsonArray) {
    try (JsonParser p = JSON.createParser(jsonArray)) {
      if (p.nextToken() != JsonToken.START_ARRAY || p.nextToken() != JsonToken.VALUE_STRING) {
        throw new IllegalArgumentException("not a Socket.IO event");
      }
      String name = p.getText();
      FrameFields fields = null;
      String text = null;
      JsonToken arg = p.nextToken();
      if (arg == JsonToken.START_OBJECT) {
        fields = readObject(p);
      } else if (arg == JsonToken.VALUE_STRING) {
        text = p.getText();
      } else if (arg != null && arg.isStructStart()) {
        p.skipChildren();
      }
      while (arg != null && arg != JsonToken.END_ARRAY) {
        arg = p.nextToken();
        if (arg != null && arg.isStructStart()) {
          p.skipChildren();
        }
      }
      if (arg == null) {
        throw new IllegalArgumentException("unterminated Socket.IO event");
      }
      return new Event(name, fields, text);
    } catch (IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Reads from just after START_OBJECT to its END_OBJECT. */
  private static FrameFields readObject(JsonParser p) throws IOException {
    FrameFields f = new FrameFields();
    JsonToken token;
    while ((token = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      switch (name) {
        case "t" -> f.t = text(p, value);
        case "room" -> f.room = text(p, value);
        case "cid" -> f.cid = text(p, value);
        case "code" -> f.code = text(p, value);
        case "seq" -> f.seq = value == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : -1;
        case "ts" -> f.ts = value == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : null;
        case "heartbeatMs" -> f.heartbeatMs = value == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : null;
        case "stored" -> f.stored = value == JsonToken.VALUE_TRUE ? Boolean.TRUE
            : value == JsonToken.VALUE_FALSE ? Boolean.FALSE : null;
        case "id" -> f.id = scalar(p, value);
        case "ref" -> f.ref = scalar(p, value);
        default -> {
          if (value.isStructStart()) {
            p.skipChildren(); // the body of a frame, a nested object: never materialised
          }
        }
      }
    }
    if (token != JsonToken.END_OBJECT) {
      throw new IllegalArgumentException("unterminated object");
    }
    return f;
  }

  private static String text(JsonParser p, JsonToken value) throws IOException {
    if (value.isStructStart()) {
      p.skipChildren();
      return null;
    }
    return value == JsonToken.VALUE_STRING ? p.getText() : null;
  }

  private static Object scalar(JsonParser p, JsonToken value) throws IOException {
    if (value == JsonToken.VALUE_STRING) {
      return p.getText();
    }
    if (value == JsonToken.VALUE_NUMBER_INT) {
      return p.getLongValue();
    }
    if (value.isStructStart()) {
      p.skipChildren();
    }
    return null;
  }
}
