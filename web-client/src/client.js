// The engine: one Connection, the outbox, cache and sync batch shared by every Room, and the
// dispatcher that routes each server frame to its room.
import { SyncBatcher } from './batch.js';
import { MessageCache } from './cache.js';
import { systemClock } from './clock.js';
import { nextRetryDelay } from './backoff.js';
import { Connection, State } from './connection.js';
import { KeyStore, fromB64url, importRoomKey, isAcceptableKeyId, newKeyId, newRoomKey } from './e2ee.js';
import { Emitter } from './emitter.js';
import { ErrorCode, SwitchboardError } from './errors.js';
import { resolveOptions } from './options.js';
import { Outbox } from './outbox.js';
import { probeNat } from './p2p.js';
import { isDisplayName, isEpoch, isRoomName } from './protocol.js';
import { Room } from './room.js';
import { openStorage } from './storage.js';

/** Refusals of a join that say "later", not "no" (see #joinUntilAvailable). */
const RETRYABLE_JOIN_ERRORS = new Set(['room_unavailable', 'rate_limited', 'server_busy']);
/**
 * `room_moved` (a cluster moved the room's sequencer): joins retried at once this many times, each
 * after a short jittered pause (the next owner usually has it within milliseconds), then as any
 * retryable refusal.
 */
const MOVED_RETRIES = 5;
const MOVED_DELAY_MS = 20;

/** Events a Client emits. */
export const ClientEvent = Object.freeze({
  STATE: 'state',
  ERROR: 'error',
  PROFILE: 'profile',
  /** A joining room has opened from the cache (before the server answered): render it now. */
  ROOM: 'room',
  /** The token was refreshed on the open socket (`authed`): {user, name, expiresAt}. */
  AUTHED: 'authed',
  /**
   * The server ended a membership (`left` with a reason, or a resume refused with `forbidden`):
   * {room, reason, dropped}, `dropped` being the room's unsent messages (now 'failed').
   */
  REMOVED: 'removed',
});

export class Client extends Emitter {
  /** @type {Map<string, Room>} */
  rooms = new Map();
  counters = {
    sent: { p2p: 0, turn: 0, relay: 0 },
    received: { p2p: 0, turn: 0, relay: 0 },
    droppedPeerFrames: 0,
    droppedSignals: 0,
    signalErrors: 0,
    reconnects: 0,
    /** Joins answered (or rooms dropped) with room_unavailable, each retried after a backoff. */
    roomUnavailable: 0,
    /** Rooms dropped and joins answered with room_moved (a cluster moved the room), each rejoined at once. */
    roomMoved: 0,
  };
  /** False once the server answered a `batch` with unknown_type: P2P messages are then re-sent as `send`. */
  batchSupported = true;
  /** The server's classification of this client's network (the `profile` answer). */
  profile = null;
  /** @type {Map<number, {room: string, cid: string}>} send frame id → message, to route its errors */
  #sends = new Map();
  #probe = null;
  /** @type {Set<number>} ids of signalling frames, whose errors are only counted */
  #quiet = new Set();

  /** @param {string|string[]} url @param {ReturnType<typeof resolveOptions>} options */
  constructor(url, options) {
    super();
    if (options.name !== undefined && !isDisplayName(options.name)) {
      throw new SwitchboardError('bad_request', 'name must be 1–64 characters without control characters');
    }
    this.urls = Array.isArray(url) ? [...url] : [url];
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  get state() {
    return this.conn?.state ?? 'connecting';
  }

  /** The relay URL in use (or tried next). */
  get url() {
    return this.conn?.url ?? this.urls[0];
  }

  get user() {
    return this.conn?.user ?? null;
  }

  /** The display name in use (welcome/authed `name`): the token's, else the guest's `name` option; null: none. */
  get name() {
    return this.conn?.name ?? null;
  }

  /** Epoch ms when the connection's token expires; null: never (or not connected yet). */
  get expiresAt() {
    return this.conn?.expiresAt ?? null;
  }

  get session() {
    return this.conn?.session ?? null;
  }

  get limits() {
    return this.conn.limits;
  }

  get RTCPeerConnection() {
    return this.options.p2p ? this.options.RTCPeerConnection ?? globalThis.RTCPeerConnection : undefined;
  }

  async _start() {
    const o = this.options;
    this.storage = await openStorage(o);
    this.outbox = await new Outbox(this.storage).load();
    this.e2ee = new KeyStore(this.storage);
    this.cache = new MessageCache(this.storage, { ...o.cache, idle: o.idle, now: () => this.clock.now() });
    // One key per URL list (a single URL keeps the key it always had): every relay of the list
    // accepts the same guest token when they share SWITCHBOARD_SECRET.
    const tokenKey = `token:${this.urls.join(' ')}`;
    const tokenFn = typeof o.token === 'function' ? o.token : undefined;
    const token = tokenFn ? null : o.token ?? (await this.storage.kvGet(tokenKey)) ?? null;
    this.conn = new Connection(this.urls, {
      WebSocket: o.WebSocket,
      token,
      tokenFn,
      name: this.options.name?.trim(),
      fixedToken: typeof o.token === 'string',
      refreshMarginMs: o.refreshMarginMs,
      getResume: () => this.#resume(),
      reconnect: o.reconnect,
      breaker: o.breaker,
      heartbeatMs: o.heartbeatMs,
      connectTimeoutMs: o.connectTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      urlCooldownMs: o.urlCooldownMs,
      clock: this.clock,
      random: o.random,
      network: o.network,
    });
    this.batcher = new SyncBatcher({
      send: (frame) => this.conn.send(frame),
      nextId: () => this.conn.nextId(),
      intervalMs: o.syncIntervalMs,
      delayMs: o.p2pSeqDelayMs,
      maxFrameBytes: () => this.conn.limits.maxFrameBytes,
      clock: this.clock,
    });
    this.conn.on('state', (s) => this.emit(ClientEvent.STATE, s));
    this.conn.on('error', (e) => this.emit(ClientEvent.ERROR, e));
    this.conn.on('token', (t) => {
      if (o.token !== undefined) return;
      (t ? this.storage.kvSet(tokenKey, t) : this.storage.kvDelete(tokenKey)).catch(() => {});
    });
    this.conn.on('authed', (a) => this.emit(ClientEvent.AUTHED, a));
    this.conn.on('open', ({ resumed }) => this.#opened(resumed));
    this.conn.on('frame', (f) => this.#dispatch(f));
    this.conn.on('close', () => {
      for (const room of this.rooms.values()) room._disconnected();
    });
    const started = this.conn.start();
    if (o.waitForServer) {
      await started;
    } else {
      // Offline-first: the app works from the outbox and cache while the connection keeps trying.
      started.catch(() => {});
    }
    this.batcher.start();
    return this;
  }

  /**
   * Joins a room (or changes the mode of one already joined). The room opens from the cache
   * first; the promise resolves once the server answered `joined` and the gap since the cached
   * messages is fetched.
   * @param {string} name
   * @param {{mode?: 'active'|'background'}} [opts]
   */
  async join(name, { mode = 'active' } = {}) {
    if (!isRoomName(name)) throw new SwitchboardError('bad_request', `invalid room name ${JSON.stringify(name)}`);
    const existing = this.rooms.get(name);
    if (existing) {
      await existing._ready;
      if (existing.mode !== mode) await existing.setMode(mode);
      return existing;
    }
    const room = new Room(this, name);
    this.rooms.set(name, room);
    room._ready = this.#join(room, mode);
    return room._ready;
  }

  async #join(room, mode) {
    try {
      await room._openFromCache();
      this.emit(ClientEvent.ROOM, room);
      const frame = { t: 'join', room: room.name };
      if (mode !== 'active') frame.mode = mode;
      if (room.rev > 0) frame.rev = room.rev;
      const reply = await this.#joinUntilAvailable(room, frame);
      await room._joined(reply, { requested: true });
      return room;
    } catch (err) {
      if (this.rooms.get(room.name) === room) this.rooms.delete(room.name);
      throw err;
    }
  }

  /**
   * A request that only times out while the server is reachable: offline, it waits for the
   * connection (the room stays usable from the cache meanwhile).
   */
  async #requestUntilAnswered(frame) {
    for (;;) {
      try {
        return await this.conn.request(frame);
      } catch (err) {
        if (err?.code !== ErrorCode.TIMEOUT || this.state === State.OPEN || this.state === State.CLOSED) throw err;
      }
    }
  }

  /**
   * Retryable refusals of a join: `room_unavailable` (another relay sequences the room, or took it
   * over and is loading it), `rate_limited` (rooms not in memory are loaded at a bounded rate per
   * connection and per address) and `server_busy` (the relay holds as many rooms as it may). Try
   * again with the reconnect backoff while the room is still wanted.
   */
  async #joinUntilAvailable(room, frame, firstAttempt = 0) {
    let moved = 0;
    for (let attempt = firstAttempt; ; attempt++) {
      try {
        return await this.#requestUntilAnswered(frame);
      } catch (err) {
        if (err?.code === 'room_moved' && moved < MOVED_RETRIES) {
          // the room is between two relays of one cluster: this connection reaches it, soon
          this.counters.roomMoved++;
          await this.#sleep(this.#movedDelay(moved++));
          attempt--;
        } else {
          if (!RETRYABLE_JOIN_ERRORS.has(err?.code) && err?.code !== 'room_moved') throw err;
          if (err.code === 'room_unavailable') this.#roomElsewhere();
          await this.#sleep(nextRetryDelay(attempt, this.options.reconnect, this.options.random));
        }
        if (this.rooms.get(room.name) !== room || this.state === State.CLOSED) throw err;
      }
    }
  }

  /** A short pause before joining a moved room again: doubling, jittered so members spread out. */
  #movedDelay(retry) {
    return Math.round(MOVED_DELAY_MS * 2 ** retry * (0.5 + this.options.random()));
  }

  /**
   * `room_unavailable`: another relay sequences the room (or is taking it over). With several URLs
   * the client moves to the next usable one, where the room may be (the relay that took it over
   * while this one was away, or the one this client left after a 1013); the join is retried there.
   */
  #roomElsewhere() {
    this.counters.roomUnavailable++;
    this.conn.moveOn();
  }

  /** The relay dropped us from a joined room (room_unavailable): rejoin it as join() would. */
  async #rejoin(room) {
    room._unavailable();
    this.#roomElsewhere();
    try {
      await this.#sleep(nextRetryDelay(0, this.options.reconnect, this.options.random));
      if (this.rooms.get(room.name) !== room || this.state === State.CLOSED) return;
      const frame = { t: 'join', room: room.name };
      if (room.mode !== 'active') frame.mode = room.mode;
      if (room.rev > 0) frame.rev = room.rev;
      const reply = await this.#joinUntilAvailable(room, frame, 1);
      if (this.rooms.get(room.name) === room) await room._joined(reply, { requested: true });
    } catch (err) {
      if (err?.code === 'forbidden' && this.rooms.get(room.name) === room) return room._removed('forbidden');
      if (this.state !== State.CLOSED) this.emit(ClientEvent.ERROR, err);
    }
  }

  /**
   * The cluster moved the room to another relay (`room_moved`): the membership ended, the connection
   * stays. Rejoin on it at once (the relay it is on reaches the room wherever it lives now); the
   * outbox keeps what was unconfirmed and resends it after `joined`.
   */
  async #moved(room) {
    room._unavailable();
    this.counters.roomMoved++;
    try {
      await this.#sleep(this.#movedDelay(0));
      if (this.rooms.get(room.name) !== room || this.state === State.CLOSED) return;
      const frame = { t: 'join', room: room.name };
      if (room.mode !== 'active') frame.mode = room.mode;
      if (room.rev > 0) frame.rev = room.rev;
      const reply = await this.#joinUntilAvailable(room, frame, 0);
      if (this.rooms.get(room.name) === room) await room._joined(reply, { requested: true });
    } catch (err) {
      if (err?.code === 'forbidden' && this.rooms.get(room.name) === room) return room._removed('forbidden');
      if (this.state !== State.CLOSED) this.emit(ClientEvent.ERROR, err);
    }
  }

  #sleep(ms) {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  // ——— owners manage members (protocol.md#access); the server answers forbidden to anyone else ———

  /**
   * Gives `user` a role in `room` (owner, member or reader); resolves with the server's `granted`.
   * The room need not be joined.
   * @returns {Promise<{room: string, user: string, role: string}>}
   */
  async grant(room, user, role) {
    const r = await this.conn.request({ t: 'grant', room, user, role });
    return { room: r.room, user: r.user, role: r.role };
  }

  /**
   * Takes `user` out of `room` (its sockets get `left{reason:'removed'}`); resolves with `revoked`.
   * In an encrypted room this client is in, it then rotates the room key, so what is sent from now
   * on is sealed with a key the removed user never gets.
   */
  async revoke(room, user) {
    const r = await this.conn.request({ t: 'revoke', room, user });
    const joined = this.rooms.get(room);
    if (joined?.encrypted) await joined.rotateKey({ exclude: [user] });
    return { room: r.room, user: r.user };
  }

  /**
   * The room's visibility and listed members with their roles.
   * @returns {Promise<{room: string, visibility: string|null, members: {user: string, role: string}[]}>}
   */
  async members(room) {
    const r = await this.conn.request({ t: 'members', room });
    return { room: r.room, visibility: r.visibility ?? null, members: r.members.map(({ user, role }) => ({ user, role })) };
  }

  /**
   * Owners only: switches `room` to end-to-end encrypted (for good) and makes its first key when
   * this device has none. From then on the SDK seals every body it sends there.
   */
  async encrypt(room) {
    await this.conn.request({ t: 'encrypt', room });
    const joined = this.rooms.get(room);
    if (joined) return joined._encrypted({ create: true });
    await this.e2ee.setEncrypted(room);
    if (!this.e2ee.current(room)) await this.e2ee.addKey(room, newKeyId(this.clock.now()), await newRoomKey());
  }

  /**
   * Stores the room key of an invite link's fragment (`#k=<room>.<keyId>.<key>`, from
   * Room#inviteKey). @returns {Promise<string>} the room it is for
   */
  async acceptInvite(fragment) {
    const m = /^#?k=(.+)\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{43})$/.exec(String(fragment));
    const raw = m && fromB64url(m[3]);
    if (!m || !isRoomName(m[1]) || !isAcceptableKeyId(m[2], this.clock.now()) || raw?.length !== 32) throw new SwitchboardError('bad_request', 'not an invite key fragment');
    await this.e2ee.addKey(m[1], m[2], await importRoomKey(raw));
    const room = this.rooms.get(m[1]);
    if (room) {
      room.encrypted = true;
      room._keysArrived();
    }
    return m[1];
  }

  /** Uploads the sync batch now instead of at the next interval (e.g. before the page is hidden). */
  sync() {
    this.batcher?.flush();
  }

  /** Writes deferred cache entries now instead of in idle time. */
  flushCache() {
    return this.cache?.flush() ?? Promise.resolve();
  }

  /** Counters for tests and dashboards. */
  stats() {
    const c = this.counters;
    return {
      state: this.state,
      sent: { ...c.sent },
      received: { ...c.received },
      droppedPeerFrames: c.droppedPeerFrames,
      droppedSignals: c.droppedSignals,
      signalErrors: c.signalErrors,
      outbox: this.outbox?.size ?? 0,
      batchPending: this.batcher?.size ?? 0,
      batchesSent: this.batcher?.sent ?? 0,
      reconnects: c.reconnects,
      roomUnavailable: c.roomUnavailable,
      roomMoved: c.roomMoved,
      rooms: this.rooms.size,
      storage: this.storage?.kind ?? null,
    };
  }

  /** Retries connecting now (after 'suspended', or to skip a backoff wait). */
  reconnect() {
    this.conn.reconnect();
  }

  /** Empties the message cache (the outbox is kept: unsent messages are the user's words). */
  clearCache() {
    return this.cache.clear();
  }

  async close() {
    for (const room of [...this.rooms.values()]) room._closed();
    this.batcher?.stop();
    this.conn?.close();
    if (this.cache) await this.cache.flush();
    this.storage?.close();
  }

  // ——— for Room ———

  _history(room, before, limit) {
    const frame = { t: 'history', room, limit: Math.min(limit, this.limits.maxHistoryLimit) };
    if (before !== undefined) frame.before = before;
    return this.conn.request(frame);
  }

  _trackSend(id, room, cid) {
    this.#sends.set(id, { room, cid });
    if (this.#sends.size > 4096) this.#sends.delete(this.#sends.keys().next().value);
  }

  /**
   * Sends signalling frames (signal, p2p-result) whose errors are expected in races (the peer just
   * left: not_in_room; signal bucket: rate_limited): counted, not surfaced.
   */
  _sendQuiet(frame) {
    const id = this.conn.nextId();
    try {
      if (this.conn.send({ ...frame, id })) this.#quiet.add(id);
    } catch {
      this.counters.signalErrors++; // refused locally, e.g. an SDP over the signal limit
    }
    if (this.#quiet.size > 1000) this.#quiet.delete(this.#quiet.values().next().value);
  }

  /** Epoch ms on the server's clock as estimated from pongs (the local clock before any). */
  _serverNow() {
    return this.conn ? this.conn.serverClock.now() : this.clock.now();
  }

  _forget(room) {
    if (this.rooms.get(room.name) === room) this.rooms.delete(room.name);
    this.batcher.take(room.name);
  }

  // ——— internals ———

  #resume() {
    const resume = {};
    for (const room of this.rooms.values()) {
      // With the epoch the server can tell whether what we hold still exists (else it assumes not).
      if (!room.joined) continue;
      // rev: the changes (edits, deletes, reactions) already applied to what we hold.
      if (!isEpoch(room.epoch)) resume[room.name] = room.lastSeq;
      else resume[room.name] = room.rev > 0 ? { seq: room.lastSeq, epoch: room.epoch, rev: room.rev } : { seq: room.lastSeq, epoch: room.epoch };
    }
    return resume;
  }

  #opened(resumed) {
    if (resumed) this.counters.reconnects++;
    for (const room of this.rooms.values()) room._identified(this.user);
    for (const room of this.rooms.values()) {
      if (room.joined && room.mode === 'background') this.conn.send({ t: 'mode', room: room.name, mode: 'background' });
    }
    this.#sendProfile();
  }

  /** Probes the NAT once per client (again per connection would only repeat the answer). */
  async #sendProfile() {
    const probeUrls = this.conn.welcome?.p2p?.probe;
    const RTC = this.RTCPeerConnection;
    if (!RTC || !Array.isArray(probeUrls) || probeUrls.length === 0) return;
    try {
      this.#probe ??= probeNat(RTC, probeUrls, { timeoutMs: this.options.probeTimeoutMs, clock: this.clock });
      const profile = await this.#probe;
      const answer = await this.conn.request({ t: 'profile', ...profile });
      this.profile = answer;
      this.emit(ClientEvent.PROFILE, answer);
    } catch (err) {
      this.#probe = null;
      this.emit(ClientEvent.ERROR, err instanceof SwitchboardError ? err : new SwitchboardError('p2p_unavailable', String(err), { cause: err }));
    }
  }

  #dispatch(frame) {
    if (frame.t === 'error') return this.#error(frame);
    const room = frame.room !== undefined ? this.rooms.get(frame.room) : undefined;
    if (!room) return;
    switch (frame.t) {
      case 'joined':
        // A reply to our join is handled by join(); this is a room rejoined by hello.resume.
        if (frame.id === undefined) room._joined(frame, { requested: false }).catch((e) => this.emit(ClientEvent.ERROR, e));
        break;
      case 'msg':
        return room._msg(frame);
      case 'ack':
        return room._ack(frame);
      case 'seqs':
        return room._seqs(frame);
      case 'presence':
        return room._presence(frame);
      case 'unread':
        return room._unread(frame);
      case 'steer':
        return room._steer(frame);
      case 'signal':
        return room._signal(frame);
      case 'role':
        return room._role(frame);
      case 'reads':
        return room._reads(frame.reads);
      case 'typing':
        return room._typing(frame);
      case 'changed':
        // Also the answer to our edit/delete/react (its id): the request resolves after this applied.
        return room._changed(frame);
      case 'encrypted':
        // Unsolicited: an owner switched the room on (our own request's answer is its caller's).
        if (frame.id === undefined) room._encrypted().catch((e) => this.emit(ClientEvent.ERROR, e));
        return;
      case 'left':
        // Unsolicited: the server ended the membership (removed, room made private). A reply to
        // our leave carries its id and is handled by leave().
        if (frame.id === undefined) room._removed(frame.reason ?? 'removed');
        return;
      default:
      // mode and page answer requests; their callers handle them.
    }
  }

  #error(frame) {
    const err = SwitchboardError.fromFrame(frame);
    if (this.#quiet.delete(frame.ref)) {
      this.counters.signalErrors++;
      return;
    }
    // Unsolicited, or answering the hello that resumed the room: the membership is gone, or the
    // resume of that room was refused for now (rate_limited, server_busy). (A join's answer never
    // gets here: its request takes it.)
    if (frame.code === 'room_moved' && frame.room !== undefined && !this.#sends.has(frame.ref)) {
      const room = this.rooms.get(frame.room);
      if (room?.joined) this.#moved(room);
      return;
    }
    if (RETRYABLE_JOIN_ERRORS.has(frame.code) && frame.room !== undefined && !this.#sends.has(frame.ref)) {
      const room = this.rooms.get(frame.room);
      if (room?.joined) this.#rejoin(room);
      return;
    }
    const send = frame.ref !== undefined ? this.#sends.get(frame.ref) : undefined;
    if (send) {
      this.#sends.delete(frame.ref);
      return this.rooms.get(send.room)?._sendFailed(send.cid, err);
    }
    if (frame.code === 'encryption_required' && frame.ref !== undefined && this.batcher.ownsId(frame.ref)) {
      // P2P-delivered plaintext from before this client knew: uploaded again sealed.
      const name = this.batcher.roomOf(frame.ref);
      this.batcher.take(name);
      return this.rooms.get(name)?._encryptionRequired();
    }
    if (frame.code === 'forbidden' && frame.ref !== undefined && this.batcher.ownsId(frame.ref)) {
      // A reader's P2P-delivered messages: the server will never store them; retrying is futile.
      return this.rooms.get(this.batcher.roomOf(frame.ref))?._batchRefused(err);
    }
    if (frame.code === 'forbidden' && frame.room !== undefined) {
      // The resume of a room this user may no longer read: it is gone, not to be rejoined.
      const room = this.rooms.get(frame.room);
      if (room) return room._removed('forbidden');
    }
    if (frame.ref !== undefined && this.batcher.ownsId(frame.ref)) {
      if (frame.code !== 'unknown_type') return; // retried on the next tick
      // A server without `batch`: P2P messages reach history as resends instead.
      this.batchSupported = false;
      for (const name of this.batcher.rooms()) {
        this.batcher.take(name);
        this.rooms.get(name)?._flushOutbox();
      }
      return;
    }
    this.emit(ClientEvent.ERROR, err);
  }
}

/**
 * Connects and resolves once the server said `welcome`.
 * @param {string|string[]} url e.g. 'ws://localhost:8080/ws', or several relays on one database,
 *   tried in order: the client stays on the one that works and moves on when it fails
 * @param {Partial<typeof import('./options.js').DEFAULT_OPTIONS>} [options]
 */
export async function connect(url, options = {}) {
  const client = new Client(url, resolveOptions(options));
  try {
    await client._start();
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}
