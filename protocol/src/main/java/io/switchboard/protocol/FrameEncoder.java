package io.switchboard.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;

/** Encodes server frames to their JSON text. Field order is fixed so encodings can be golden-tested. */
public final class FrameEncoder {
  private static final JsonFactory JSON = new JsonFactory();

  private FrameEncoder() {
  }

  public static String encode(ServerFrame frame) {
    StringWriter out = new StringWriter(128);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      if (frame instanceof ServerFrame.Welcome w) {
        type(g, "welcome", w.id());
        g.writeStringField("session", w.session());
        g.writeStringField("user", w.user());
        g.writeStringField("token", w.token());
        if (w.name() != null) {
          g.writeStringField("name", w.name());
        }
        if (w.expiresAt() != null) {
          g.writeNumberField("expiresAt", w.expiresAt());
        }
        g.writeNumberField("heartbeatMs", w.heartbeatMs());
        g.writeObjectFieldStart("limits");
        g.writeNumberField("maxFrameBytes", w.limits().maxFrameBytes());
        g.writeNumberField("maxBodyBytes", w.limits().maxBodyBytes());
        g.writeNumberField("maxRooms", w.limits().maxRooms());
        g.writeNumberField("maxHistoryLimit", w.limits().maxHistoryLimit());
        g.writeEndObject();
        if (w.p2p() != null) {
          g.writeObjectFieldStart("p2p");
          g.writeArrayFieldStart("probe");
          for (String url : w.p2p().probe()) {
            g.writeString(url);
          }
          g.writeEndArray();
          iceServers(g, w.p2p().iceServers());
          if (w.p2p().turnWithheld() != null) {
            g.writeStringField("turnWithheld", w.p2p().turnWithheld());
          }
          g.writeEndObject();
        }
      } else if (frame instanceof ServerFrame.Joined j) {
        type(g, "joined", j.id());
        g.writeStringField("room", j.room());
        g.writeNumberField("head", j.head());
        g.writeStringField("mode", j.mode().wire());
        g.writeArrayFieldStart("members");
        for (String member : j.members()) {
          g.writeString(member);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("peers");
        for (ServerFrame.PeerInfo peer : j.peers()) {
          g.writeStartObject();
          peerFields(g, peer);
          g.writeEndObject();
        }
        g.writeEndArray();
        if (j.epoch() != null) {
          g.writeStringField("epoch", j.epoch());
        }
        if (j.recovered() != null) {
          g.writeBooleanField("recovered", j.recovered());
        }
        if (j.divergedAfter() != null) {
          g.writeNumberField("divergedAfter", j.divergedAfter());
        }
        if (j.replayFrom() != null) {
          g.writeNumberField("replayFrom", j.replayFrom());
        }
        if (j.visibility() != null) {
          g.writeStringField("visibility", j.visibility());
        }
        if (j.role() != null) {
          g.writeStringField("role", j.role());
        }
        if (!j.names().isEmpty()) {
          g.writeObjectFieldStart("names");
          for (java.util.Map.Entry<String, String> e : j.names().entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
          }
          g.writeEndObject();
        }
        if (!j.reads().isEmpty()) {
          reads(g, j.reads());
        }
        if (j.rev() != null) {
          g.writeNumberField("rev", j.rev());
        }
        if (j.changesRecovered() != null) {
          g.writeBooleanField("changesRecovered", j.changesRecovered());
        }
        if (j.encrypted() != null) {
          g.writeBooleanField("encrypted", j.encrypted());
        }
      } else if (frame instanceof ServerFrame.Left l) {
        type(g, "left", l.id());
        g.writeStringField("room", l.room());
        if (l.reason() != null) {
          g.writeStringField("reason", l.reason());
        }
      } else if (frame instanceof ServerFrame.ModeSet m) {
        type(g, "mode", m.id());
        g.writeStringField("room", m.room());
        g.writeStringField("mode", m.mode().wire());
        g.writeNumberField("head", m.head());
      } else if (frame instanceof ServerFrame.RoleChanged r) {
        type(g, "role", null);
        g.writeStringField("room", r.room());
        if (r.role() != null) {
          g.writeStringField("role", r.role());
        }
      } else if (frame instanceof ServerFrame.Granted gr) {
        type(g, "granted", gr.id());
        g.writeStringField("room", gr.room());
        g.writeStringField("user", gr.user());
        g.writeStringField("role", gr.role());
      } else if (frame instanceof ServerFrame.Revoked r) {
        type(g, "revoked", r.id());
        g.writeStringField("room", r.room());
        g.writeStringField("user", r.user());
      } else if (frame instanceof ServerFrame.Encrypted e) {
        type(g, "encrypted", e.id());
        g.writeStringField("room", e.room());
      } else if (frame instanceof ServerFrame.MemberList ml) {
        type(g, "members", ml.id());
        g.writeStringField("room", ml.room());
        g.writeStringField("visibility", ml.visibility());
        g.writeArrayFieldStart("members");
        for (ServerFrame.RoomMember member : ml.members()) {
          g.writeStartObject();
          g.writeStringField("user", member.user());
          g.writeStringField("role", member.role());
          g.writeEndObject();
        }
        g.writeEndArray();
      } else if (frame instanceof ServerFrame.Msg m) {
        type(g, "msg", null);
        g.writeStringField("room", m.message().room());
        messageFields(g, m.message());
      } else if (frame instanceof ServerFrame.Changed c) {
        type(g, "changed", c.id());
        g.writeStringField("room", c.message().room());
        g.writeNumberField("seq", c.message().seq());
        g.writeNumberField("rev", c.message().rev());
        stateFields(g, c.message());
      } else if (frame instanceof ServerFrame.Ack a) {
        type(g, "ack", a.id());
        g.writeStringField("room", a.room());
        g.writeStringField("cid", a.cid());
        g.writeNumberField("seq", a.seq());
        g.writeBooleanField("stored", a.stored());
      } else if (frame instanceof ServerFrame.Seqs q) {
        type(g, "seqs", null);
        g.writeStringField("room", q.room());
        g.writeStringField("from", q.from());
        g.writeArrayFieldStart("items");
        for (ServerFrame.SeqItem item : q.items()) {
          g.writeStartObject();
          g.writeStringField("cid", item.cid());
          g.writeNumberField("seq", item.seq());
          g.writeNumberField("ts", item.ts());
          g.writeEndObject();
        }
        g.writeEndArray();
      } else if (frame instanceof ServerFrame.Unread u) {
        type(g, "unread", null);
        g.writeStringField("room", u.room());
        g.writeNumberField("count", u.count());
        g.writeNumberField("lastSeq", u.lastSeq());
        if (u.preview() != null) { // none for an encrypted room
          g.writeStringField("preview", u.preview());
        }
      } else if (frame instanceof ServerFrame.Page p) {
        type(g, "page", p.id());
        g.writeStringField("room", p.room());
        messages(g, p.messages());
        g.writeBooleanField("hasMore", p.hasMore());
      } else if (frame instanceof ServerFrame.Error e) {
        type(g, "error", null);
        g.writeStringField("code", e.code().wire());
        g.writeStringField("message", e.message());
        if (e.room() != null) {
          g.writeStringField("room", e.room());
        }
        if (e.ref() != null) {
          g.writeFieldName("ref");
          id(g, e.ref());
        }
      } else if (frame instanceof ServerFrame.Pong p) {
        type(g, "pong", p.id());
        g.writeNumberField("ts", p.ts());
      } else if (frame instanceof ServerFrame.Authed a) {
        type(g, "authed", a.id());
        g.writeStringField("user", a.user());
        if (a.name() != null) {
          g.writeStringField("name", a.name());
        }
        if (a.expiresAt() != null) {
          g.writeNumberField("expiresAt", a.expiresAt());
        }
        if (a.token() != null) {
          g.writeStringField("token", a.token());
        }
      } else if (frame instanceof ServerFrame.Presence p) {
        type(g, "presence", null);
        g.writeStringField("room", p.room());
        g.writeStringField("event", p.event().wire());
        peerFields(g, p.peer());
      } else if (frame instanceof ServerFrame.Reads r) {
        type(g, "reads", null);
        g.writeStringField("room", r.room());
        reads(g, r.reads());
      } else if (frame instanceof ServerFrame.Typing ty) {
        type(g, "typing", null);
        g.writeStringField("room", ty.room());
        g.writeStringField("peer", ty.peer());
        g.writeStringField("user", ty.user());
        if (ty.name() != null) {
          g.writeStringField("name", ty.name());
        }
        g.writeBooleanField("on", ty.on());
      } else if (frame instanceof ServerFrame.Signal s) {
        type(g, "signal", null);
        g.writeStringField("room", s.room());
        g.writeStringField("from", s.from());
        // The parser checked it is one well-formed JSON object; peers get it byte for byte.
        g.writeFieldName("data");
        g.writeRawValue(s.data());
      } else if (frame instanceof ServerFrame.ProfileSet p) {
        type(g, "profile", p.id());
        g.writeStringField("class", p.natClass().wire());
        g.writeStringField("mapping", p.mapping().wire());
        g.writeStringField("filtering", p.filtering().wire());
        g.writeBooleanField("udp", p.udp());
        if (p.turn() != null) {
          g.writeBooleanField("turn", p.turn());
        }
      } else if (frame instanceof ServerFrame.Steer s) {
        type(g, "steer", null);
        g.writeStringField("room", s.room());
        g.writeStringField("peer", s.peer());
        g.writeStringField("mode", s.mode().wire());
        g.writeBooleanField("polite", s.polite());
        if (s.mode() != PeerPath.RELAY) {
          iceServers(g, s.iceServers());
        }
        g.writeStringField("reason", s.reason());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** A page of messages as the HTTP history endpoint returns it: {@code {"room","messages","hasMore"}}. */
  public static String encodePage(String room, List<ServerFrame.Message> page, boolean hasMore) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("room", room);
      messages(g, page);
      g.writeBooleanField("hasMore", hasMore);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void messages(JsonGenerator g, List<ServerFrame.Message> messages) throws IOException {
    g.writeArrayFieldStart("messages");
    for (ServerFrame.Message m : messages) {
      g.writeStartObject();
      messageFields(g, m);
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  private static void messageFields(JsonGenerator g, ServerFrame.Message m) throws IOException {
    g.writeNumberField("seq", m.seq());
    g.writeStringField("cid", m.cid());
    g.writeStringField("from", m.from());
    if (m.name() != null) {
      g.writeStringField("name", m.name());
    }
    if (!m.deleted()) {
      g.writeStringField("body", m.body());
    }
    g.writeNumberField("ts", m.ts());
    if (m.rev() > 0) {
      g.writeNumberField("rev", m.rev());
    }
    changeFields(g, m);
  }

  /** A {@code changed} frame's state: the body unless deleted, then what {@link #changeFields} writes. */
  private static void stateFields(JsonGenerator g, ServerFrame.Message m) throws IOException {
    if (!m.deleted()) {
      g.writeStringField("body", m.body());
    }
    changeFields(g, m);
  }

  /** {@code edited}, {@code deleted} and {@code reactions}, each only when it has a value. */
  private static void changeFields(JsonGenerator g, ServerFrame.Message m) throws IOException {
    if (m.edited() != null) {
      g.writeNumberField("edited", m.edited());
    }
    if (m.deleted()) {
      g.writeBooleanField("deleted", true);
    }
    if (!m.reactions().isEmpty()) {
      g.writeArrayFieldStart("reactions");
      for (ServerFrame.Reaction r : m.reactions()) {
        g.writeStartObject();
        g.writeStringField("emoji", r.emoji());
        g.writeNumberField("count", r.count());
        g.writeArrayFieldStart("users");
        for (String user : r.users()) {
          g.writeString(user);
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
    }
  }

  private static void reads(JsonGenerator g, java.util.Map<String, Long> reads) throws IOException {
    g.writeObjectFieldStart("reads");
    for (java.util.Map.Entry<String, Long> e : reads.entrySet()) {
      g.writeNumberField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
  }

  private static void iceServers(JsonGenerator g, List<ServerFrame.IceServer> servers) throws IOException {
    g.writeArrayFieldStart("iceServers");
    for (ServerFrame.IceServer server : servers) {
      g.writeStartObject();
      g.writeArrayFieldStart("urls");
      for (String url : server.urls()) {
        g.writeString(url);
      }
      g.writeEndArray();
      if (server.username() != null) {
        g.writeStringField("username", server.username());
        g.writeStringField("credential", server.credential());
      }
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  private static void peerFields(JsonGenerator g, ServerFrame.PeerInfo peer) throws IOException {
    g.writeStringField("peer", peer.peer());
    g.writeStringField("user", peer.user());
    if (peer.name() != null) {
      g.writeStringField("name", peer.name());
    }
    if (peer.profile() != null) {
      g.writeObjectFieldStart("profile");
      g.writeStringField("class", peer.profile().natClass().wire());
      g.writeBooleanField("udp", peer.profile().udp());
      if (peer.profile().turn() != null) {
        g.writeBooleanField("turn", peer.profile().turn());
      }
      g.writeEndObject();
    }
  }

  private static void type(JsonGenerator g, String type, Object id) throws IOException {
    g.writeStringField("t", type);
    if (id != null) {
      g.writeFieldName("id");
      id(g, id);
    }
  }

  private static void id(JsonGenerator g, Object id) throws IOException {
    if (id instanceof Long n) {
      g.writeNumber(n);
    } else {
      g.writeString(id.toString());
    }
  }
}
