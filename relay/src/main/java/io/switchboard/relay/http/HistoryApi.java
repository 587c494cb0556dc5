package io.switchboard.relay.http;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.access.AccessControl;
import io.switchboard.relay.access.Visibility;
import io.switchboard.relay.auth.Authenticator;
import io.switchboard.relay.history.LoadedRooms;
import io.switchboard.relay.history.RoomHistory;
import io.switchboard.relay.limits.AddressLimits;
import io.switchboard.relay.room.Room;
import io.switchboard.relay.store.MessageStore;
import io.switchboard.relay.store.RoomLeases;
import io.switchboard.relay.store.RoomLeases.Bound;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * {@code GET /api/rooms/{room}/messages?before=&limit=} — the history pages of the WebSocket's
 * {@code history} frame over HTTP, with each message's current state. Every page revalidates by
 * ETag ({@code no-cache}): an edit, delete or reaction may change any page, and every ETag names
 * the room's change rev. It names the room's epoch too: an unclean takeover may give seqs past the
 * old watermark to other messages. A page wholly at or below the durable watermark is named by its
 * {@code before} (more messages later do not change it), others by the room's head.
 *
 * <p>Who may read: {@code Authorization: Bearer <token>} (a JWT or a guest token) names the user;
 * without one, only what a guest could read (guests allowed and the room public). A page that
 * needed a token is {@code Cache-Control: private} and {@code Vary: Authorization}, so no shared
 * cache hands it to anyone else.
 */
public final class HistoryApi {
  /** No user id is empty, so no room lists it: its access is the room's visibility alone. */
  private static final String NOBODY = "";

  private final LoadedRooms rooms;
  private final RoomHistory history;
  private final MessageStore store;
  private final RoomLeases leases;
  private final int maxLimit;
  private final AddressLimits limits;
  private final Authenticator authenticator;
  private final AccessControl access;
  private final boolean guestsAllowed;

  /** @param guestsAllowed whether a request without a token may read what a guest could (public rooms) */
  public HistoryApi(LoadedRooms rooms, RoomHistory history, MessageStore store, RoomLeases leases, int maxLimit,
      AddressLimits limits, Authenticator authenticator, AccessControl access, boolean guestsAllowed) {
    this.limits = limits;
    this.authenticator = authenticator;
    this.access = access;
    this.guestsAllowed = guestsAllowed;
    this.leases = leases;
    this.rooms = rooms;
    this.history = history;
    this.store = store;
    this.maxLimit = maxLimit;
  }

  public void mount(Router router) {
    router.route(HttpMethod.GET, "/api/rooms/:room/messages").handler(this::page);
  }

  private void page(RoutingContext ctx) {
    String room = ctx.pathParam("room");
    if (room == null || !Limits.ROOM.matcher(room).matches()) {
      JsonResponses.error(ctx, 400, ErrorCode.BAD_REQUEST, "invalid room name: 1-64 of A-Z a-z 0-9 . _ : @ -");
      return;
    }
    Long before;
    int limit;
    try {
      before = parse(ctx.queryParams().get("before"), 1, Long.MAX_VALUE, "before");
      Long l = parse(ctx.queryParams().get("limit"), 1, maxLimit, "limit");
      limit = l == null ? Math.min(Limits.DEFAULT_HISTORY_LIMIT, maxLimit) : l.intValue();
    } catch (IllegalArgumentException e) {
      JsonResponses.error(ctx, 400, ErrorCode.BAD_REQUEST, e.getMessage());
      return;
    }
    authorize(ctx, room).onSuccess(personal -> {
      if (personal == null) {
        return;
      }
      // Reads share the database pool with chat's writes: a global cap (with a short FIFO wait) keeps a
      // flood of them from queueing in front of every stored:true ack.
      AddressLimits.Refusal busy = limits.startHistoryRead(() -> read(ctx, room, before, limit, personal)
          .onComplete(ar -> limits.historyReadDone()));
      if (busy != null) {
        JsonResponses.refuse(ctx, busy);
      }
    });
  }

  /**
   * Whether the request may read {@code room}: TRUE when only its token allowed it (the page is
   * personal), FALSE when anyone may, null when refused (the answer is sent).
   */
  private Future<Boolean> authorize(RoutingContext ctx, String room) {
    String token = Bearer.token(ctx);
    Future<Boolean> anonymous = access.access(room, NOBODY).map(a -> guestsAllowed && a.visibility() == Visibility.PUBLIC);
    return anonymous.compose(anyone -> {
      if (token == null) {
        if (!anyone) {
          Bearer.unauthorized(ctx, guestsAllowed ? "this room is private: send Authorization: Bearer <token> of a member"
              : "send Authorization: Bearer <token>");
          return Future.<Boolean>succeededFuture(null);
        }
        return Future.succeededFuture(false);
      }
      return authenticator.authenticate(token).compose(identity -> access.access(room, identity.user()))
          .map(a -> {
            if (!a.canRead()) {
              JsonResponses.error(ctx, 403, ErrorCode.FORBIDDEN, "you may not read this room");
              return null;
            }
            return !anyone;
          });
    }).recover(e -> {
      ErrorCode code = e instanceof ProtocolException p ? p.code() : null;
      if (code == ErrorCode.FORBIDDEN) {
        JsonResponses.error(ctx, 403, ErrorCode.FORBIDDEN, e.getMessage());
      } else if (code == ErrorCode.AUTH_UNAVAILABLE) {
        JsonResponses.authUnavailable(ctx, e.getMessage());
      } else if (code != null) {
        // a bad, expired or foreign token: the same answer as none, so a caller learns nothing more
        Bearer.unauthorized(ctx, "token refused: " + e.getMessage());
      } else {
        JsonResponses.error(ctx, 503, ErrorCode.STORAGE_UNAVAILABLE, "storage is unavailable; retry later");
      }
      return Future.succeededFuture(null);
    });
  }

  private Future<Void> read(RoutingContext ctx, String room, Long before, int limit, boolean personal) {
    // A loaded room is read on its own loop (its head and ring live there). Rooms nobody is in are
    // read straight from storage, so scanning room names loads nothing into memory.
    return rooms.<Read>read(room, loaded -> {
      if (loaded == null) {
        return Future.succeededFuture(null);
      }
      Bound b = new Bound(loaded.epoch(), loaded.head(), loaded.durable(), loaded.rev());
      return history.page(loaded, effectiveBefore(before, b), limit).map(page -> new Read(b, page));
    }).compose(found -> found != null ? Future.succeededFuture(found) : leases.bound(room)
        .compose(b -> store.before(room, effectiveBefore(before, b), limit)
            .map(rows -> new Read(b, rows.stream().map(RoomHistory::toMessage).toList()))))
        .<Void>map(r -> {
          respond(ctx, room, r.bound(), before, limit, r.page(), personal);
          return null;
        })
        .onFailure(e -> JsonResponses.error(ctx, 503, ErrorCode.STORAGE_UNAVAILABLE, "storage is unavailable; retry later"));
  }

  private record Read(Bound bound, List<Message> page) {}

  private static long effectiveBefore(Long before, Bound b) {
    return before == null ? b.head() + 1 : Math.min(before, b.head() + 1);
  }

  private static void respond(RoutingContext ctx, String room, Bound bound, Long before, int limit,
      List<Message> page, boolean personal) {
    // below the head, and every seq below `before` is stored or a hole no message will ever fill:
    // only a change (a new rev) or a takeover (a new epoch) can make that page differ
    boolean settled = before != null && before <= bound.head() && before - 1 <= bound.immutableUpTo();
    String etag = "\"e" + bound.epoch() + "-r" + bound.rev() + (settled ? "-b" + before : "-h" + bound.head())
        + "-l" + limit + "\"";
    ctx.response().putHeader("etag", etag)
        .putHeader("cache-control", personal ? "private, no-cache" : "no-cache");
    if (personal) {
      ctx.response().putHeader("vary", "Authorization");
    }
    if (etag.equals(ctx.request().getHeader("if-none-match"))) {
      ctx.response().setStatusCode(304).end();
      return;
    }
    ctx.response().putHeader("content-type", "application/json; charset=utf-8")
        .end(FrameEncoder.encodePage(room, page, RoomHistory.hasMore(page)));
  }

  private static Long parse(String raw, long min, long max, String name) {
    if (raw == null) {
      return null;
    }
    try {
      long value = Long.parseLong(raw);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException ignored) {
      // falls through to the same message
    }
    throw new IllegalArgumentException(name + " must be an integer from " + min + " to " + max);
  }
}
