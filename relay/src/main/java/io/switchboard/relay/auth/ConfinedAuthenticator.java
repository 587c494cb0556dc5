package io.switchboard.relay.auth;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.function.Supplier;

/**
 * Keeps an authenticator whose caches are not thread-safe (the JWKS cache) on the one context that
 * created it: JWT checks from other event loops (the relay's shards, their HTTP servers) hop there
 * and get their answer back on their own context; guest tokens are checked where they arrive.
 */
public final class ConfinedAuthenticator implements Authenticator {
  private final ContextInternal context;
  private final Authenticator delegate;

  public ConfinedAuthenticator(ContextInternal context, Authenticator delegate) {
    this.context = context;
    this.delegate = delegate;
  }

  @Override
  public Future<Identity> authenticate(String token) {
    if (token == null || GuestAuthenticator.isGuestToken(token)) {
      // guest tokens are checked by a plain HMAC, safe anywhere, and at once: a client may send
      // its first frames right behind its hello
      return delegate.authenticate(token);
    }
    return onContext(() -> delegate.authenticate(token));
  }

  @Override
  public Future<Identity> authenticateService(String token) {
    return onContext(() -> delegate.authenticateService(token));
  }

  private <T> Future<T> onContext(Supplier<Future<T>> call) {
    if (context.nettyEventLoop().inEventLoop()) {
      return call.get();
    }
    ContextInternal caller = (ContextInternal) Vertx.currentContext();
    Promise<T> result = caller != null ? caller.promise() : Promise.promise();
    context.runOnContext(v -> call.get().onComplete(result));
    return result.future();
  }
}
