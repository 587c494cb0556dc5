// One RTCPeerConnection per (room, peer) as the server steers: perfect negotiation (MDN's
// pattern; the steer says who is polite), trickle ICE through `signal`, one negotiated ordered
// DataChannel, a bound on setup, and a silent fallback to the relay path when anything fails.
import { Emitter } from './emitter.js';
import { encodePeerMessage, encodePeerTyping, parsePeerFrame } from './peer-frame.js';

const PING_EVERY_MS = 5000;
const FIRST_RTT_WAIT_MS = 1000;
const POLITE_WAIT_MS = 1000;
const hrNow = () => globalThis.performance?.now?.() ?? Date.now();

/**
 * Parses an ICE candidate line (`candidate:…` with or without `a=`).
 * @returns {{protocol: string, address: string, port: number, type: string, relatedAddress?: string, relatedPort?: number} | null}
 */
export function parseCandidate(line) {
  const parts = String(line).replace(/^a=/, '').split(' ');
  if (parts.length < 8 || !parts[0].startsWith('candidate:') || parts[6] !== 'typ') return null;
  const c = { protocol: parts[2].toLowerCase(), address: parts[4], port: Number(parts[5]), type: parts[7] };
  for (let i = 8; i + 1 < parts.length; i += 2) {
    if (parts[i] === 'raddr') c.relatedAddress = parts[i + 1];
    if (parts[i] === 'rport') c.relatedPort = Number(parts[i + 1]);
  }
  return c;
}

/** Removes `a=candidate` lines the filter rejects from an SDP (they would bypass trickle filtering). */
export function filterSdp(sdp, filter) {
  const sections = sdp.split(/\r\n(?=m=)/);
  return sections
    .map((section, index) => {
      const mid = /\r\na=mid:(\S+)/.exec(section)?.[1] ?? null;
      return section
        .split('\r\n')
        .filter((line) => !line.startsWith('a=candidate:') || filter({ candidate: line.slice(2), sdpMid: mid, sdpMLineIndex: index - 1 }))
        .join('\r\n');
    })
    .join('\r\n');
}

/**
 * Pure part of the NAT probe: the candidates one RTCPeerConnection gathered against the two STUN
 * ports of welcome.p2p.probe → the fields of a `profile` frame.
 * @param {{candidate: string, url?: string|null}[]} gathered
 * @param {string[]} probeUrls
 * @param {{complete?: boolean, failedUrls?: string[]}} [outcome] whether gathering finished, and
 *   the STUN URLs that reported an error (icecandidateerror)
 */
export function profileFromCandidates(gathered, probeUrls = [], { complete = false, failedUrls = [] } = {}) {
  const types = new Set();
  const hosts = new Set();
  /** @type {Map<string, Map<string, string>>} base → (url or mapped) → mapped */
  const byBase = new Map();
  for (const g of gathered) {
    const c = parseCandidate(g.candidate);
    if (!c) continue;
    types.add(c.type);
    if (c.type === 'host' && !c.address.endsWith('.local')) hosts.add(c.address);
    if (c.type !== 'srflx' || c.protocol !== 'udp') continue;
    const base = `${c.relatedAddress}:${c.relatedPort}`;
    if (!byBase.has(base)) byBase.set(base, new Map());
    const mapped = c.address.includes(':') ? `[${c.address}]:${c.port}` : `${c.address}:${c.port}`;
    byBase.get(base).set(g.url && probeUrls.includes(g.url) ? g.url : mapped, mapped);
  }
  const profile = { udp: byBase.size > 0, candidates: [...types].filter((t) => ['host', 'srflx', 'prflx', 'relay'].includes(t)) };
  // One local socket's answers from both ports: what the server needs to tell EIM from APDM.
  const best = [...byBase.values()].sort((a, b) => b.size - a.size)[0];
  const bothPortsAnswered = complete && probeUrls.length >= 2 && !probeUrls.some((u) => failedUrls.includes(u));
  if (best) {
    const byUrl = probeUrls.filter((u) => best.has(u)).map((u) => best.get(u));
    const mapped = (byUrl.length === 2 ? byUrl : [...new Set(best.values())]).slice(0, 2);
    // Chromium gathers one srflx per distinct mapping: both ports answering with the same one
    // (endpoint-independent mapping) leave a single candidate. Found by the NAT lab.
    profile.mapped = mapped.length === 1 && bothPortsAnswered ? [mapped[0], mapped[0]] : mapped;
  }
  if (hosts.size) profile.host = [...hosts].slice(0, 8);
  // Browsers drop a reflexive candidate equal to its host candidate (no NAT, or STUN on the same
  // host as in tests). If gathering finished and no probe port failed, STUN did answer: the
  // mapping is the host address itself.
  const udpHost = gathered.map((g) => parseCandidate(g.candidate)).find((c) => c?.type === 'host' && c.protocol === 'udp' && !c.address.endsWith('.local'));
  if (!best && bothPortsAnswered && udpHost) {
    const mapped = udpHost.address.includes(':') ? `[${udpHost.address}]:${udpHost.port}` : `${udpHost.address}:${udpHost.port}`;
    profile.udp = true;
    profile.mapped = [mapped, mapped];
  }
  return profile;
}

/**
 * Gathers candidates against the probe STUN ports and returns the `profile` frame fields.
 * @param {typeof RTCPeerConnection} RTC
 * @param {string[]} probeUrls
 */
export async function probeNat(RTC, probeUrls, { timeoutMs = 3000, clock }) {
  const pc = new RTC({ iceServers: [{ urls: probeUrls }] });
  const gathered = [];
  const failedUrls = [];
  let complete = false;
  pc.onicecandidate = (e) => {
    if (e.candidate?.candidate) gathered.push({ candidate: e.candidate.candidate, url: e.url ?? e.candidate.url ?? null });
  };
  pc.onicecandidateerror = (e) => failedUrls.push(e.url);
  try {
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      const timer = clock.setTimeout(resolve, timeoutMs);
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState !== 'complete') return;
        complete = true;
        clock.clearTimeout(timer);
        resolve();
      };
    });
  } finally {
    pc.close();
  }
  return profileFromCandidates(gathered, probeUrls, { complete, failedUrls });
}

/**
 * @typedef {{
 *   RTCPeerConnection: typeof RTCPeerConnection, rtcConfiguration?: RTCConfiguration,
 *   iceCandidateFilter?: (c: RTCIceCandidateInit) => boolean, p2pConnectTimeoutMs: number,
 *   maxBodyBytes: number, clock: import('./clock.js').Clock,
 * }} LinkOptions
 */

/**
 * Events: 'path' ({path, rttMs}) whenever the path or RTT changes, 'message' (a valid peer
 * message), 'dropped' (a malformed frame), 'result' (what to report in p2p-result).
 */
export class PeerLink extends Emitter {
  /** @type {'connecting'|'p2p'|'turn'|'relay'} */
  path = 'connecting';
  /** @type {number|undefined} */
  rttMs = undefined;
  #pc;
  #channel;
  #pendingCandidates = [];
  #makingOffer = false;
  #ignoreOffer = false;
  #settingRemoteAnswer = false;
  #startedAt;
  #timer;
  #politeTimer;
  #pinger;
  #pings = new Map();
  #pingN = 0;
  #closed = false;
  #signals = Promise.resolve();

  /**
   * @param {{peer: string, user: string, mode: 'p2p'|'turn', polite: boolean, iceServers?: RTCIceServer[]}} steer
   * @param {(data: object) => void} signal sends `signal.data` to the peer
   * @param {LinkOptions} opts
   */
  constructor(steer, signal, opts) {
    super();
    this.steer = steer;
    this.signal = signal;
    this.opts = opts;
    this.filter = opts.iceCandidateFilter ?? (() => true);
  }

  start() {
    const { rtcConfiguration = {}, clock } = this.opts;
    this.#startedAt = clock.now();
    const config = {
      ...rtcConfiguration,
      iceServers: [...(this.steer.iceServers ?? []), ...(rtcConfiguration.iceServers ?? [])],
    };
    if (this.steer.mode === 'turn') config.iceTransportPolicy = 'relay';
    const pc = (this.#pc = new this.opts.RTCPeerConnection(config));
    pc.onnegotiationneeded = () => this.#offer();
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate?.candidate) return;
      const init = candidate.toJSON ? candidate.toJSON() : candidate;
      if (this.filter(init)) this.signal({ candidate: init });
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.#fallBack();
    };
    this.#timer = clock.setTimeout(() => this.#fallBack(), this.opts.p2pConnectTimeoutMs);
    // The impolite side offers at once. The polite side waits for that offer before adding its
    // channel, so the first negotiation has no glare: Chromium often stalls ICE gathering after
    // rolling back a first offer. If no offer comes, it offers itself and perfect negotiation
    // settles any collision.
    if (!this.steer.polite) this.#createChannel();
    else this.#politeTimer = clock.setTimeout(() => this.#createChannel(), Math.min(POLITE_WAIT_MS, this.opts.p2pConnectTimeoutMs / 4));
    return this;
  }

  #createChannel() {
    if (this.#channel || this.#closed) return;
    this.opts.clock.clearTimeout(this.#politeTimer);
    const channel = (this.#channel = this.#pc.createDataChannel('switchboard', { negotiated: true, id: 0, ordered: true }));
    channel.onopen = () => this.#opened();
    channel.onclose = () => this.#fallBack();
    channel.onmessage = (ev) => this.#receive(ev.data);
  }

  /** Whether messages can go over this link now. */
  get open() {
    return (this.path === 'p2p' || this.path === 'turn') && this.#channel?.readyState === 'open';
  }

  /** @returns {boolean} whether the message went out on the channel */
  sendMessage(m) {
    if (!this.open) return false;
    try {
      this.#channel.send(encodePeerMessage(m));
      return true;
    } catch {
      this.#fallBack();
      return false;
    }
  }

  /** @returns {boolean} whether the typing state went out on the channel */
  sendTyping(on) {
    if (!this.open) return false;
    try {
      this.#channel.send(encodePeerTyping(on));
      return true;
    } catch {
      this.#fallBack();
      return false;
    }
  }

  /**
   * `signal.data` from the peer (forwarded by the server, so untrusted in shape). Handled one at a
   * time, in arrival order, so a description is applied before the candidates that follow it.
   */
  onSignal(data) {
    this.#signals = this.#signals.then(() => this.#handleSignal(data));
    return this.#signals;
  }

  async #handleSignal(data) {
    if (this.#closed || !this.#pc) return;
    const pc = this.#pc;
    try {
      const { description, candidate } = data;
      if (description && typeof description.sdp === 'string' && ['offer', 'answer'].includes(description.type)) {
        const readyForOffer = !this.#makingOffer && (pc.signalingState === 'stable' || this.#settingRemoteAnswer);
        const collision = description.type === 'offer' && !readyForOffer;
        this.#ignoreOffer = !this.steer.polite && collision;
        if (this.#ignoreOffer) return;
        this.#settingRemoteAnswer = description.type === 'answer';
        // Explicit rollback: Chromium's implicit one can leave the answer's ICE gathering stalled
        // when our own offer had not started gathering yet (seen with negotiated channels).
        if (collision) await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
        await pc.setRemoteDescription({ type: description.type, sdp: filterSdp(description.sdp, this.filter) });
        this.#settingRemoteAnswer = false;
        this.#createChannel();
        if (description.type === 'offer') {
          await pc.setLocalDescription();
          this.#sendDescription();
        }
        for (const c of this.#pendingCandidates.splice(0)) await this.#addCandidate(c);
      } else if (candidate && typeof candidate.candidate === 'string') {
        if (!this.filter(candidate)) return;
        if (!pc.remoteDescription) this.#pendingCandidates.push(candidate);
        else await this.#addCandidate(candidate);
      }
    } catch {
      // A negotiation step failed (peer gone, bad SDP): the connect bound turns it into a fallback.
    }
  }

  async #addCandidate(candidate) {
    try {
      await this.#pc.addIceCandidate(candidate);
    } catch {
      // A candidate of an ignored offer, or a stale one: ICE works with the rest or the bound trips.
    }
  }

  async #offer() {
    try {
      this.#makingOffer = true;
      await this.#pc.setLocalDescription();
      this.#sendDescription();
    } catch {
      // Superseded by the peer's offer (perfect negotiation) or closed meanwhile.
    } finally {
      this.#makingOffer = false;
    }
  }

  #sendDescription() {
    const { type, sdp } = this.#pc.localDescription;
    this.signal({ description: { type, sdp: filterSdp(sdp, this.filter) } });
  }

  async #opened() {
    const { clock } = this.opts;
    clock.clearTimeout(this.#timer);
    const setupMs = clock.now() - this.#startedAt;
    this.#pinger = clock.setInterval(() => this.#ping(), PING_EVERY_MS);
    const firstRtt = new Promise((resolve) => {
      this.once('rtt', resolve);
      clock.setTimeout(resolve, FIRST_RTT_WAIT_MS);
    });
    this.#ping();
    const [selected] = await Promise.all([this.#selectedPath(), firstRtt]);
    if (this.#closed || this.path === 'relay') return;
    this.path = selected;
    this.emit('path', { path: this.path, rttMs: this.rttMs });
    const result = { path: this.path, setupMs };
    if (this.rttMs !== undefined) result.rttMs = this.rttMs;
    this.emit('result', result);
  }

  /** 'turn' when the selected candidate pair goes through a TURN relay candidate. */
  async #selectedPath() {
    const fallback = this.steer.mode === 'turn' ? 'turn' : 'p2p';
    try {
      const stats = await this.#pc.getStats();
      let pair;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
      });
      stats.forEach((s) => {
        if (!pair && s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pair = s;
      });
      if (!pair) return fallback;
      const local = stats.get(pair.localCandidateId);
      const remote = stats.get(pair.remoteCandidateId);
      return local?.candidateType === 'relay' || remote?.candidateType === 'relay' ? 'turn' : 'p2p';
    } catch {
      return fallback;
    }
  }

  #ping() {
    if (this.#channel?.readyState !== 'open') return;
    const n = ++this.#pingN;
    this.#pings.set(n, hrNow());
    try {
      this.#channel.send(JSON.stringify({ t: 'ping', n }));
    } catch {
      this.#fallBack();
    }
  }

  #receive(data) {
    const frame = parsePeerFrame(data, { maxBodyBytes: this.opts.maxBodyBytes, from: this.steer.user });
    if (!frame) return this.emit('dropped', data);
    if (frame.t === 'ping') {
      try {
        this.#channel.send(JSON.stringify({ t: 'pong', n: frame.n }));
      } catch {
        this.#fallBack();
      }
    } else if (frame.t === 'pong') {
      const sentAt = this.#pings.get(frame.n);
      if (sentAt === undefined) return this.emit('dropped', data);
      this.#pings.delete(frame.n);
      this.rttMs = Math.round((hrNow() - sentAt) * 1000) / 1000;
      this.emit('rtt', this.rttMs);
      if (this.path !== 'connecting') this.emit('path', { path: this.path, rttMs: this.rttMs });
    } else if (frame.t === 'typing') {
      this.emit('typing', frame.on);
    } else if (this.path === 'p2p' || this.path === 'turn' || this.path === 'connecting') {
      this.emit('message', frame);
    }
  }

  /** The channel did not open in time, or broke: the pair is on the relay from now on. */
  #fallBack() {
    if (this.#closed || this.path === 'relay') return;
    const setupMs = this.opts.clock.now() - this.#startedAt;
    this.path = 'relay';
    this.rttMs = undefined;
    this.#teardown();
    this.emit('path', { path: 'relay' });
    this.emit('result', { path: 'relay', setupMs });
  }

  /** Closes without reporting (steer → relay, peer left, room left). */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#teardown();
  }

  #teardown() {
    const { clock } = this.opts;
    clock.clearTimeout(this.#timer);
    clock.clearTimeout(this.#politeTimer);
    clock.clearInterval(this.#pinger);
    if (this.#channel) this.#channel.onopen = this.#channel.onclose = this.#channel.onmessage = null;
    if (this.#pc) {
      this.#pc.onnegotiationneeded = this.#pc.onicecandidate = this.#pc.onconnectionstatechange = null;
      this.#pc.close();
    }
    this.#pings.clear();
  }
}
