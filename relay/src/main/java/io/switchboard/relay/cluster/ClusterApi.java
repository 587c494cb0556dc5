package io.switchboard.relay.cluster;

import io.switchboard.protocol.ErrorCode;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The admin port's view of the cluster. {@code GET /cluster}: this node, the members with what each
 * published (event-bus address, the relay's ports and incarnation, which is the owner its room
 * leases carry), and with {@code ?room=NAME} that room's placement. {@code POST /cluster/owners}
 * with a JSON array of room names: the owner of each by this node's view.
 */
public final class ClusterApi {
  /** Bounds the work one request can ask for. */
  static final int MAX_ROOMS = 10_000;
  private static final int MAX_BODY_BYTES = 1 << 20;

  private final ClusterView view;

  private ClusterApi(ClusterView view) {
    this.view = view;
  }

  /** Mounts the routes; mount after the admin guard, which then covers them. */
  public static void mount(Router router, ClusterView view) {
    ClusterApi api = new ClusterApi(view);
    router.get("/cluster").handler(api::cluster);
    router.post("/cluster/owners").handler(api::owners);
  }

  private void cluster(RoutingContext ctx) {
    RoomPlacement placement = view.placement();
    view.members().onSuccess(members -> {
      JsonArray list = new JsonArray();
      for (ClusterView.Member m : members) {
        JsonObject member = new JsonObject().put("node", m.node()).put("self", m.node().equals(view.self()));
        NodeInfo info = m.info();
        if (info != null) {
          member.put("busHost", info.host()).put("busPort", info.port());
          if (info.metadata() != null) {
            member.mergeIn(info.metadata());
          }
        }
        list.add(member);
      }
      JsonObject body = new JsonObject().put("clustered", view.clustered()).put("node", view.self())
          .put("size", placement.size()).put("members", list);
      String room = ctx.request().getParam("room");
      if (room != null) {
        body.put("room", room).put("owner", placement.owner(room));
      }
      json(ctx, 200, body);
    }).onFailure(ctx::fail);
  }

  private void owners(RoutingContext ctx) {
    ctx.request().body().onSuccess(buffer -> {
      JsonArray rooms;
      try {
        rooms = buffer.length() > MAX_BODY_BYTES ? null : new JsonArray(buffer);
      } catch (DecodeException e) {
        rooms = null;
      }
      if (rooms == null || rooms.size() > MAX_ROOMS || !rooms.stream().allMatch(String.class::isInstance)) {
        json(ctx, 400, new JsonObject().put("code", ErrorCode.BAD_REQUEST.wire())
            .put("message", "send a JSON array of at most " + MAX_ROOMS + " room names"));
        return;
      }
      RoomPlacement placement = view.placement();
      JsonObject owners = new JsonObject();
      for (Object room : rooms) {
        owners.put((String) room, placement.owner((String) room));
      }
      json(ctx, 200, new JsonObject().put("node", view.self()).put("size", placement.size())
          .put("members", new JsonArray(placement.nodes())).put("owners", owners));
    }).onFailure(ctx::fail);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store").end(body.encode());
  }
}
