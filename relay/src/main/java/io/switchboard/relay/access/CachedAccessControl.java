package io.switchboard.relay.access;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link AccessControl} over {@link AccessStore} with an {@link AccessCache} in front. Everything runs
 * on one event loop ({@code context}) but cache hits, which are answered at once on any loop (the
 * cache is locked: lookups are per join, not per message); calls from other loops (the relay's
 * shards, tests) hop onto it and get their answer back on their own context. Listeners are called
 * on {@code context}. A change invalidates the room's entries once its transaction ended (committed or not: either
 * way the next lookup reads the database), then tells the listeners. A relay sees only the changes made
 * through it: with several relays on one database, issue 15's broker must feed other nodes' changes
 * into {@code changed}.
 */
public final class CachedAccessControl implements AccessControl {
  private static final Logger LOG = LoggerFactory.getLogger(CachedAccessControl.class);
  private final Context context;
  private final AccessStore store;
  private final AccessCache cache;
  private final Visibility defaultVisibility;
  private final List<Consumer<AccessChange>> listeners = new CopyOnWriteArrayList<>();
  private final Counter hits;
  private final Counter queries;

  public CachedAccessControl(Context context, AccessStore store, Visibility defaultVisibility, int cacheEntries,
      MeterRegistry registry) {
    this.context = context;
    this.store = store;
    this.defaultVisibility = defaultVisibility;
    this.cache = new AccessCache(cacheEntries);
    hits = Counter.builder("switchboard.access.lookups").description("Access checks, by where the answer came from")
        .tag("source", "cache").register(registry);
    queries = Counter.builder("switchboard.access.lookups").description("Access checks, by where the answer came from")
        .tag("source", "database").register(registry);
    Gauge.builder("switchboard.access.cache.entries", this, CachedAccessControl::cacheSize)
        .description("Entries in the access cache (rooms, room-users, change stamps)").register(registry);
  }

  @Override
  public Future<Access> access(String room, String user) {
    // a hit is answered at once on any loop (a join of a warm room then completes in the same turn);
    // a miss queries from this control's loop
    Access hit = cached(room, user);
    if (hit != null) {
      return Future.succeededFuture(hit);
    }
    return onLoop(() -> {
      Access cached = cached(room, user);
      if (cached != null) {
        return Future.succeededFuture(cached);
      }
      queries.increment();
      long ticket;
      synchronized (cache) {
        ticket = cache.ticket();
      }
      return store.load(room, user).map(loaded -> {
        synchronized (cache) {
          cache.put(room, user, loaded.visibility(), loaded.role(), loaded.encrypted(), ticket);
        }
        return new Access(loaded.visibility() == null ? defaultVisibility : loaded.visibility(), loaded.role(),
            loaded.encrypted());
      });
    });
  }

  private Access cached(String room, String user) {
    Access cached;
    synchronized (cache) { // lookups come from every shard's loop
      cached = cache.lookup(room, user, defaultVisibility);
    }
    if (cached != null) {
      hits.increment();
    }
    return cached;
  }

  @Override
  public Future<Void> setVisibility(String room, Visibility visibility) {
    return change(new AccessChange(room, null), () -> store.setVisibility(room, visibility));
  }

  @Override
  public Future<Void> setEncrypted(String room) {
    return change(new AccessChange(room, null), () -> store.setEncrypted(room, defaultVisibility));
  }

  @Override
  public Future<Void> setRole(String room, String user, Role role, boolean keepAnOwner) {
    return change(new AccessChange(room, user), () -> store.setRole(room, user, role, defaultVisibility, keepAnOwner));
  }

  @Override
  public Future<Boolean> removeMember(String room, String user, boolean keepAnOwner) {
    return change(new AccessChange(room, user), () -> store.removeMember(room, user, keepAnOwner));
  }

  @Override
  public Future<RoomMembers> members(String room) {
    return onLoop(() -> store.members(room, defaultVisibility));
  }

  @Override
  public void onChange(Consumer<AccessChange> listener) {
    listeners.add(listener);
  }

  /** Lookups answered from memory and by a query, for tests and the metric. */
  public long hits() {
    return (long) hits.count();
  }

  public long queries() {
    return (long) queries.count();
  }

  public int cacheSize() {
    synchronized (cache) {
      return cache.size();
    }
  }

  private <T> Future<T> change(AccessChange change, Supplier<Future<T>> write) {
    return onLoop(() -> write.get().andThen(ar -> changed(change)));
  }

  @Override
  public void changedElsewhere(String room) {
    synchronized (cache) {
      cache.changed(room);
    }
  }

  private void changed(AccessChange change) {
    synchronized (cache) {
      cache.changed(change.room());
    }
    for (Consumer<AccessChange> listener : listeners) {
      try {
        listener.accept(change);
      } catch (RuntimeException e) {
        LOG.error("access change listener failed for {}", change, e);
      }
    }
  }

  private <T> Future<T> onLoop(Supplier<Future<T>> action) {
    if (Vertx.currentContext() == context) {
      return action.get();
    }
    // the answer goes back to the caller's own loop (a shard's), not this one
    ContextInternal caller = (ContextInternal) Vertx.currentContext();
    Promise<T> promise = caller != null ? caller.promise() : Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }
}
