// LZ-String use in one place: sync batches on the wire (base64) and bodies in the cache (UTF-16,
// the densest form IndexedDB stores as a string).
import LZString from 'lz-string';

/** Most items one `batch` frame carries. */
export const MAX_BATCH_ITEMS = 50;

/**
 * @param {{cid: string, body: string, ts?: number}[]} items 1–50 messages (`ts`: when the user sent it)
 * @returns {string} the `data` of a `batch{enc:'lz'}` frame
 */
export function encodeBatch(items) {
  if (items.length < 1 || items.length > MAX_BATCH_ITEMS) throw new RangeError(`batch of ${items.length} items`);
  return LZString.compressToBase64(JSON.stringify(items.map(({ cid, body, ts }) => (ts === undefined ? { cid, body } : { cid, body, ts }))));
}

/** Inverse of {@link encodeBatch} (the server's side; kept for tests and tools). */
export function decodeBatch(data) {
  const json = LZString.decompressFromBase64(data);
  if (!json) throw new Error('not an LZ-String base64 batch');
  return JSON.parse(json);
}

export const packBody = (body) => LZString.compressToUTF16(body);

/** Empty result or a decoding failure means a damaged cache entry: the caller drops it. */
export function unpackBody(packed) {
  const body = LZString.decompressFromUTF16(packed);
  return typeof body === 'string' && body.length > 0 ? body : null;
}
