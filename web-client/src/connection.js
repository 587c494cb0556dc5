// The signal client: one WebSocket for every room. It owns the session (hello/welcome with
// resume), heartbeat, reconnect (backoff + jitter, circuit breaker, close codes, online/offline)
// and request/response correlation by id. It knows nothing about rooms beyond the resume map.
import { nextRetryDelay, CircuitBreaker } from './backoff.js';
import { ServerClock, systemClock } from './clock.js';
import { Emitter } from './emitter.js';
import { ErrorCode, SwitchboardError } from './errors.js';
import { DEFAULT_LIMITS, decodeServerFrame, utf8Bytes, validateClientFrame } from './protocol.js';
import { DEFAULT_REFRESH_MARGIN_MS, refreshDelay } from './refresh.js';
import { UrlRotation } from './urls.js';

/** Connection states, as reported by the 'state' event. */
export const State = Object.freeze({
  CONNECTING: 'connecting',
  OPEN: 'open',
  RECONNECTING: 'reconnecting',
  OFFLINE: 'offline',
  SUSPENDED: 'suspended',
  CLOSED: 'closed',
});

// Close codes after which reconnecting in a loop cannot help (docs/protocol.md#close-codes).
const FATAL_CLOSE = new Set([1008, 1009]);
/**
 * Close codes of an open socket that send the client to the next URL: the relay is going away
 * (1001), restarting (1012) or overloaded (1013). After any other drop the same URL is tried
 * first: the client's rooms are sequenced there, and another relay would wait out their leases.
 */
const MOVE_ON_CLOSE = new Set([1001, 1012, 1013]);
/** Refusals of a token that say "later" (the relay could not reach its key source), not "no". */
const TRANSIENT_AUTH_ERRORS = new Set(['auth_unavailable']);
/** After a refresh that did not move the expiry (the token function returned the same token): wait at least this long. */
const STALE_REFRESH_MS = 5000;

const defaultNetwork = () => ({
  get onLine() {
    return globalThis.navigator?.onLine ?? true;
  },
  addEventListener: (type, fn) => globalThis.addEventListener?.(type, fn),
  removeEventListener: (type, fn) => globalThis.removeEventListener?.(type, fn),
});

/**
 * @typedef {{
 *   WebSocket?: typeof WebSocket, token?: string|null,
 *   tokenFn?: () => (string|null|undefined|Promise<string|null|undefined>), fixedToken?: boolean, refreshMarginMs?: number,
 *   getResume?: () => Record<string, number|{seq: number, epoch: string}>,
 *   reconnect?: Partial<import('./backoff.js').BackoffOptions>, breaker?: Partial<import('./backoff.js').BreakerOptions>,
 *   heartbeatMs?: number, connectTimeoutMs?: number, requestTimeoutMs?: number, urlCooldownMs?: number,
 *   clock?: import('./clock.js').Clock, random?: () => number,
 *   network?: {onLine: boolean, addEventListener(t: string, f: () => void): void, removeEventListener(t: string, f: () => void): void},
 * }} ConnectionOptions
 */

export class Connection extends Emitter {
  state = State.CONNECTING;
  /** @type {any} the server's welcome frame, once received */
  welcome = null;
  limits = { ...DEFAULT_LIMITS };
  /** Epoch ms when the connection's token expires (welcome/authed.expiresAt); null: never. */
  expiresAt = null;
  /** The user's display name from the token; null: none. */
  name = null;
  #ws = null;
  #authId = null;
  #authAttempt = 0;
  #refreshTimer = null;
  /** Tokens refused in a row (unauthorized to hello or auth) since the last welcome. */
  #refusals = 0;
  /** The last welcome/authed carried a server-minted (guest) token, which `auth` renews. */
  #serverToken = false;
  /** The token sent in the last hello (a JWT's welcome echoes it: not a server-minted token). */
  #helloToken = null;
  /** This socket got `token_expired`: its 1008 close is the expiry, which a new token cures. */
  #expiredSeen = false;
  #attempt = 0;
  #nextId = 1;
  #helloId = null;
  /** The server refused `{seq, epoch}` resume values (a relay from before epochs): send numbers. */
  #numericResume = false;
  #helloHadEpochs = false;
  /** @type {Map<number, {frame: object, resolve: (f: any) => void, reject: (e: Error) => void, timer: any}>} */
  #pending = new Map();
  #retryTimer = null;
  #connectTimer = null;
  #heartbeat = null;
  #lastRx = 0;
  /** When the last `ping` left (local clock); its pong times the server's clock. */
  #pingAt = null;
  #started;

  /** @param {string|string[]} url one relay URL, or several tried in turn @param {ConnectionOptions} opts */
  constructor(url, opts = {}) {
    super();
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    /** The server's clock estimated from pongs: the time messages are stamped with. */
    this.serverClock = new ServerClock(this.clock);
    this.rotation = new UrlRotation(Array.isArray(url) ? url : [url], { cooldownMs: opts.urlCooldownMs, now: () => this.clock.now() });
    this.token = opts.token ?? null;
    /**
     * Where tokens come from: 'function' (called on every connect and refresh), 'fixed' (the
     * app's string, never replaced by guessing) or 'guest' (the server's guest token, kept).
     */
    this.tokenMode = opts.tokenFn ? 'function' : opts.fixedToken ? 'fixed' : 'guest';
    this.WebSocket = opts.WebSocket ?? globalThis.WebSocket;
    this.breaker = new CircuitBreaker(opts.breaker, () => this.clock.now());
    this.network = opts.network ?? defaultNetwork();
    this.network.addEventListener('online', this.#onOnline);
    this.network.addEventListener('offline', this.#onOffline);
    this.#started = deferred();
    this.#started.promise.catch(() => {});
  }

  /** Opens the first socket. Resolves with `welcome`; rejects if the client gives up first. */
  start() {
    this.#open();
    return this.#started.promise;
  }

  /** The URL of the socket open now, or of the next connect. */
  get url() {
    return this.rotation.current;
  }

  get session() {
    return this.welcome?.session ?? null;
  }

  get user() {
    return this.welcome?.user ?? null;
  }

  nextId() {
    return this.#nextId++;
  }

  /**
   * Sends a frame now if the socket is open. Invalid frames throw (they would only earn a server
   * error). @returns {boolean} false when not connected (callers resend after reconnect)
   */
  send(frame) {
    const text = this.#encode(frame);
    if (this.state !== State.OPEN) return false;
    this.#ws.send(text);
    return true;
  }

  /**
   * Sends a frame with a fresh id and resolves with the server's reply (the frame carrying the same
   * id); an `error` with that ref rejects with a SwitchboardError. While disconnected the request
   * waits and goes out after the next welcome, so in-flight requests survive reconnects.
   */
  request(frame) {
    if (this.state === State.CLOSED) return Promise.reject(new SwitchboardError(ErrorCode.CLOSED, 'client closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId();
      const full = { ...frame, id };
      this.#encode(full);
      const timeoutMs = this.opts.requestTimeoutMs ?? 30000;
      const timer = this.clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(new SwitchboardError(ErrorCode.TIMEOUT, `no answer to ${frame.t} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { frame: full, resolve, reject, timer });
      if (this.state === State.OPEN) this.#ws.send(JSON.stringify(full));
    });
  }

  /** Tries now, whatever the backoff or breaker said (a "retry" button). */
  reconnect() {
    if (this.state === State.CLOSED || this.state === State.OPEN || this.#ws) return;
    this.breaker.reset();
    this.#refusals = 0;
    this.#attempt = 0;
    this.#open();
  }

  /**
   * Leaves the open socket for the next URL when one is usable (the relay refused a room another
   * relay sequences); rooms resume there as after any reconnect. @returns {boolean} whether it moved
   */
  moveOn() {
    if (this.state !== State.OPEN || !this.rotation.moveOn()) return false;
    const ws = this.#ws;
    this.#detach();
    try {
      ws?.close(1000, 'moving to another relay');
    } catch {
      // already closing
    }
    this.#dropped(1000, 'moving to another relay');
    return true;
  }

  /** Closes for good: rejects what is pending, stops every timer. */
  close() {
    if (this.state === State.CLOSED) return;
    this.#clearTimers();
    this.network.removeEventListener('online', this.#onOnline);
    this.network.removeEventListener('offline', this.#onOffline);
    const ws = this.#ws;
    this.#detach();
    ws?.close(1000, 'client closed');
    for (const [id, p] of this.#pending) {
      this.clock.clearTimeout(p.timer);
      p.reject(new SwitchboardError(ErrorCode.CLOSED, 'client closed'));
      this.#pending.delete(id);
    }
    this.#setState(State.CLOSED);
    this.#started.reject(new SwitchboardError(ErrorCode.CLOSED, 'client closed'));
  }

  #encode(frame) {
    const problem = validateClientFrame(frame, this.limits);
    if (problem) throw new SwitchboardError(problem.code, `refusing to send ${frame.t}: ${problem.message}`);
    const text = JSON.stringify(frame);
    if (utf8Bytes(text) > this.limits.maxFrameBytes) throw new SwitchboardError('too_large', `${frame.t} frame too large`);
    return text;
  }

  #open() {
    this.#clearTimers();
    if (this.state !== State.CONNECTING) this.#setState(State.RECONNECTING);
    let ws;
    try {
      ws = new this.WebSocket(this.url);
    } catch (err) {
      this.emit('error', new SwitchboardError('bad_url', String(err?.message ?? err), { cause: err }));
      this.#failed();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => this.#hello(ws);
    ws.onmessage = (ev) => this.#receive(ev.data);
    ws.onclose = (ev) => this.#dropped(ev.code, ev.reason);
    ws.onerror = () => {};
    this.#connectTimer = this.clock.setTimeout(() => this.#kill(), this.opts.connectTimeoutMs ?? 10000);
  }

  /** The socket is open: take a token (the app's function may take a while), then say hello. */
  async #hello(ws) {
    this.#lastRx = this.clock.now();
    try {
      await this.#freshToken();
    } catch (err) {
      if (this.#ws !== ws) return;
      this.emit('error', new SwitchboardError(ErrorCode.TOKEN_UNAVAILABLE, `the token function failed: ${err?.message ?? err}`, { cause: err }));
      return this.#kill();
    }
    if (this.#ws === ws) this.#sendHello();
  }

  /** The token function's current token (it may have renewed it), or the token held. */
  async #freshToken() {
    if (this.tokenMode !== 'function') return this.token;
    const token = await this.opts.tokenFn();
    if (token != null && typeof token !== 'string') throw new TypeError(`token function returned ${typeof token}, not a string`);
    this.token = token || null;
    return this.token;
  }

  #sendHello() {
    this.#helloId = this.nextId();
    this.#authId = null;
    let resume = this.opts.getResume?.() ?? {};
    if (this.#numericResume) resume = Object.fromEntries(Object.entries(resume).map(([room, v]) => [room, v?.seq ?? v]));
    this.#helloHadEpochs = Object.values(resume).some((v) => typeof v === 'object');
    const frame = { t: 'hello', id: this.#helloId, resume };
    if (this.token) frame.token = this.token;
    if (this.opts.name !== undefined) frame.name = this.opts.name;
    this.#helloToken = this.token;
    this.#expiredSeen = false;
    this.#ws.send(this.#encode(frame));
  }

  #receive(data) {
    this.#lastRx = this.clock.now();
    if (typeof data !== 'string') return this.#badFrame(new Error('binary frame'));
    let frame;
    try {
      frame = decodeServerFrame(data);
    } catch (err) {
      return this.#badFrame(err);
    }
    if (frame.t === 'welcome') return this.#welcomed(frame);
    if (frame.t === 'pong' && frame.id === undefined && this.#pingAt !== null) {
      if (typeof frame.ts === 'number') this.serverClock.sample(this.#pingAt, frame.ts);
      this.#pingAt = null;
    }
    if (frame.t === 'authed' && frame.id === this.#authId) return this.#authed(frame);
    if (frame.t === 'error' && (frame.ref === this.#helloId || (this.#authId !== null && frame.ref === this.#authId))) {
      if (frame.code === 'unauthorized') return this.#refused(SwitchboardError.fromFrame(frame));
      if (TRANSIENT_AUTH_ERRORS.has(frame.code)) return this.#authUnavailable(SwitchboardError.fromFrame(frame), frame.ref === this.#helloId);
    }
    if (frame.t === 'error' && frame.code === 'token_expired') return this.#expired(SwitchboardError.fromFrame(frame));
    if (frame.t === 'joined' && frame.epoch !== undefined) this.#numericResume = false; // a relay with epochs again
    if (frame.t === 'error' && frame.ref === this.#helloId && frame.code === 'bad_request' && this.#helloHadEpochs) {
      // An older relay (rolled back, or mid-upgrade) does not know the {seq, epoch} form: the
      // number form still resumes, only without the divergence check.
      this.#numericResume = true;
      return this.#sendHello();
    }
    const pending = frame.id !== undefined ? this.#pending.get(frame.id) : frame.t === 'error' ? this.#pending.get(frame.ref) : undefined;
    if (pending) {
      this.#pending.delete(frame.id ?? frame.ref);
      this.clock.clearTimeout(pending.timer);
      if (frame.t === 'error') pending.reject(SwitchboardError.fromFrame(frame));
      else pending.resolve(frame);
      if (frame.t !== 'error') this.emit('frame', frame);
      return;
    }
    if (frame.t !== 'pong') this.emit('frame', frame);
  }

  #badFrame(err) {
    this.emit('error', new SwitchboardError(ErrorCode.BAD_FRAME, `ignored a server frame: ${err.message}`, { cause: err }));
  }

  #welcomed(frame) {
    this.clock.clearTimeout(this.#connectTimer);
    const resumed = this.welcome !== null;
    this.welcome = frame;
    this.limits = { ...DEFAULT_LIMITS, ...frame.limits };
    // A function's token stays what the function said; a guest token is whatever the server minted.
    if (this.tokenMode !== 'function' && frame.token !== undefined) this.token = frame.token;
    this.#serverToken = frame.token !== undefined && frame.token !== this.#helloToken && this.tokenMode !== 'function';
    this.name = frame.name ?? null;
    this.expiresAt = frame.expiresAt ?? null;
    this.#refusals = 0;
    this.#authAttempt = 0;
    this.breaker.recordSuccess();
    this.rotation.succeeded();
    this.#attempt = 0;
    this.#setState(State.OPEN);
    const every = this.opts.heartbeatMs ?? frame.heartbeatMs;
    this.#heartbeat = this.clock.setInterval(() => this.#beat(every), every);
    // One round trip at once, so the first messages already carry the server's time.
    this.#ping();
    if (frame.token !== undefined) this.emit('token', frame.token);
    this.#scheduleRefresh(true);
    this.emit('open', { welcome: frame, resumed });
    for (const p of this.#pending.values()) if (this.state === State.OPEN) this.#ws.send(JSON.stringify(p.frame));
    this.#started.resolve(frame);
  }

  // ——— token refresh on the open socket ———

  /**
   * Plans the next `auth` before the token expires. Only when a refresh can bring a new token: a
   * token function, or a server-minted guest token (the server renews it); a fixed JWT cannot be
   * renewed here, its expiry ends in `token_expired`.
   * @param {boolean} progressed the expiry moved (false: the last refresh returned the same token)
   */
  #scheduleRefresh(progressed) {
    this.clock.clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
    if (this.expiresAt == null || (this.tokenMode !== 'function' && !this.#serverToken)) return;
    const delay = refreshDelay(this.expiresAt, this.clock.now(), this.opts.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS, this.opts.random);
    this.#refreshTimer = this.clock.setTimeout(() => this.#refresh(), progressed ? delay : Math.max(delay, STALE_REFRESH_MS));
  }

  /** Sends `auth` with a fresh token on the open socket (refusals close it: see #refused). */
  async #refresh() {
    this.clock.clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
    const ws = this.#ws;
    if (this.state !== State.OPEN) return; // the next hello takes a fresh token anyway
    let token;
    try {
      token = await this.#freshToken();
    } catch (err) {
      if (this.#ws !== ws) return;
      this.emit('error', new SwitchboardError(ErrorCode.TOKEN_UNAVAILABLE, `the token function failed: ${err?.message ?? err}`, { cause: err }));
      this.#refreshTimer = this.clock.setTimeout(() => this.#refresh(), nextRetryDelay(this.#authAttempt++, this.opts.reconnect, this.opts.random));
      return;
    }
    if (this.#ws !== ws || this.state !== State.OPEN || !token) return;
    this.#authId = this.nextId();
    ws.send(this.#encode({ t: 'auth', id: this.#authId, token }));
  }

  #authed(frame) {
    this.#authId = null;
    this.#authAttempt = 0;
    const previous = this.expiresAt;
    this.expiresAt = frame.expiresAt ?? null;
    this.name = frame.name ?? null;
    this.#serverToken = frame.token !== undefined && this.tokenMode !== 'function';
    if (this.#serverToken) {
      this.token = frame.token;
      this.emit('token', frame.token);
    }
    this.#scheduleRefresh(previous == null || this.expiresAt == null || this.expiresAt > previous);
    this.emit('authed', { user: frame.user, name: this.name, expiresAt: this.expiresAt });
  }

  /** The token ran out without a refresh: the server closes after a grace unless `auth` arrives. */
  #expired(err) {
    this.#expiredSeen = true;
    this.emit('error', err);
    if (this.tokenMode === 'function' || this.#serverToken) this.#refresh();
  }

  /**
   * A token refused (hello or auth): the socket is of no use. A token function is asked once more
   * (the app's session may have been renewed meanwhile); a refused guest token is dropped for a new
   * guest identity; anything else would be refused again, so the client stops (state 'suspended',
   * an 'unauthorized' error) until the app calls reconnect().
   */
  #refused(err) {
    const ws = this.#ws;
    const wasOpen = this.state === State.OPEN;
    this.#detach();
    this.#clearTimers();
    try {
      ws?.close(1000, 'unauthorized');
    } catch {
      // already closing
    }
    if (wasOpen) this.emit('close', { code: 1008, reason: 'unauthorized' });
    this.#refusals++;
    if (this.tokenMode === 'function' && this.#refusals === 1) return this.#retry();
    if (this.tokenMode === 'guest' && this.token) {
      this.token = null;
      this.emit('token', null);
      return this.#open();
    }
    this.#setState(State.SUSPENDED);
    this.emit('error', err);
    this.#started.reject(err);
  }

  /** The relay could not check the token for now (its key source is down): try again with backoff. */
  #authUnavailable(err, onHello) {
    this.emit('error', err);
    if (!onHello) {
      this.#authId = null;
      this.#refreshTimer = this.clock.setTimeout(() => this.#refresh(), nextRetryDelay(this.#authAttempt++, this.opts.reconnect, this.opts.random));
      return;
    }
    const ws = this.#ws;
    this.#detach();
    this.#clearTimers();
    try {
      ws?.close(1000, 'auth unavailable');
    } catch {
      // already closing
    }
    this.#failed();
  }

  #beat(every) {
    // Any frame counts as alive; our pings make the server answer at least once per beat.
    if (this.clock.now() - this.#lastRx > every * 1.5) return this.#kill();
    this.#ping();
  }

  #ping() {
    try {
      if (this.send({ t: 'ping' })) this.#pingAt = this.clock.now();
    } catch {
      // the socket closed under us: its close event follows
    }
  }

  /** Gives up on a socket that stopped answering; browsers can take minutes to notice by themselves. */
  #kill() {
    const ws = this.#ws;
    this.#detach();
    try {
      ws?.close(4000, 'unresponsive');
    } catch {
      // already closing
    }
    this.#dropped(1006, 'unresponsive');
  }

  #detach() {
    if (!this.#ws) return;
    this.#ws.onopen = this.#ws.onmessage = this.#ws.onclose = this.#ws.onerror = null;
    this.#ws = null;
  }

  #dropped(code, reason = '') {
    this.#detach();
    this.clock.clearTimeout(this.#refreshTimer);
    this.clock.clearInterval(this.#heartbeat);
    this.clock.clearTimeout(this.#connectTimer);
    if (this.state === State.CLOSED) return;
    const wasOpen = this.state === State.OPEN;
    this.emit('close', { code, reason });
    // Closed for an expired token: a token function (or a renewable guest token) gets a new one on
    // reconnect; anything else would only be refused again.
    const renewable = this.#expiredSeen && (this.tokenMode === 'function' || this.#serverToken);
    if (FATAL_CLOSE.has(code) && !renewable) {
      const err = new SwitchboardError(ErrorCode.POLICY, `server closed the connection (${code} ${reason}); not reconnecting`);
      this.#setState(State.SUSPENDED);
      this.emit('error', err);
      this.#started.reject(err);
      return;
    }
    if (!wasOpen) return this.#failed();
    if (MOVE_ON_CLOSE.has(code)) this.rotation.refused();
    this.#retry();
  }

  /** A connect that got no welcome: the next try goes to the next URL. */
  #failed() {
    this.rotation.refused();
    if (this.breaker.recordFailure() || !this.breaker.canAttempt()) {
      const waitMs = this.breaker.remainingOpenMs();
      const err = new SwitchboardError(ErrorCode.UNAVAILABLE, `${this.breaker.failures} connection attempts failed; next try in ${waitMs} ms`);
      this.#setState(State.SUSPENDED, waitMs);
      this.emit('error', err);
      this.#started.reject(err);
      // The half-open probe: one attempt once the breaker lets it through.
      this.#retryTimer = this.clock.setTimeout(() => this.#open(), waitMs);
      return;
    }
    this.#retry();
  }

  #retry() {
    if (!this.network.onLine) return this.#setState(State.OFFLINE);
    const delay = nextRetryDelay(this.#attempt++, this.opts.reconnect, this.opts.random);
    this.#setState(State.RECONNECTING, delay);
    this.#retryTimer = this.clock.setTimeout(() => this.#open(), delay);
  }

  #onOnline = () => {
    if (this.state === State.OFFLINE || (this.state === State.RECONNECTING && !this.#ws)) {
      this.#attempt = 0;
      this.#open();
    }
  };

  // The browser says it has no network. A socket it still holds is dead or soon will be (browsers
  // can take minutes to notice): drop it now, so sends wait in the outbox and the app shows it.
  #onOffline = () => {
    const ws = this.#ws;
    const wasOpen = this.state === State.OPEN;
    if (ws) {
      this.#detach();
      try {
        ws.close(1000, 'offline');
      } catch {
        // already closing
      }
    }
    if (ws && wasOpen) return this.#dropped(1006, 'offline');
    if (this.state === State.RECONNECTING || this.state === State.CONNECTING) {
      this.#clearTimers();
      this.#setState(State.OFFLINE);
    }
  };

  #clearTimers() {
    this.clock.clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
    this.clock.clearTimeout(this.#retryTimer);
    this.clock.clearTimeout(this.#connectTimer);
    this.clock.clearInterval(this.#heartbeat);
  }

  #setState(state, retryInMs) {
    const previous = this.state;
    if (previous === state && retryInMs === undefined) return;
    this.state = state;
    this.emit('state', retryInMs === undefined ? { state, previous } : { state, previous, retryInMs });
  }
}

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
