// Options: full internal defaults, partial public overrides (nested groups merged one level deep).
import { DEFAULT_BACKOFF, DEFAULT_BREAKER } from './backoff.js';
import { DEFAULT_CACHE } from './cache.js';
import { DEFAULT_REFRESH_MARGIN_MS } from './refresh.js';
import { DEFAULT_URL_COOLDOWN_MS } from './urls.js';
import { WINDOW_SIZE } from './window.js';

export const DEFAULT_OPTIONS = Object.freeze({
  /**
   * A string (a JWT, or a guest token from a previous welcome), or a function returning one or a
   * promise of one (e.g. supabase-js's session's access_token), called on every connect and before
   * each expiry. Unset: a guest, whose token is kept in storage per URL (list) and renewed before expiry.
   */
  token: undefined,
  /** A guest's display name, sent as `hello.name` (a JWT's own name wins); trimmed, 1–64 code points. */
  name: undefined,
  /** How long before the token's expiry the SDK refreshes it (jittered; see src/refresh.js). */
  refreshMarginMs: DEFAULT_REFRESH_MARGIN_MS,
  /** 'indexeddb' (default where available) or 'memory'. */
  storage: undefined,
  dbName: 'switchboard',
  /**
   * true: connect() resolves after the server's welcome (and rejects if it never comes);
   * false: it resolves once the outbox and cache are open, so an app starts offline.
   */
  waitForServer: true,
  /** Profile the network and follow the server's steers to DataChannels. */
  p2p: true,
  p2pConnectTimeoutMs: 5000,
  /** How often P2P-delivered messages still unacked are uploaded again (the sync batch's retry). */
  syncIntervalMs: 2000,
  /**
   * How long after its DataChannel send a message is uploaded, together with the room's others
   * sent meanwhile: its seq (and so its place in everyone's order) comes this soon.
   */
  p2pSeqDelayMs: 50,
  /** Larger bodies go over the relay even when every DataChannel is open. */
  maxP2pBodyBytes: 16000,
  /** (candidateInit) => boolean, applied to local candidates before signalling and to remote ones. */
  iceCandidateFilter: undefined,
  /** Merged into every RTCPeerConnection's configuration (the steer's iceServers come first). */
  rtcConfiguration: {},
  reconnect: DEFAULT_BACKOFF,
  breaker: DEFAULT_BREAKER,
  /** Client ping interval; the server's `welcome.heartbeatMs` when unset. */
  heartbeatMs: undefined,
  connectTimeoutMs: 10000,
  /** With several URLs: how long one that failed or sent the client away is skipped. */
  urlCooldownMs: DEFAULT_URL_COOLDOWN_MS,
  requestTimeoutMs: 30000,
  /** How long the NAT probe may gather candidates. */
  probeTimeoutMs: 3000,
  cache: DEFAULT_CACHE,
  windowSize: WINDOW_SIZE,
  // Injection points for tests and non-browser hosts.
  WebSocket: undefined,
  RTCPeerConnection: undefined,
  indexedDB: undefined,
  IDBKeyRange: undefined,
  /** @type {import('./clock.js').Clock|undefined} */
  clock: undefined,
  random: undefined,
  network: undefined,
  idle: undefined,
});

const NESTED = ['reconnect', 'breaker', 'cache'];

export function resolveOptions(overrides = {}) {
  const out = { ...DEFAULT_OPTIONS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    out[key] = NESTED.includes(key) ? { ...DEFAULT_OPTIONS[key], ...value } : value;
  }
  return out;
}
