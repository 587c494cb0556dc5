// The signal client: one WebSocket for every room. It owns the session (hello/welcome with
// resume), heartbeat, reconnect (backoff + jitter, circuit breaker, close codes, online/offline)
// and request/response correlation by id. It knows nothing about rooms beyond the resume map.
import { nextRetryDelay, CircuitBreaker } from './backoff.js';
import { systemClock } from './clock.js';
import { Emitter } from './emitter.js';
import { ErrorCode, SwitchboardError } from './errors.js';
import { DEFAULT_LIMITS, decodeServerFrame, utf8Bytes, validateClientFrame } from './protocol.js';

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

const defaultNetwork = () => ({
  get onLine() {
    return globalThis.navigator?.onLine ?? true;
  },
  addEventListener: (type, fn) => globalThis.addEventListener?.(type, fn),
  removeEventListener: (type, fn) => globalThis.removeEventListener?.(type, fn),
});

/**
 * @typedef {{
 *   WebSocket?: typeof WebSocket, token?: string|null, getResume?: () => Record<string, number|{seq: number, epoch: string}>,
 *   reconnect?: Partial<import('./backoff.js').BackoffOptions>, breaker?: Partial<import('./backoff.js').BreakerOptions>,
 *   heartbeatMs?: number, connectTimeoutMs?: number, requestTimeoutMs?: number,
 *   clock?: import('./clock.js').Clock, random?: () => number,
 *   network?: {onLine: boolean, addEventListener(t: string, f: () => void): void, removeEventListener(t: string, f: () => void): void},
 * }} ConnectionOptions
 */

export class Connection extends Emitter {
  state = State.CONNECTING;
  /** @type {any} the server's welcome frame, once received */
  welcome = null;
  limits = { ...DEFAULT_LIMITS };
  #ws = null;
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
  #started;

  /** @param {string} url @param {ConnectionOptions} opts */
  constructor(url, opts = {}) {
    super();
    this.url = url;
    this.opts = opts;
    this.token = opts.token ?? null;
    this.clock = opts.clock ?? systemClock;
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
    this.#attempt = 0;
    this.#open();
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
    ws.onopen = () => this.#hello();
    ws.onmessage = (ev) => this.#receive(ev.data);
    ws.onclose = (ev) => this.#dropped(ev.code, ev.reason);
    ws.onerror = () => {};
    this.#connectTimer = this.clock.setTimeout(() => this.#kill(), this.opts.connectTimeoutMs ?? 10000);
  }

  #hello() {
    this.#lastRx = this.clock.now();
    this.#helloId = this.nextId();
    let resume = this.opts.getResume?.() ?? {};
    if (this.#numericResume) resume = Object.fromEntries(Object.entries(resume).map(([room, v]) => [room, v?.seq ?? v]));
    this.#helloHadEpochs = Object.values(resume).some((v) => typeof v === 'object');
    const frame = { t: 'hello', id: this.#helloId, resume };
    if (this.token) frame.token = this.token;
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
    if (frame.t === 'joined' && frame.epoch !== undefined) this.#numericResume = false; // a relay with epochs again
    if (frame.t === 'error' && frame.ref === this.#helloId && frame.code === 'unauthorized' && this.token) {
      // A token this server did not sign (new secret, other server): start over as a new guest.
      this.token = null;
      this.emit('token', null);
      return this.#hello();
    }
    if (frame.t === 'error' && frame.ref === this.#helloId && frame.code === 'bad_request' && this.#helloHadEpochs) {
      // An older relay (rolled back, or mid-upgrade) does not know the {seq, epoch} form: the
      // number form still resumes, only without the divergence check.
      this.#numericResume = true;
      return this.#hello();
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
    this.token = frame.token;
    this.breaker.recordSuccess();
    this.#attempt = 0;
    this.#setState(State.OPEN);
    const every = this.opts.heartbeatMs ?? frame.heartbeatMs;
    this.#heartbeat = this.clock.setInterval(() => this.#beat(every), every);
    this.emit('token', frame.token);
    this.emit('open', { welcome: frame, resumed });
    for (const p of this.#pending.values()) if (this.state === State.OPEN) this.#ws.send(JSON.stringify(p.frame));
    this.#started.resolve(frame);
  }

  #beat(every) {
    // Any frame counts as alive; our pings make the server answer at least once per beat.
    if (this.clock.now() - this.#lastRx > every * 1.5) return this.#kill();
    this.send({ t: 'ping' });
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
    this.clock.clearInterval(this.#heartbeat);
    this.clock.clearTimeout(this.#connectTimer);
    if (this.state === State.CLOSED) return;
    const wasOpen = this.state === State.OPEN;
    this.emit('close', { code, reason });
    if (FATAL_CLOSE.has(code)) {
      const err = new SwitchboardError(ErrorCode.POLICY, `server closed the connection (${code} ${reason}); not reconnecting`);
      this.#setState(State.SUSPENDED);
      this.emit('error', err);
      this.#started.reject(err);
      return;
    }
    if (wasOpen) this.#retry();
    else this.#failed();
  }

  #failed() {
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
