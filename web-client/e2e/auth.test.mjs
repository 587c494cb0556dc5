// Supabase-style auth in Chromium: the relay verifies ES256 JWTs against a JWKS this test serves on
// 127.0.0.1; each page's SDK gets a token FUNCTION returning short-lived tokens, and the tokens are
// renewed on the open socket (auth/authed) before they expire, without a reconnect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, startRelay, suiteOptions, until } from './harness.mjs';
import { es256Key, startIssuer } from './jwt.mjs';

const opts = suiteOptions();
/** Short enough that the test sees several refreshes and outlives the first token by far. */
const TTL_SECONDS = 6;

describe('auth with a token function in Chromium', opts, () => {
  let issuer;
  let relay;
  let browser;

  before(async () => {
    issuer = await startIssuer();
    relay = await startRelay({
      SWITCHBOARD_AUTH_JWKS_URL: issuer.jwksUrl,
      SWITCHBOARD_AUTH_ISSUER: issuer.iss,
      // No tolerance: a token not refreshed in time would be refused the moment it expires.
      SWITCHBOARD_AUTH_CLOCK_SKEW_SECONDS: '0',
      SWITCHBOARD_AUTH_EXPIRY_GRACE_MS: '1000',
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await relay?.stop();
    await issuer?.close();
  });

  /**
   * A page on the relay's origin whose SDK takes tokens from `mint` (called in Node through an
   * exposed function, as a page would call supabase.auth.getSession()); counts its WebSockets.
   */
  async function openUser(mint) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('[page error]', err));
    const user = { context, page, sockets: 0, minted: 0 };
    page.on('websocket', () => user.sockets++);
    await page.exposeFunction('mintToken', () => {
      user.minted++;
      return mint();
    });
    // Any document the relay serves gives the page its origin (a page fulfilled by the test would
    // count as a public address and be barred from loopback by Local Network Access checks).
    await page.goto(`${relay.base}/sdk/switchboard.js`);
    return user;
  }

  /** Connects the page's SDK with a token function; resolves with what connect() gave, or the error code. */
  function connectIn(page, room) {
    return page.evaluate(async ({ ws, room }) => {
      const sdk = await import('/sdk/switchboard.js');
      const t = (globalThis.t = { authed: [], errors: [], msgs: [], presence: [] });
      try {
        t.client = await sdk.connect(ws, { token: () => globalThis.mintToken(), storage: 'memory', p2p: false });
      } catch (err) {
        return { error: err.code };
      }
      t.client.on('authed', (a) => t.authed.push(a));
      t.client.on('error', (e) => t.errors.push(e.code));
      const welcome = { user: t.client.user, name: t.client.name, expiresAt: t.client.expiresAt };
      if (room) {
        t.room = await t.client.join(room);
        t.room.on('message', (m) => t.msgs.push(m.body));
        t.room.on('presence', (p) => t.presence.push(p));
      }
      return welcome;
    }, { ws: relay.ws, room });
  }

  const say = (page, body) => page.evaluate((b) => globalThis.t.room.send(b).then((m) => m.cid), body);

  test('two users chat while their tokens are refreshed on the open socket, past the first token\'s expiry', async () => {
    const room = 'e2e-auth';
    const alice = await openUser(() => issuer.mint('alice-id', { ttlSeconds: TTL_SECONDS, name: 'Alice', email: 'alice@example.com' }));
    const bob = await openUser(() => issuer.mint('bob-id', { ttlSeconds: TTL_SECONDS, email: 'bob@example.com' }));
    const a = await connectIn(alice.page, room);
    const b = await connectIn(bob.page, room);
    assert.equal(a.user, 'alice-id');
    assert.equal(a.name, 'Alice');
    assert.equal(b.user, 'bob-id');
    assert.ok(a.expiresAt > Date.now() && a.expiresAt <= Date.now() + TTL_SECONDS * 1000, `welcome.expiresAt ${a.expiresAt}`);
    assert.equal(b.name, 'bob', 'no user_metadata.name: the email\'s local part');
    // Display names travel: Bob learns Alice's from joined.names, Alice Bob's from presence.
    assert.equal(await bob.page.evaluate(() => globalThis.t.room.nameOf('alice-id')), 'Alice');
    await until(alice.page, () => globalThis.t.presence.some((p) => p.event === 'join' && p.user === 'bob-id' && p.name === 'bob'));
    assert.equal(await alice.page.evaluate(() => globalThis.t.room.peers()[0]?.name), 'bob');

    // Both outlive their first token (plus the grace) on the same socket, refreshing as they go.
    const outlived = a.expiresAt + 2000;
    await until(alice.page, (end) => Date.now() > end && globalThis.t.authed.length >= 2, outlived, 30_000);
    await until(bob.page, (end) => Date.now() > end && globalThis.t.authed.length >= 2, outlived, 30_000);

    await say(alice.page, '안녕 after the refresh 👋');
    await until(bob.page, (body) => globalThis.t.msgs.includes(body), '안녕 after the refresh 👋');
    await say(bob.page, 'and back');
    await until(alice.page, (body) => globalThis.t.msgs.includes(body), 'and back');

    for (const [who, u, first] of [['alice', alice, a], ['bob', bob, b]]) {
      const state = await u.page.evaluate(() => ({
        authed: globalThis.t.authed, errors: globalThis.t.errors, stats: globalThis.t.client.stats(),
        expiresAt: globalThis.t.client.expiresAt, state: globalThis.t.client.state,
      }));
      assert.equal(u.sockets, 1, `${who}: one WebSocket all along (no reconnect)`);
      assert.equal(state.stats.reconnects, 0, who);
      assert.equal(state.state, 'open', who);
      assert.deepEqual(state.errors, [], `${who}: no token_expired, no refusal`);
      assert.ok(u.minted >= 3, `${who}: the function was called on connect and for each refresh (${u.minted})`);
      const expiries = state.authed.map((x) => x.expiresAt);
      assert.ok(expiries.every((e, i) => e >= (i === 0 ? first.expiresAt : expiries[i - 1])), `${who}: expiries move forward ${expiries}`);
      assert.ok(state.expiresAt > first.expiresAt, who);
    }
    await alice.context.close();
    await bob.context.close();
  });

  test('a token signed by a key not in the JWKS is refused: the function is asked once more, then the client stops', async () => {
    const forger = es256Key(issuer.key.kid); // same kid, other key: the signature cannot verify
    const mallory = await openUser(() => issuer.mint('mallory', { ttlSeconds: 60, signWith: forger }));
    const result = await connectIn(mallory.page);
    assert.deepEqual(result, { error: 'unauthorized' });
    assert.equal(mallory.minted, 2);
    assert.equal(mallory.sockets, 2);
    await mallory.context.close();
  });
});
