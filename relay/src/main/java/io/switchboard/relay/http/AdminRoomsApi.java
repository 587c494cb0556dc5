package io.switchboard.relay.http;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.access.AccessControl;
import io.switchboard.relay.access.Member;
import io.switchboard.relay.access.Role;
import io.switchboard.relay.access.Visibility;
import io.switchboard.relay.auth.Authenticator;
import io.switchboard.relay.limits.AddressLimits;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.function.Function;

/**
 * The app backend's API on the public port: rooms' visibility and members, through
 * {@link AccessControl} (connected users feel a change at once).
 *
 * <pre>
 * PUT    /api/admin/rooms/{room}                {"visibility":"private","encrypted":true}  create or update
 * PUT    /api/admin/rooms/{room}/members/{user} {"role":"member"}         list or change a user
 * DELETE /api/admin/rooms/{room}/members/{user}                           take a user out
 * GET    /api/admin/rooms/{room}/members                                  visibility and members
 * </pre>
 *
 * Authorised by {@code Authorization: Bearer <adminToken>} or a JWT whose {@code role} is
 * {@code service_role}. Authenticated requests are not rate limited (a backend adds members in
 * bulk); each failed one costs a token of the address's API bucket, and an address that emptied it
 * is refused (429) before any token is verified until the bucket would have refilled.
 */
public final class AdminRoomsApi {
  public static final String PREFIX = "/api/admin/";
  /** Bodies are one small JSON object. */
  static final int MAX_BODY_BYTES = 1024;

  private final Authenticator authenticator;
  private final AccessControl access;
  private final AddressLimits limits;
  private final String adminToken;
  private final boolean jwtConfigured;

  /**
   * @param adminToken the shared bearer token, or null
   * @param jwtConfigured whether service_role JWTs can be verified at all
   */
  public AdminRoomsApi(Authenticator authenticator, AccessControl access, AddressLimits limits, String adminToken,
      boolean jwtConfigured) {
    this.authenticator = authenticator;
    this.access = access;
    this.limits = limits;
    this.adminToken = adminToken;
    this.jwtConfigured = jwtConfigured;
  }

  public void mount(Router router) {
    // First: the body (at most 1 KB) must be read before any asynchronous step, such as a JWT whose
    // key comes from the JWKS, or the request has ended by the time it is wanted.
    router.route(PREFIX + "*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
        .failureHandler(ctx -> {
          if (ctx.statusCode() == 413) {
            JsonResponses.error(ctx, 413, ErrorCode.TOO_LARGE, "body over " + MAX_BODY_BYTES + " bytes");
          } else {
            ctx.next();
          }
        });
    router.route(PREFIX + "*").handler(this::authorise);
    router.put(PREFIX + "rooms/:room").handler(this::putRoom);
    router.put(PREFIX + "rooms/:room/members/:user").handler(this::putMember);
    router.delete(PREFIX + "rooms/:room/members/:user").handler(this::deleteMember);
    router.get(PREFIX + "rooms/:room/members").handler(this::getMembers);
  }

  private void authorise(RoutingContext ctx) {
    String token = Bearer.token(ctx);
    // the shared token is a cheap constant-time compare: it passes even while the address is locked out
    if (Bearer.matches(token, adminToken)) {
      ctx.next();
      return;
    }
    String address = ApiRateLimit.clientKey(ctx, limits);
    AddressLimits.Refusal locked = limits.admitAdminAttempt(address);
    if (locked != null) {
      JsonResponses.refuse(ctx, locked);
      return;
    }
    if (adminToken == null && !jwtConfigured) {
      failed(ctx, address, 401, "the admin API is off: set SWITCHBOARD_ADMIN_TOKEN, or SWITCHBOARD_AUTH_JWKS_URL / "
          + "SWITCHBOARD_AUTH_JWT_SECRET and send a service_role JWT");
      return;
    }
    if (token == null || token.isEmpty() || !jwtConfigured) {
      failed(ctx, address, 401, token == null ? "send Authorization: Bearer <adminToken or service_role JWT>"
          : "admin credentials not recognised");
      return;
    }
    authenticator.authenticateService(token).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.next();
        return;
      }
      ErrorCode code = ar.cause() instanceof ProtocolException p ? p.code() : ErrorCode.UNAUTHORIZED;
      if (code == ErrorCode.AUTH_UNAVAILABLE) {
        // not the caller's fault: no failed attempt
        JsonResponses.authUnavailable(ctx, ar.cause().getMessage());
        return;
      }
      if (code == ErrorCode.FORBIDDEN) {
        failed(ctx, address, 403, "a service_role token is needed; this one's role is not service_role");
        return;
      }
      // A token that fails as a service key may still be a user's own: that is 403, not 401.
      authenticator.authenticate(token).onComplete(user -> failed(ctx, address, user.succeeded() ? 403 : 401,
          user.succeeded() ? "a service_role token is needed; this is a user's token"
              : "admin credentials not recognised: " + ar.cause().getMessage()));
    });
  }

  private void failed(RoutingContext ctx, String address, int status, String message) {
    AddressLimits.Refusal refusal = limits.adminAttemptFailed(address);
    if (refusal != null) {
      JsonResponses.refuse(ctx, refusal);
    } else if (status == 403) {
      JsonResponses.error(ctx, 403, ErrorCode.FORBIDDEN, message);
    } else {
      Bearer.unauthorized(ctx, message);
    }
  }

  /**
   * {@code visibility} and {@code encrypted} each optional (absent keeps the current value), one of
   * them needed. Encryption only ever switches on: {@code false} for an encrypted room is a 400.
   */
  private void putRoom(RoutingContext ctx) {
    String room = room(ctx);
    if (room == null) {
      return;
    }
    JsonObject body = jsonBody(ctx);
    Object encryptedField = body == null ? null : body.getValue("encrypted");
    if (body == null || encryptedField == null && body.getValue("visibility") == null) {
      JsonResponses.error(ctx, 400, ErrorCode.BAD_REQUEST, "body must be a JSON object with \"visibility\" and/or \"encrypted\"");
      return;
    }
    if (encryptedField != null && !(encryptedField instanceof Boolean)) {
      JsonResponses.error(ctx, 400, ErrorCode.BAD_REQUEST, "\"encrypted\" must be true or false");
      return;
    }
    Visibility visibility = body.getValue("visibility") == null ? null : field(ctx, "visibility", Visibility::parse);
    if (body.getValue("visibility") != null && visibility == null) {
      return; // field() answered the 400
    }
    Boolean encrypted = (Boolean) encryptedField;
    // false writes nothing (there is no way back); it is refused when the room is encrypted already
    Future<AccessControl.RoomMembers> before = Boolean.FALSE.equals(encrypted) ? access.members(room)
        : Future.succeededFuture();
    Future<AccessControl.RoomMembers> written = before.compose(was -> {
      if (was != null && was.encrypted()) {
        return Future.failedFuture(new ProtocolException(ErrorCode.BAD_REQUEST,
            "room '" + room + "' is encrypted; encryption cannot be switched off"));
      }
      Future<Void> done = visibility == null ? Future.succeededFuture() : access.setVisibility(room, visibility);
      return Boolean.TRUE.equals(encrypted) ? done.compose(v -> access.setEncrypted(room)) : done;
    }).compose(v -> access.members(room));
    // {"encrypted":false} alone creates nothing: a room nobody created is a 404 as elsewhere
    Future<JsonObject> result = written.map(now -> now.created() ? new JsonObject()
        .put("room", room).put("visibility", now.visibility().wire()).put("encrypted", now.encrypted()) : null);
    result.onComplete(ar -> {
      if (ar.failed() && ar.cause() instanceof ProtocolException refused) {
        JsonResponses.error(ctx, 400, refused.code(), refused.getMessage());
      } else {
        answer(ctx, result);
      }
    });
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    try {
      return ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  private void putMember(RoutingContext ctx) {
    String room = room(ctx);
    String user = room == null ? null : user(ctx);
    Role role = user == null ? null : field(ctx, "role", Role::parse);
    if (role == null) {
      return;
    }
    // No existence check: listing a room's members to find out costs a query as long as the room,
    // for every one of a bulk import's grants. A room nobody created gets the default visibility.
    answer(ctx, access.setRole(room, user, role).map(v -> new JsonObject().put("room", room).put("user", user)
        .put("role", role.wire())));
  }

  private void deleteMember(RoutingContext ctx) {
    String room = room(ctx);
    String user = room == null ? null : user(ctx);
    if (user == null) {
      return;
    }
    access.removeMember(room, user).onComplete(ar -> {
      if (ar.failed()) {
        storageFailed(ctx);
      } else if (ar.result()) {
        ctx.response().setStatusCode(204).putHeader("cache-control", "no-store").end();
      } else {
        JsonResponses.error(ctx, 404, ErrorCode.NOT_FOUND, "'" + user + "' is not a member of '" + room + "'");
      }
    });
  }

  private void getMembers(RoutingContext ctx) {
    String room = room(ctx);
    if (room == null) {
      return;
    }
    answer(ctx, existing(room).map(members -> {
      if (members == null) {
        return null;
      }
      JsonArray list = new JsonArray();
      for (Member m : members.members()) {
        list.add(new JsonObject().put("user", m.user()).put("role", m.role().wire()));
      }
      return new JsonObject().put("room", room).put("visibility", members.visibility().wire())
          .put("encrypted", members.encrypted()).put("members", list);
    }));
  }

  /** The room's members, or null when nobody created it. */
  private Future<AccessControl.RoomMembers> existing(String room) {
    return access.members(room).map(m -> m.created() ? m : null);
  }

  /** 200 with the body; null: the room was never created (404). */
  private void answer(RoutingContext ctx, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.failed()) {
        storageFailed(ctx);
      } else if (ar.result() == null) {
        JsonResponses.error(ctx, 404, ErrorCode.NOT_FOUND, "no room '" + ctx.pathParam("room")
            + "'; create it with PUT " + PREFIX + "rooms/{room}");
      } else {
        JsonResponses.json(ctx, 200, ar.result());
      }
    });
  }

  private static void storageFailed(RoutingContext ctx) {
    JsonResponses.error(ctx, 503, ErrorCode.STORAGE_UNAVAILABLE, "storage is unavailable; retry later");
  }

  private static String room(RoutingContext ctx) {
    String room = ctx.pathParam("room");
    if (room == null || !Limits.ROOM.matcher(room).matches()) {
      JsonResponses.error(ctx, 400, ErrorCode.BAD_REQUEST, "invalid room name: 1-64 of A-Z a-z 0-9 . _ : @ -");
      return null;
    }
    return room;
  }

  private static String user(RoutingContext ctx) {
    String user = ctx.pathParam("user");
    if (user == null || !Limits.USER.matcher(user).matches()) {
      JsonResponses.error(ctx, 400, ErrorCode.BAD_REQUEST, "invalid user id: 1-128 of A-Z a-z 0-9 . _ : @ | + = -");
      return null;
    }
    return user;
  }

  /** The body's {@code name} field parsed, or null with a 400 sent. */
  private static <T> T field(RoutingContext ctx, String name, Function<String, T> parse) {
    JsonObject body = jsonBody(ctx);
    Object value = body == null ? null : body.getValue(name);
    try {
      if (value instanceof String s) {
        return parse.apply(s);
      }
    } catch (IllegalArgumentException e) {
      JsonResponses.error(ctx, 400, ErrorCode.BAD_REQUEST, e.getMessage());
      return null;
    }
    JsonResponses.error(ctx, 400, ErrorCode.BAD_REQUEST, "body must be a JSON object with \"" + name + "\"");
    return null;
  }
}
