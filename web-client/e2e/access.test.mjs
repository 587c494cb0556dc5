// Private rooms in Chromium: the app's backend makes a room private through the admin API (with
// SWITCHBOARD_ADMIN_TOKEN), users with token functions join, the owner
// manages members from the browser, and the SDK reacts to forbidden, role changes and removal.
// Needs the relay's access control and admin API (issue 13: the access and http work).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, startRelay, suiteOptions, until } from './harness.mjs';
import { startIssuer } from './jwt.mjs';

const opts = suiteOptions();
const ROOM = 'e2e-team';
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

describe('private rooms in Chromium', opts, () => {
  let issuer;
  let relay;
  let browser;
  const users = [];

  before(async () => {
    issuer = await startIssuer();
    relay = await startRelay({
      SWITCHBOARD_AUTH_JWKS_URL: issuer.jwksUrl, SWITCHBOARD_AUTH_ISSUER: issuer.iss, SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const u of users) await u.context.close();
    await browser?.close();
    await relay?.stop();
    await issuer?.close();
  });

  /** The app's backend: the admin API. */
  async function admin(method, path, body) {
    const res = await fetch(`${relay.base}/api/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res.status === 204 ? null : res.json();
  }

  /** A browser user whose SDK takes fresh tokens for `sub` from a function; connected, not joined. */
  async function openUser(sub, name) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('[page error]', err));
    await page.exposeFunction('mintToken', () => issuer.mint(sub, { name }));
    await page.goto(`${relay.base}/sdk/switchboard.js`); // the relay's origin
    await page.evaluate(async (ws) => {
      const sdk = await import('/sdk/switchboard.js');
      const t = (globalThis.t = { errors: [], msgs: [], roles: [], removed: [] });
      t.client = await sdk.connect(ws, { token: () => globalThis.mintToken(), storage: 'memory', p2p: false });
      t.client.on('error', (e) => t.errors.push(e.code));
      t.client.on('removed', (e) => t.removed.push({ room: e.room, reason: e.reason }));
    }, relay.ws);
    const user = { context, page };
    users.push(user);
    return user;
  }

  /** join() in the page: {visibility, role} of the room, or {error: code}. */
  const join = (page) => page.evaluate(async (room) => {
    const t = globalThis.t;
    try {
      t.room = await t.client.join(room);
    } catch (err) {
      return { error: err.code, joined: t.client.rooms.has(room) };
    }
    t.room.on('message', (m) => t.msgs.push(m.body));
    t.room.on('role', (r) => t.roles.push(r.role));
    return { visibility: t.room.visibility, role: t.room.role };
  }, ROOM);

  /** send() in the page: 'ok' once stored, or the error code it rejected with. */
  const send = (page, body) => page.evaluate(async (b) => {
    try {
      const room = globalThis.t.room;
      const m = await room.send(b);
      if (m.status !== 'stored') {
        // the same message object turns 'stored' (or 'failed') in an 'update'; 5 s bounds the wait
        await new Promise((resolve) => {
          const timer = setTimeout(done, 5000);
          const off = room.on('update', (u) => { if (u === m && (u.status === 'stored' || u.status === 'failed')) done(); });
          function done() { clearTimeout(timer); off(); resolve(); }
        });
      }
      return m.status === 'stored' ? 'ok' : m.status;
    } catch (err) {
      return err.code;
    }
  }, body);

  const inPage = (page, fn, arg) => page.evaluate(fn, arg);

  test('members read and write, others are refused; the owner manages members; removal and role changes reach the browser', async () => {
    await admin('PUT', `/rooms/${ROOM}`, { visibility: 'private' });
    await admin('PUT', `/rooms/${ROOM}/members/alice-id`, { role: 'owner' });
    await admin('PUT', `/rooms/${ROOM}/members/bob-id`, { role: 'member' });
    const alice = await openUser('alice-id', 'Alice');
    const bob = await openUser('bob-id', 'Bob');
    const carol = await openUser('carol-id', 'Carol');

    assert.deepEqual(await join(alice.page), { visibility: 'private', role: 'owner' });
    assert.deepEqual(await join(bob.page), { visibility: 'private', role: 'member' });
    // Not a member: join rejects with forbidden, and the SDK keeps no half-joined room.
    assert.deepEqual(await join(carol.page), { error: 'forbidden', joined: false });

    assert.equal(await send(bob.page, 'hi from bob'), 'ok');
    await until(alice.page, (b) => globalThis.t.msgs.includes(b), 'hi from bob');

    // The owner lets Carol read, from the browser; Carol's send is refused before it leaves.
    assert.deepEqual(await inPage(alice.page, () => globalThis.t.room.grant('carol-id', 'reader')), { room: ROOM, user: 'carol-id', role: 'reader' });
    assert.deepEqual(await join(carol.page), { visibility: 'private', role: 'reader' });
    assert.equal(await send(carol.page, 'may I?'), 'forbidden');
    assert.equal(await inPage(carol.page, () => globalThis.t.client.stats().outbox), 0);
    const list = await inPage(alice.page, () => globalThis.t.room.listMembers());
    assert.deepEqual(list, {
      room: ROOM, visibility: 'private',
      members: [{ user: 'alice-id', role: 'owner' }, { user: 'bob-id', role: 'member' }, { user: 'carol-id', role: 'reader' }],
    });
    // Managing members is for owners only.
    assert.equal(await inPage(bob.page, (r) => globalThis.t.client.members(r).then(() => 'ok', (e) => e.code), ROOM), 'forbidden');

    // The owner removes Bob while he is connected: his room is left at once, nothing more arrives.
    assert.deepEqual(await inPage(alice.page, () => globalThis.t.room.revoke('bob-id')), { room: ROOM, user: 'bob-id' });
    await until(bob.page, () => globalThis.t.removed.length === 1);
    assert.deepEqual(await inPage(bob.page, () => globalThis.t.removed), [{ room: ROOM, reason: 'removed' }]);
    assert.equal(await inPage(bob.page, () => globalThis.t.room.joined), false);
    assert.equal(await send(bob.page, 'still here?'), 'not_joined');
    assert.equal(await send(alice.page, 'after bob left'), 'ok');
    await until(carol.page, (b) => globalThis.t.msgs.includes(b), 'after bob left');
    assert.ok(!(await inPage(bob.page, () => globalThis.t.msgs)).includes('after bob left'));

    // The backend promotes Carol: a role frame, and her next send goes through.
    await admin('PUT', `/rooms/${ROOM}/members/carol-id`, { role: 'member' });
    await until(carol.page, () => globalThis.t.roles.includes('member'));
    assert.equal(await inPage(carol.page, () => globalThis.t.room.role), 'member');
    assert.equal(await send(carol.page, 'thanks!'), 'ok');
    await until(alice.page, (b) => globalThis.t.msgs.includes(b), 'thanks!');

    for (const u of [alice, carol]) assert.deepEqual(await inPage(u.page, () => globalThis.t.errors), []);
  });
});
