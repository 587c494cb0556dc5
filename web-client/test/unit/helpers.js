// Test doubles: a manual clock, a fake WebSocket wired to a scriptable in-memory server, and a
// tick helper for fake-indexeddb (which schedules with setImmediate).

const SEALED_BODY = /^e1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{38,}$/;

/** A clock whose time moves only when the test says so. */
export class ManualClock {
  t = 1_000_000;
  #timers = new Map();
  #next = 1;

  now = () => this.t;
  setTimeout = (fn, ms) => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };
  clearTimeout = (id) => {
    this.#timers.delete(id);
  };
  setInterval = (fn, ms) => {
    const id = this.#next++;
    const tick = () => {
      this.#timers.set(id, { at: this.t + ms, fn: tick });
      fn();
    };
    this.#timers.set(id, { at: this.t + ms, fn: tick });
    return id;
  };
  clearInterval = (id) => {
    this.#timers.delete(id);
  };

  /** Moves time forward, running due timers in order (and letting promises settle between them). */
  async advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let due = null;
      for (const [id, timer] of this.#timers) if (timer.at <= end && (!due || timer.at < due[1].at)) due = [id, timer];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  get pending() {
    return this.#timers.size;
  }
}

/** Lets pending promises, IndexedDB requests and setImmediate callbacks run. */
export async function settle(rounds = 10) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/**
 * An in-memory server speaking enough of docs/protocol.md for the SDK: sessions, rooms with seq
 * and history, acks (with dedupe by (room, user, cid)), batch, presence, signal forwarding.
 * Tests reach into it to drop sockets, inject frames or change behaviour (`handlers`).
 */
export class FakeServer {
  sockets = [];
  /** @type {Map<string, {seq: number, messages: any[], members: Map<FakeWebSocket, string>}>} */
  rooms = new Map();
  /** frames every socket received from clients, in order: [socket, frame] */
  log = [];
  accepting = true;
  heartbeatMs = 15000;
  sessions = 0;
  /** t → (socket, frame) => boolean: return true when handled (overrides the default) */
  handlers = {};
  /** when false, `send` gets no ack (storage "slow") */
  autoAck = true;
  /** when false, acks say stored:false (fanned out, not yet written: what a crash loses) */
  ackStored = true;
  /** Room epochs as the relay keeps them: off by default (a server from before epochs). */
  epochs = false;
  replayMax = 1000;
  /**
   * Token checking as a relay with JWT auth does it, when set: token (or undefined) → identity
   * {user, name?, expiresAt?, token?} for welcome/authed, a string error code (e.g.
   * 'auth_unavailable': the socket stays open), or null: `unauthorized` and the socket closes 1008.
   */
  authenticate = null;
  /** The server's clock for `pong.ts` (e.g. the test clock plus a skew); unset: pongs carry none. */
  now = undefined;
  /** welcome.limits */
  limits = { maxFrameBytes: 65536, maxBodyBytes: 16384, maxRooms: 100, maxHistoryLimit: 100 };

  WebSocket = makeWebSocketClass(this);

  room(name) {
    if (!this.rooms.has(name)) {
      const history = this.epochs ? [{ epoch: 'ep1', since: 0 }] : [];
      this.rooms.set(name, { seq: 0, messages: [], members: new Map(), cids: new Map(), history, epoch: history[0]?.epoch });
    }
    return this.rooms.get(name);
  }

  /**
   * An unclean takeover (relay killed, room loaded by the next one): messages after `stored` were
   * fanned out but never written, so they are gone; new seqs start above `stored`; a new epoch
   * starts with since = stored.
   */
  takeOver(name, stored, epoch = `ep${this.room(name).history.length + 1}`) {
    const r = this.room(name);
    for (const m of r.messages.filter((x) => x.seq > stored)) r.cids.delete(`${m.from}|${m.cid}`);
    r.messages = r.messages.filter((m) => m.seq <= stored);
    r.seq = stored;
    r.history.push({ epoch, since: stored });
    r.epoch = epoch;
  }

  /** Where a client holding (last, epoch) diverged: the relay's rule; Infinity when it did not. */
  divergedAfter(r, last, epoch) {
    if (!r.epoch || epoch === r.epoch) return Infinity;
    const i = epoch === undefined ? 0 : r.history.findIndex((h) => h.epoch === epoch);
    const later = r.history.slice(Math.max(i, 0) + 1).map((h) => h.since);
    const d = later.length ? Math.min(...later) : Infinity;
    return last > d ? d : Infinity;
  }

  /** Sends a message to every member as the relay fans out (before storing). */
  fanOut(name, m) {
    for (const [s] of this.room(name).members) s.deliver({ t: 'msg', room: name, ...m });
  }

  /** Adds a message as if another user had sent it; returns its frame. */
  append(name, from, body, cid = `c-${Math.random().toString(36).slice(2)}`) {
    const r = this.room(name);
    const m = { seq: ++r.seq, cid, from, body, ts: 1764043200000 + r.seq };
    r.messages.push(m);
    r.cids.set(`${from}|${cid}`, m.seq);
    return m;
  }

  get open() {
    return this.sockets.filter((s) => s.readyState === 1);
  }

  framesOf(t) {
    return this.log.filter(([, f]) => f.t === t).map(([, f]) => f);
  }

  receive(socket, frame) {
    this.log.push([socket, frame]);
    if (this.handlers[frame.t]?.(socket, frame)) return;
    const reply = (f) => socket.deliver(frame.id === undefined ? f : { ...f, id: frame.id });
    switch (frame.t) {
      case 'hello': {
        let identity = null;
        if (this.authenticate) {
          identity = this.authenticate(frame.token);
          if (this.#refuse(socket, frame, identity)) return;
        }
        socket.session = `s-${++this.sessions}`;
        if (identity) {
          socket.user = identity.user;
          reply({ t: 'welcome', session: socket.session, heartbeatMs: this.heartbeatMs, limits: this.limits, ...identity });
        } else {
          socket.user = frame.token?.startsWith('tok-') ? frame.token.slice(4) : `u-${this.sessions}`;
          reply({ t: 'welcome', session: socket.session, user: socket.user, token: `tok-${socket.user}`, heartbeatMs: this.heartbeatMs, limits: this.limits });
        }
        for (const [name, point] of Object.entries(frame.resume ?? {})) {
          const { seq: last, epoch } = typeof point === 'number' ? { seq: point } : point;
          const r = this.room(name);
          r.members.set(socket, socket.user);
          const joined = { t: 'joined', room: name, head: r.seq, mode: 'active', members: [...new Set(r.members.values())], peers: [] };
          if (r.epoch) joined.epoch = r.epoch;
          const d = this.divergedAfter(r, last, epoch);
          const from = d === Infinity ? last + 1 : Math.max(d + 1, r.seq - this.replayMax + 1);
          if (d === Infinity) Object.assign(joined, { recovered: true, replayFrom: from });
          else Object.assign(joined, { recovered: false, divergedAfter: d, replayFrom: from });
          socket.deliver(joined);
          for (const m of r.messages) if (m.seq >= from) socket.deliver({ t: 'msg', room: name, ...m });
        }
        return;
      }
      case 'ping':
        // Without a server clock (most tests) the pong has no ts: the client's clock stands.
        return reply(this.now ? { t: 'pong', ts: this.now() } : { t: 'pong' });
      case 'auth': {
        const identity = this.authenticate?.(frame.token) ?? null;
        if (this.#refuse(socket, frame, typeof identity === 'object' && identity?.user !== socket.user ? null : identity)) return;
        return reply({ t: 'authed', ...identity });
      }
      case 'join': {
        const r = this.room(frame.room);
        const peers = [...r.members].filter(([s]) => s !== socket).map(([s, user]) => ({ peer: s.session, user }));
        for (const [s] of r.members) if (s !== socket) s.deliver({ t: 'presence', room: frame.room, event: 'join', peer: socket.session, user: socket.user });
        r.members.set(socket, socket.user);
        const joined = { t: 'joined', room: frame.room, head: r.seq, mode: frame.mode ?? 'active', members: [...new Set(r.members.values())], peers };
        if (r.epoch) joined.epoch = r.epoch;
        if (r.encrypted) joined.encrypted = true;
        return reply(joined);
      }
      case 'leave':
        this.room(frame.room).members.delete(socket);
        return reply({ t: 'left', room: frame.room });
      case 'mode':
        return reply({ t: 'mode', room: frame.room, mode: frame.mode, head: this.room(frame.room).seq });
      case 'encrypt': {
        // As the relay (issue 18): on for good; every other member is told (no id).
        const r = this.room(frame.room);
        r.encrypted = true;
        for (const [s] of r.members) if (s !== socket) s.deliver({ t: 'encrypted', room: frame.room });
        return reply({ t: 'encrypted', room: frame.room });
      }
      case 'send':
        return this.#store(socket, frame.room, frame.cid, frame.body, reply, undefined, frame.id);
      case 'batch': {
        // As the relay: peers listed in `to` get one `seqs` frame of the new items instead of `msg`s.
        const holders = new Set(frame.to ?? []);
        holders.delete(socket.session);
        const fresh = [];
        for (const item of this.decodeBatch(frame.data)) {
          const m = this.#store(socket, frame.room, item.cid, item.body, (f) => socket.deliver(f), holders);
          if (m) fresh.push({ cid: m.cid, seq: m.seq, ts: m.ts });
        }
        for (const [s] of this.room(frame.room).members) {
          if (holders.has(s.session) && fresh.length) s.deliver({ t: 'seqs', room: frame.room, from: socket.user, items: fresh });
        }
        return;
      }
      case 'history': {
        const r = this.room(frame.room);
        const below = r.messages.filter((m) => frame.before === undefined || m.seq < frame.before);
        const limit = frame.limit ?? 50;
        return reply({ t: 'page', room: frame.room, messages: below.slice(-limit), hasMore: below.length > limit });
      }
      case 'signal': {
        const target = [...this.room(frame.room).members.keys()].find((s) => s.session === frame.to);
        target?.deliver({ t: 'signal', room: frame.room, from: socket.session, data: frame.data });
        return;
      }
      default:
    }
  }

  /** True when the identity is a refusal: unauthorized closes the socket (1008), other codes do not. */
  #refuse(socket, frame, identity) {
    if (identity && typeof identity === 'object') return false;
    const code = identity ?? 'unauthorized';
    socket.deliver({ t: 'error', code, message: code, ref: frame.id });
    if (code === 'unauthorized') socket.drop(1008, 'unauthorized');
    return true;
  }

  /** Set by tests that use batch (the codec lives in src/codec.js). */
  decodeBatch = () => [];

  /** @returns the message when it is new */
  #store(socket, room, cid, body, reply, holders = new Set(), frameId = undefined) {
    const r = this.room(room);
    if (r.encrypted && !SEALED_BODY.test(body)) {
      // The relay's check in an encrypted room (contract: e1.<keyId>.<b64url>)
      socket.deliver({ t: 'error', code: 'encryption_required', message: 'sealed body required', ref: frameId });
      return null;
    }
    const key = `${socket.user}|${cid}`;
    let seq = r.cids.get(key);
    let m;
    if (seq === undefined) {
      seq = ++r.seq;
      m = { seq, cid, from: socket.user, body, ts: 1764043200000 + seq };
      r.messages.push(m);
      r.cids.set(key, seq);
      for (const [s] of r.members) if (s !== socket && !holders.has(s.session)) s.deliver({ t: 'msg', room, ...m });
    }
    if (this.autoAck) reply({ t: 'ack', room, cid, seq, stored: this.ackStored });
    return m;
  }
}

function makeWebSocketClass(server) {
  return class FakeWebSocket {
    readyState = 0;
    constructor(url) {
      this.url = url;
      this.sent = [];
      server.sockets.push(this);
      const accept = server.accepting;
      queueMicrotask(() => {
        if (this.readyState !== 0) return;
        if (accept) {
          this.readyState = 1;
          this.onopen?.({});
        } else {
          this.readyState = 3;
          this.onclose?.({ code: 1006, reason: '' });
        }
      });
    }

    send(text) {
      if (this.readyState !== 1) throw new Error('not open');
      const frame = JSON.parse(text);
      this.sent.push(frame);
      server.receive(this, frame);
    }

    close(code = 1000, reason = '') {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      queueMicrotask(() => this.onclose?.({ code, reason }));
    }

    /** Server → client. */
    deliver(frame) {
      if (this.readyState !== 1) return;
      const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
      queueMicrotask(() => this.onmessage?.({ data: text }));
    }

    /** The server drops the connection with a close code. */
    drop(code = 1001, reason = '') {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      for (const r of server.rooms.values()) r.members.delete(this);
      queueMicrotask(() => this.onclose?.({ code, reason }));
    }
  };
}

/** Polls (real time) until cond() is truthy; fails the test after timeoutMs. */
export async function waitFor(cond, timeoutMs = 2000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms: ${cond}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
