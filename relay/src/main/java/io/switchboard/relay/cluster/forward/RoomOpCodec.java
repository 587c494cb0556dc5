package io.switchboard.relay.cluster.forward;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.NatBehaviour;
import io.switchboard.protocol.NatClass;
import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.RoomMode;
import io.switchboard.relay.access.Access;
import io.switchboard.relay.access.Role;
import io.switchboard.relay.access.Visibility;
import io.switchboard.signaling.steer.NatProfile;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * A forwarded room operation on the event bus: one JSON object with the op's kind, its fields, and
 * who sent it (the connection as the owner's proxy member sees it). Enums travel by name; frame ids
 * keep their type (string or integer) so the answer quotes them as the client sent them.
 */
public final class RoomOpCodec {
  /** The connection behind an op: what the owner's {@link RemoteMember} answers with. */
  public record Sender(String session, String user, String name, String host, String address, NatProfile profile) {}

  /** An op as it arrives: from which node and connection, the join/resume token (0: none), the op. */
  public record Envelope(String origin, Sender sender, long token, RoomOp op) {}

  private RoomOpCodec() {}

  public static JsonObject encode(String origin, Sender sender, long token, RoomOp op) {
    JsonObject j = new JsonObject().put("n", origin).put("s", sender.session()).put("u", sender.user())
        .put("h", sender.host()).put("a", sender.address());
    if (sender.name() != null) {
      j.put("nm", sender.name());
    }
    if (sender.profile() != null) {
      j.put("pf", profile(sender.profile()));
    }
    if (token != 0) {
      j.put("t", token);
    }
    j.put("r", op.room());
    if (op.id() != null) {
      j.put("i", op.id());
    }
    if (op instanceof RoomOp.Join o) {
      j.put("k", "join").put("m", o.frame().mode() == null ? null : o.frame().mode().name()).put("ac", access(o.access()))
          .put("rv", o.frame().rev());
    } else if (op instanceof RoomOp.Rejoin o) {
      j.put("k", "rejoin").put("m", o.frame().mode() == null ? null : o.frame().mode().name()).put("rv", o.frame().rev());
    } else if (op instanceof RoomOp.Resume o) {
      j.put("k", "resume").put("q", o.point().seq()).put("e", o.point().epoch()).put("ac", access(o.access()))
          .put("rv", o.point().rev());
    } else if (op instanceof RoomOp.Send o) {
      j.put("k", "send").put("c", o.frame().cid()).put("b", o.frame().body()).put("rs", o.frame().resend());
      if (o.frame().ts() != null) {
        j.put("ts", o.frame().ts());
      }
    } else if (op instanceof RoomOp.Batch o) {
      JsonArray items = new JsonArray();
      // Send times travel beside the (cid, body) pairs, one per item (null: not given).
      JsonArray times = new JsonArray();
      for (ClientFrame.BatchItem item : o.frame().items()) {
        items.add(item.cid()).add(item.body());
        times.add(item.ts());
      }
      j.put("k", "batch").put("it", items).put("its", times).put("bt", new JsonArray(o.frame().to()))
          .put("rs", o.frame().resend());
    } else if (op instanceof RoomOp.Leave) {
      j.put("k", "leave");
    } else if (op instanceof RoomOp.Mode o) {
      j.put("k", "mode").put("m", o.frame().mode().name());
    } else if (op instanceof RoomOp.History o) {
      j.put("k", "history").put("bf", o.frame().before()).put("l", o.frame().limit());
    } else if (op instanceof RoomOp.Signal o) {
      j.put("k", "signal").put("to", o.frame().to()).put("d", o.frame().data());
    } else if (op instanceof RoomOp.P2pResult o) {
      j.put("k", "result").put("p", o.frame().peer()).put("pa", o.frame().path().name())
          .put("ms", o.frame().setupMs()).put("rtt", o.frame().rttMs());
    } else if (op instanceof RoomOp.Read o) {
      j.put("k", "read").put("q", o.frame().seq());
    } else if (op instanceof RoomOp.Typing o) {
      j.put("k", "typing").put("on", o.frame().on());
    } else if (op instanceof RoomOp.Edit o) {
      j.put("k", "edit").put("q", o.frame().seq()).put("b", o.frame().body());
    } else if (op instanceof RoomOp.Delete o) {
      j.put("k", "delete").put("q", o.frame().seq());
    } else if (op instanceof RoomOp.React o) {
      j.put("k", "react").put("q", o.frame().seq()).put("em", o.frame().emoji()).put("on", o.frame().on());
    } else if (op instanceof RoomOp.ProfileChanged) {
      j.put("k", "profile");
    } else if (op instanceof RoomOp.Closed) {
      j.put("k", "closed");
    } else if (op instanceof RoomOp.Recheck o) {
      j.put("k", "recheck").put("ru", o.user());
    }
    return j;
  }

  public static Envelope decode(JsonObject j) {
    NatProfile profile = j.getJsonObject("pf") == null ? null : profile(j.getJsonObject("pf"));
    Sender sender = new Sender(j.getString("s"), j.getString("u"), j.getString("nm"), j.getString("h"),
        j.getString("a"), profile);
    String room = j.getString("r");
    Object id = id(j.getValue("i"));
    String kind = j.getString("k");
    RoomOp op = switch (kind) {
      case "join" -> new RoomOp.Join(new ClientFrame.Join(id, room, mode(j.getString("m")), j.getLong("rv")),
          access(j.getJsonObject("ac")));
      case "rejoin" -> new RoomOp.Rejoin(new ClientFrame.Join(id, room, mode(j.getString("m")), j.getLong("rv")));
      case "resume" -> new RoomOp.Resume(room, new ClientFrame.ResumePoint(j.getLong("q"), j.getString("e"),
          j.getLong("rv")), access(j.getJsonObject("ac")));
      case "send" -> new RoomOp.Send(new ClientFrame.Send(id, room, j.getString("c"), j.getString("b"), j.getBoolean("rs"),
          j.getLong("ts")));
      case "batch" -> {
        JsonArray items = j.getJsonArray("it");
        JsonArray times = j.getJsonArray("its", new JsonArray());
        List<ClientFrame.BatchItem> list = new ArrayList<>(items.size() / 2);
        for (int i = 0; i + 1 < items.size(); i += 2) {
          list.add(new ClientFrame.BatchItem(items.getString(i), items.getString(i + 1),
              i / 2 < times.size() ? times.getLong(i / 2) : null));
        }
        List<String> to = new ArrayList<>();
        j.getJsonArray("bt", new JsonArray()).forEach(peer -> to.add((String) peer));
        yield new RoomOp.Batch(new ClientFrame.Batch(id, room, list, to, j.getBoolean("rs", true)));
      }
      case "leave" -> new RoomOp.Leave(new ClientFrame.Leave(id, room));
      case "mode" -> new RoomOp.Mode(new ClientFrame.SetMode(id, room, mode(j.getString("m"))));
      case "history" -> new RoomOp.History(new ClientFrame.History(id, room, j.getLong("bf"), j.getInteger("l")));
      case "signal" -> new RoomOp.Signal(new ClientFrame.Signal(id, room, j.getString("to"), j.getString("d")));
      case "result" -> new RoomOp.P2pResult(new ClientFrame.P2pResult(id, room, j.getString("p"),
          PeerPath.valueOf(j.getString("pa")), j.getLong("ms"), j.getDouble("rtt")));
      case "read" -> new RoomOp.Read(new ClientFrame.Read(id, room, j.getLong("q")));
      case "typing" -> new RoomOp.Typing(new ClientFrame.Typing(id, room, j.getBoolean("on")));
      case "edit" -> new RoomOp.Edit(new ClientFrame.Edit(id, room, j.getLong("q"), j.getString("b")));
      case "delete" -> new RoomOp.Delete(new ClientFrame.Delete(id, room, j.getLong("q")));
      case "react" -> new RoomOp.React(new ClientFrame.React(id, room, j.getLong("q"), j.getString("em"),
          j.getBoolean("on")));
      case "profile" -> new RoomOp.ProfileChanged(room, profile);
      case "closed" -> new RoomOp.Closed(room);
      case "recheck" -> new RoomOp.Recheck(room, j.getString("ru"));
      default -> throw new IllegalArgumentException("unknown room op " + kind);
    };
    return new Envelope(j.getString("n"), sender, j.getLong("t", 0L), op);
  }

  /** JSON numbers come back as the smallest type that holds them; the parser's ids are Long. */
  private static Object id(Object raw) {
    return raw instanceof Number n ? (Object) n.longValue() : raw;
  }

  private static RoomMode mode(String name) {
    return name == null ? null : RoomMode.valueOf(name);
  }

  private static JsonObject access(Access a) {
    return new JsonObject().put("v", a.visibility().name()).put("ro", a.role() == null ? null : a.role().name())
        .put("e", a.encrypted());
  }

  private static Access access(JsonObject j) {
    String role = j.getString("ro");
    return new Access(Visibility.valueOf(j.getString("v")), role == null ? null : Role.valueOf(role),
        j.getBoolean("e", false));
  }

  private static JsonObject profile(NatProfile p) {
    return new JsonObject().put("c", p.natClass() == null ? null : p.natClass().name())
        .put("m", p.mapping() == null ? null : p.mapping().name())
        .put("f", p.filtering() == null ? null : p.filtering().name()).put("udp", p.udp()).put("turn", p.turn());
  }

  private static NatProfile profile(JsonObject j) {
    return new NatProfile(j.getString("c") == null ? null : NatClass.valueOf(j.getString("c")),
        behaviour(j.getString("m")), behaviour(j.getString("f")), j.getBoolean("udp"), j.getBoolean("turn"));
  }

  private static NatBehaviour behaviour(String name) {
    return name == null ? null : NatBehaviour.valueOf(name);
  }
}
