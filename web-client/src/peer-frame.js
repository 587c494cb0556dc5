// DataChannel frames. The other end is just another browser: everything it sends is checked
// here before the SDK acts on it, and anything malformed is dropped (and counted by the caller).
import { isBodyText, isCid, utf8Bytes } from './protocol.js';

/**
 * @typedef {{t: 'm', cid: string, from: string, body: string, ts: number}} PeerMessage
 * @typedef {{t: 'ping'|'pong', n: number}} PeerPing
 * @typedef {{t: 'typing', on: boolean}} PeerTyping
 */

/**
 * Parses one DataChannel message.
 * @param {unknown} data what the channel delivered
 * @param {{maxBodyBytes: number, from: string}} expect the body limit and the user the peer
 *   belongs to (a peer cannot speak for someone else)
 * @returns {PeerMessage | PeerPing | PeerTyping | null} null when it must be dropped
 */
export function parsePeerFrame(data, { maxBodyBytes, from }) {
  // Binary, or more than a body plus envelope could need: drop before parsing.
  if (typeof data !== 'string' || utf8Bytes(data) > maxBodyBytes + 1024) return null;
  let f;
  try {
    f = JSON.parse(data);
  } catch {
    return null;
  }
  if (f === null || typeof f !== 'object' || Array.isArray(f)) return null;
  if (f.t === 'ping' || f.t === 'pong') return Number.isSafeInteger(f.n) && f.n >= 0 ? { t: f.t, n: f.n } : null;
  if (f.t === 'typing') return typeof f.on === 'boolean' ? { t: 'typing', on: f.on } : null;
  if (f.t !== 'm') return null;
  if (!isCid(f.cid) || f.from !== from || !isBodyText(f.body) || utf8Bytes(f.body) > maxBodyBytes) return null;
  if (typeof f.ts !== 'number' || !Number.isFinite(f.ts) || f.ts < 0) return null;
  return { t: 'm', cid: f.cid, from: f.from, body: f.body, ts: f.ts };
}

/** @param {boolean} on */
export const encodePeerTyping = (on) => JSON.stringify({ t: 'typing', on });

/** @param {{cid: string, from: string, body: string, ts: number}} m */
export const encodePeerMessage = (m) => JSON.stringify({ t: 'm', cid: m.cid, from: m.from, body: m.body, ts: m.ts });
