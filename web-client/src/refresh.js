// When to refresh the connection's token: a pure function, so tests pin the schedule.

/**
 * How long before `expiresAt` the SDK sends `auth` with a fresh token. One minute: below
 * supabase-js's own refresh threshold (it renews a session about 90 s before expiry), so the
 * token function returns the renewed token by then, and well above clock skew between a browser
 * and the relay.
 */
export const DEFAULT_REFRESH_MARGIN_MS = 60_000;
/** Never sooner than this: a token that (by this clock) expired already is still refreshed, not in a tight loop. */
export const MIN_REFRESH_DELAY_MS = 1000;
/** setTimeout's largest delay (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Milliseconds from `now` until the refresh: `expiresAt − lead·(1 + random/2)`, where the lead is
 * the margin or half the remaining lifetime, whichever is shorter (a 20 s token refreshes after
 * 5–10 s). The jitter (up to half the lead again, earlier) keeps tabs and users that got tokens
 * together from refreshing in the same millisecond; the result is never in the past.
 * @param {number} expiresAt epoch ms (welcome/authed.expiresAt)
 * @param {number} now epoch ms
 * @param {number} [marginMs]
 * @param {() => number} [random] in [0, 1)
 */
export function refreshDelay(expiresAt, now, marginMs = DEFAULT_REFRESH_MARGIN_MS, random = Math.random) {
  const remaining = expiresAt - now;
  const lead = Math.min(marginMs, remaining / 2);
  // A token valid for longer than a timer can wait (a long guest TTL) is refreshed early: harmless.
  return Math.min(MAX_TIMER_MS, Math.max(MIN_REFRESH_DELAY_MS, Math.round(remaining - lead * (1 + random() / 2))));
}
