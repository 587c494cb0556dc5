package io.switchboard.relay.cluster.forward;

import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame.Priority;
import io.switchboard.relay.room.Loop;
import io.switchboard.relay.room.Member;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * On a room's owner, the way back to one other node's connections: the {@link Loop} of all its
 * {@link RemoteMember}s. A room fanning a message out hands this loop ONE group delivery (the
 * encoded frame and the receiving connections' ids), so a message crosses to each node once
 * whatever the number of its members there. Every message leaves through the node's one sending
 * context, in call order.
 */
final class OriginLink implements Loop {
  private final Bus bus;
  private final String node;
  private final String address;

  OriginLink(Bus bus, String node) {
    this.bus = bus;
    this.node = node;
    this.address = Bus.connAddress(node);
  }

  String node() {
    return node;
  }

  @Override
  public boolean inLoop() {
    return bus.inLoop();
  }

  @Override
  public void execute(Runnable task) {
    bus.execute(task);
  }

  @Override
  public void deliver(List<? extends Member> to, String encoded) {
    JsonArray ids = new JsonArray();
    for (int i = 0, n = to.size(); i < n; i++) {
      ids.add(to.get(i).id());
    }
    bus.send(address, "group", new JsonObject().put("k", "g").put("ss", ids).put("x", encoded));
  }

  void frame(String session, String encoded, Priority priority) {
    bus.send(address, "frame", new JsonObject().put("k", "f").put("s", session).put("x", encoded)
        .put("p", priority.name()));
  }

  void refused(String session, ProtocolException e) {
    bus.send(address, "refused", new JsonObject().put("k", "e").put("s", session).put("c", e.code().name())
        .put("m", e.getMessage()).put("i", e.ref()));
  }

  void slowConsumer(String session) {
    bus.send(address, "slow", new JsonObject().put("k", "slow").put("s", session));
  }

  void removedFrom(String session, String room) {
    bus.send(address, "removed", new JsonObject().put("k", "rm").put("s", session).put("r", room));
  }

  void outcome(String session, long token, String outcome) {
    bus.send(address, "outcome", new JsonObject().put("k", "o").put("s", session).put("t", token).put("o", outcome));
  }
}
