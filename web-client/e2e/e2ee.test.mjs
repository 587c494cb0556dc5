// Issue 18 in Chromium: end-to-end encrypted rooms against the real relay jar. Two members chat in
// an encrypted room over the relay and over DataChannels; then the whole database (every table as
// text, as pg_dump would show it), the relay's stdout/stderr and /metrics are searched for the
// texts' markers: none may appear, the sealed `e1.` bodies must (and a control text in a plain room
// must). A third member gets the key from a member, wrapped over `signal` (the raw key is in no frame,
// row or log line), and reads old and new messages; a revoked member sees nothing after the owner rotates (no
// frame it receives names the new key); a ciphertext byte changed in the database shows as
// 'tampered' to a fresh client paging history after a restart (memory no longer serves it). Last,
// the demo: its owner clicks "Encrypt this room", both users see the lock and each other's text; in a
// room the backend created encrypted, the owner clicks "Create the room key" and a member can send.
//
// The database is the relay's embedded Postgres, reached with Debian's psql (postgresql-client, in
// .ci/run) on a port the test picks, with the password the relay keeps in <dataDir>/pg-password.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newUser, startRelay, suiteOptions, until } from './harness.mjs';
import { startIssuer } from './jwt.mjs';

const opts = suiteOptions();
const ADMIN_TOKEN = 'e2e-e2ee-admin-token-0123456789';
const RELAYED = 'e2ee-relayed';
const DIRECT = 'e2ee-direct';
/** What the contract lets the relay store in an encrypted room: e1.<keyId>.<b64url(iv||ct)>. */
const SEALED = /^e1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{38,}$/;
/** Unique per run, so a hit can only be this run's plaintext. */
const MARK = `zq${randomUUID().replace(/-/g, '').slice(0, 12)}`;

async function freePort() {
  const server = createServer();
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise(resolve => server.close(resolve));
  return port;
}

describe('end-to-end encrypted rooms in Chromium', opts, () => {
  let issuer;
  let relay;
  let pgPort;
  let browser;
  const users = [];
  const env = () => ({
    SWITCHBOARD_AUTH_JWKS_URL: issuer.jwksUrl, SWITCHBOARD_AUTH_ISSUER: issuer.iss, SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
    SWITCHBOARD_STORE_EMBEDDED_PORT: String(pgPort),
    SWITCHBOARD_AUTH_GUESTS: 'true', // the demo's users are guests
    SWITCHBOARD_LOG_LEVEL: 'DEBUG', // the most the relay ever prints: still no body
  });

  before(async () => {
    issuer = await startIssuer();
    pgPort = await freePort();
    relay = await startRelay(env(), { keepLog: true });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const u of users) await u.context.close();
    await browser?.close();
    await relay?.stop();
    await issuer?.close();
  });

  /** SQL on the relay's embedded Postgres as its superuser; rows as tab-separated text. */
  function sql(query) {
    const password = readFileSync(`${relay.dataDir}/pg-password`, 'utf8').trim();
    return execFileSync('psql', ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres', '-d', 'postgres',
      '-X', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', query], {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' }, encoding: 'utf8', maxBuffer: 64 << 20,
    });
  }

  /**
   * The rows of `query` once there are `n` (the relay fans a message out before its write queue
   * commits it), as arrays of columns.
   */
  async function rowsWhenStored(query, n) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const rows = sql(query).split('\n').filter(Boolean).map(line => line.split('\t'));
      if (rows.length >= n || Date.now() > deadline) return rows;
      await new Promise(resolve => setTimeout(resolve, 100)); // polling the database: no event to await
    }
  }

  /** Every row of every table of the database as text (what a dump of it would contain). */
  function dumpDatabase() {
    return sql(`SELECT table_schema || '.' || table_name || E'\\n'
        || query_to_xml(format('SELECT * FROM %I.%I', table_schema, table_name), true, false, '')::text
      FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`);
  }

  async function admin(method, path, body) {
    const res = await fetch(`${relay.base}/api/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res.status === 204 ? null : res.json();
  }

  /**
   * A browser user (its own profile) with the SDK connected as `sub` and joined to `room`. The page
   * keeps `globalThis.t`: the room, every msg/update seen, and every frame the relay sent it (to
   * prove what never reached it).
   */
  async function openUser(sub, room, { p2p = false } = {}) {
    const context = await browser.newContext({ baseURL: relay.base });
    await context.grantPermissions(['camera', 'microphone'], { origin: relay.base });
    const page = await context.newPage();
    page.on('pageerror', err => console.error(`[page error ${sub}]`, err));
    await page.exposeFunction('mintToken', () => issuer.mint(sub, { name: sub.replace(/-id$/, '') }));
    await page.goto('/sdk/switchboard.js');
    await page.evaluate(async ({ ws, room, p2p }) => {
      const sdk = await import('/sdk/switchboard.js');
      const frames = [];
      class RecordingSocket extends WebSocket {
        constructor(url, protocols) {
          super(url, protocols);
          this.addEventListener('message', e => frames.push(String(e.data)));
        }
      }
      const t = (globalThis.t = { frames, errors: [], removed: [] });
      t.client = await sdk.connect(ws, {
        token: () => globalThis.mintToken(), storage: 'memory', p2p, WebSocket: RecordingSocket,
        iceCandidateFilter: c => !c.candidate || / 127\.0\.0\.1 /.test(c.candidate),
      });
      t.client.on('error', e => t.errors.push(e.code));
      t.client.on('removed', e => t.removed.push(e.room));
      t.room = await t.client.join(room);
      /** What the page would show: each message's text and how it opened. */
      t.shown = () => t.room.messages.map(m => ({
        cid: m.cid, seq: m.seq, from: m.from, body: m.body, encrypted: m.encrypted === true, undecryptable: m.undecryptable ?? null,
      }));
      t.send = async body => {
        const m = await t.room.send(body);
        return { cid: m.cid, path: m.path };
      };
    }, { ws: relay.ws, room, p2p });
    const user = { sub, context, page };
    users.push(user);
    return user;
  }

  const inPage = (user, fn, arg) => user.page.evaluate(fn, arg);

  /** Waits until `user` shows `text` as an opened (decrypted) message. */
  const reads = (user, text, timeout) => until(user.page,
    b => globalThis.t.shown().some(m => m.body === b && m.encrypted && !m.undecryptable), text, timeout);

  /** Waits until every message `user` has is stored with a seq. */
  const allStored = (user, n) => until(user.page,
    k => globalThis.t.room.messages.length >= k && globalThis.t.room.messages.every(m => m.seq != null), n, 20_000);

  const members = {};

  test('two members chat sealed over the relay and over P2P; database, logs and metrics hold no plaintext', async () => {
    for (const room of [RELAYED, DIRECT]) {
      await admin('PUT', `/rooms/${room}`, { visibility: 'private' });
      await admin('PUT', `/rooms/${room}/members/alice-id`, { role: 'owner' });
      await admin('PUT', `/rooms/${room}/members/bob-id`, { role: 'member' });
    }
    // Over the relay: p2p off on both sides.
    const alice = (members.alice = await openUser('alice-id', RELAYED));
    const bob = (members.bob = await openUser('bob-id', RELAYED));
    assert.equal(await inPage(alice, () => globalThis.t.room.encrypted), false);
    await inPage(alice, r => globalThis.t.client.encrypt(r), RELAYED);
    await until(alice.page, () => globalThis.t.room.encrypted && globalThis.t.room.keyId != null);
    await until(bob.page, () => globalThis.t.room.encrypted === true);
    // Bob has no key until a member wraps it for him; his sends wait in the outbox until then.
    const relayed = [];
    for (let i = 0; i < 6; i++) {
      const [from, to] = i % 2 ? [bob, alice] : [alice, bob];
      const text = `${MARK} relayed ${i} ${'안녕 '.repeat(i * 7)}`;
      const sent = await inPage(from, b => globalThis.t.send(b), text);
      relayed.push({ text, ...sent });
      await reads(to, text);
    }
    assert.deepEqual(relayed.map(s => s.path), Array(6).fill('relay'));
    await allStored(alice, 6);
    await allStored(bob, 6);
    // An edit is sealed too: bob rewrites his first message, alice reads the new text.
    const edited = `${MARK} relayed 1, edited`;
    await inPage(bob, async ({ cid, body }) => {
      const m = globalThis.t.room.messages.find(x => x.cid === cid);
      await globalThis.t.room.edit(m, body);
    }, { cid: relayed[1].cid, body: edited });
    await until(alice.page, ({ cid, body }) => globalThis.t.shown().some(m => m.cid === cid && m.body === body), { cid: relayed[1].cid, body: edited });
    relayed[1].text = edited;

    // Over P2P: the same two users, p2p on, in the second room, encrypted before anyone sends.
    const alice2 = await openUser('alice-id', DIRECT, { p2p: true });
    const bob2 = await openUser('bob-id', DIRECT, { p2p: true });
    await inPage(alice2, r => globalThis.t.client.encrypt(r), DIRECT);
    for (const u of [alice2, bob2]) {
      await until(u.page, () => globalThis.t.room.peers().length === 1 && globalThis.t.room.peers()[0].path === 'p2p', null, 20_000);
    }
    await until(bob2.page, () => globalThis.t.room.keyId != null);
    const direct = [];
    for (let i = 0; i < 6; i++) {
      const [from, to] = i % 2 ? [bob2, alice2] : [alice2, bob2];
      const text = `${MARK} direct ${i}`;
      const sent = await inPage(from, b => globalThis.t.send(b), text);
      direct.push({ text, ...sent });
      await reads(to, text);
    }
    assert.deepEqual(direct.map(s => s.path), Array(6).fill('p2p'));
    for (const u of [alice2, bob2]) {
      assert.deepEqual(await inPage(u, () => globalThis.t.client.stats().received), { p2p: 3, turn: 0, relay: 0 });
      await allStored(u, 6); // the DataChannel messages reached the relay in (sealed) batches
    }

    // What the relay kept: sealed bodies only.
    const stored = await rowsWhenStored(`SELECT room, body FROM messages WHERE room IN ('${RELAYED}', '${DIRECT}') ORDER BY room, seq`, 12);
    assert.equal(stored.length, 12);
    for (const [room, body] of stored) assert.match(body, SEALED, `${room} stored ${body}`);
    // Padded to buckets: the short and the long relayed texts are stored at sizes of few lengths.
    const lengths = new Set(stored.map(([, body]) => body.length));
    assert.ok(lengths.size < stored.length, `bodies padded to buckets, lengths ${[...lengths]}`);

    // A control: the same search finds text sent into a room that is not encrypted.
    const control = `${MARK.toUpperCase()} in the clear`;
    const { cid: controlCid } = await inPage(alice, async b => {
      const plain = await globalThis.t.client.join('e2ee-plain');
      const m = await plain.send(b);
      return { cid: m.cid };
    }, control);
    await rowsWhenStored(`SELECT body FROM messages WHERE cid = '${controlCid}'`, 1);
    const dump = dumpDatabase();
    assert.ok(dump.includes(control), 'the search finds plaintext where there is some');
    assert.ok(dump.includes('e1.'), 'the dump holds the sealed bodies');
    assert.ok(!dump.includes(MARK), 'the database holds no plaintext');
    for (const s of [...relayed, ...direct]) assert.ok(!dump.includes(s.text.trim()));
    // With an admin token set, the admin port's /metrics wants it too.
    const metrics = await (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    assert.ok(metrics.includes('switchboard_'), 'metrics were read');
    assert.ok(!metrics.includes(MARK), 'the metrics hold no plaintext');
    assert.ok(!relay.output().includes(MARK), 'the relay printed no plaintext');
    for (const u of [alice, bob, alice2, bob2]) assert.deepEqual(await inPage(u, () => globalThis.t.errors), []);
    // Both sides see every text in clear, in one order.
    const seen = await inPage(bob, () => globalThis.t.shown().map(m => m.body));
    assert.deepEqual(seen, relayed.map(s => s.text));
  });

  test('a third member gets the key from a member and reads old and new messages', async () => {
    assert.ok(members.alice, 'runs after the chat test');
    await admin('PUT', `/rooms/${RELAYED}/members/carol-id`, { role: 'member' });
    const carol = (members.carol = await openUser('carol-id', RELAYED));
    await until(carol.page, () => globalThis.t.room.encrypted && globalThis.t.room.keyId != null);
    // The history she joined with opens once the wrapped key arrived (held messages get an update).
    await until(carol.page, () => {
      const shown = globalThis.t.shown();
      return shown.length === 6 && shown.every(m => m.encrypted && !m.undecryptable && m.body !== '');
    });
    const text = `${MARK} carol's first`;
    await inPage(carol, b => globalThis.t.send(b), text);
    for (const u of [members.alice, members.bob]) await reads(u, text);
    const reply = `${MARK} welcome carol`;
    await inPage(members.bob, b => globalThis.t.send(b), reply);
    await reads(carol, reply);
    // The key came from a member over `signal`, wrapped: the raw room key (as an invite link would
    // carry it) is in no frame the relay passed to carol, nor in its database or output.
    const carolFrames = await inPage(carol, () => globalThis.t.frames);
    assert.ok(carolFrames.some(f => f.includes('"t":"signal"') && f.includes('"e2ee"') && f.includes('"keys"')), 'a wrapped key over signal');
    const fragment = await inPage(members.alice, () => globalThis.t.room.inviteKey());
    const rawKey = fragment.split('.').at(-1);
    assert.match(rawKey, /^[A-Za-z0-9_-]{43}$/, `raw 32-byte key in ${fragment}`);
    assert.ok(!carolFrames.some(f => f.includes(rawKey)), 'the relay never carried the raw key');
    const dump = dumpDatabase();
    assert.ok(!dump.includes(rawKey) && !relay.output().includes(rawKey));
    assert.ok(!dump.includes(MARK));
    assert.ok(!relay.output().includes(MARK));
  });

  test('a revoked member cannot read what is sent after the owner rotates the key', async () => {
    const { alice, bob, carol } = members;
    assert.ok(carol, 'runs after the third-member test');
    const oldKey = await inPage(alice, () => globalThis.t.room.keyId);
    assert.deepEqual(await inPage(alice, () => globalThis.t.room.revoke('bob-id')), { room: RELAYED, user: 'bob-id' });
    await until(bob.page, r => globalThis.t.removed.includes(r), RELAYED);
    const newKey = await inPage(alice, () => globalThis.t.room.rotateKey());
    assert.ok(newKey && newKey !== oldKey, `a new key id (${oldKey} → ${newKey})`);
    await until(carol.page, k => globalThis.t.room.keyId === k, newKey);
    const secret = `${MARK} after bob left`;
    const { cid } = await inPage(alice, b => globalThis.t.send(b), secret);
    await reads(carol, secret);
    const [[body]] = await rowsWhenStored(`SELECT body FROM messages WHERE room = '${RELAYED}' AND cid = '${cid}'`, 1);
    assert.ok(body.startsWith(`e1.${newKey}.`), `sealed with the new key: ${body}`);
    // Bob: never shown, and nothing the relay sent him after the rotation names the new key (no
    // wrapped key for it, no message sealed with it).
    assert.ok(!(await inPage(bob, () => globalThis.t.shown().map(m => m.body))).includes(secret));
    const bobFrames = await inPage(bob, () => globalThis.t.frames);
    const named = f => f.includes(`e1.${newKey}.`) || f.includes(`"id":"${newKey}"`) || f.includes(`\\"id\\":\\"${newKey}\\"`);
    assert.ok(!bobFrames.some(named), 'no frame to the revoked member carries the new key');
    // (The same search finds the new key in what the relay sent a member, so it can find it at all.)
    assert.ok((await inPage(carol, () => globalThis.t.frames)).some(named), 'carol got the new key and message');
    assert.ok(!bobFrames.some(f => f.includes(body)));
    // Old messages stay readable to those who had the old key.
    const bobsOld = await inPage(bob, () => globalThis.t.shown());
    assert.ok(bobsOld.length >= 6 && bobsOld.slice(0, 6).every(m => m.encrypted && !m.undecryptable));
  });

  test('a ciphertext byte changed in the database shows as tampered to a fresh client', async () => {
    const { alice, carol } = members;
    assert.ok(carol, 'runs after the rotation test');
    const victim = `${MARK} to be tampered`;
    const { cid } = await inPage(alice, b => globalThis.t.send(b), victim);
    const intact = `${MARK} left alone`;
    await inPage(alice, b => globalThis.t.send(b), intact);
    await allStored(alice, 11); // 6 relayed, carol's, bob's reply, the secret, these two
    const [[body]] = await rowsWhenStored(`SELECT body FROM messages WHERE room = '${RELAYED}' AND cid = '${cid}'`, 1);
    assert.match(body, SEALED);
    // One base64url character in the middle of iv||ciphertext changed: 6 bits of one byte flip.
    const at = body.lastIndexOf('.') + 1 + Math.floor((body.length - body.lastIndexOf('.')) / 2);
    const tampered = body.slice(0, at) + (body[at] === 'A' ? 'B' : 'A') + body.slice(at + 1);
    assert.equal(sql(`UPDATE messages SET body = '${tampered}' WHERE room = '${RELAYED}' AND cid = '${cid}' RETURNING seq`).trim().length > 0, true);

    // Recent messages come from the relay's memory: restart it on its data (and ports, so the open
    // pages reconnect) so the fresh client's history is read from the database.
    const { port, adminPort, dataDir } = relay;
    await relay.stop({ keepData: true });
    relay = await startRelay({
      ...env(), SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: String(port), SWITCHBOARD_ADMIN_PORT: String(adminPort),
    }, { keepLog: true });
    await until(alice.page, () => globalThis.t.client.state === 'open' && globalThis.t.room.joined, null, 30_000);

    await admin('PUT', `/rooms/${RELAYED}/members/dave-id`, { role: 'member' });
    const dave = await openUser('dave-id', RELAYED);
    await until(dave.page, () => globalThis.t.room.keyId != null, null, 20_000);
    // Page back until the whole room is there (it fits in the first page, but to be sure).
    await inPage(dave, async () => {
      for (let i = 0; i < 5 && globalThis.t.room.window.hasOlder; i++) await globalThis.t.room.loadOlder();
    });
    await until(dave.page, n => globalThis.t.shown().length >= n, 11);
    const shown = await inPage(dave, () => globalThis.t.shown());
    const hit = shown.find(m => m.cid === cid);
    assert.ok(hit, `dave shows the tampered message: ${JSON.stringify(shown.map(m => m.cid))}`);
    assert.equal(hit.undecryptable, 'tampered');
    assert.equal(hit.body, '', 'no garbage in place of the text');
    assert.ok(shown.some(m => m.body === intact && !m.undecryptable), 'the untouched message next to it opens');
    assert.ok(!shown.some(m => m.body === victim));
    // The page did not crash and keeps working.
    const after = `${MARK} still fine`;
    await inPage(dave, b => globalThis.t.send(b), after);
    await reads(alice, after);
  });

  test('the demo: an owner encrypts the room, members chat in clear on screen, sealed on the server', async () => {
    const room = 'e2ee-demo';
    const open = async () => {
      const user = await newUser(browser, relay);
      users.push(user);
      await user.page.goto(`/?ice=loopback#${room}`);
      await user.page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      await until(user.page, r => globalThis.switchboardDemo.client.rooms.get(r)?.joined === true, room);
      return user;
    };
    const alice = await open();
    const bob = await open(); // in the room before it is encrypted
    const aliceId = await alice.page.evaluate(() => globalThis.switchboardDemo.client.user);
    // The app's backend makes her the room's owner (guests own nothing by themselves).
    await admin('PUT', `/rooms/${room}/members/${encodeURIComponent(aliceId)}`, { role: 'owner' });
    await alice.page.waitForSelector('#encrypt:not([hidden])');
    assert.equal(await alice.page.isHidden('#lock'), true);
    await alice.page.click('#encrypt');
    await alice.page.waitForSelector('#lock:not([hidden])');
    await alice.page.waitForSelector('#encrypt', { state: 'hidden' });
    assert.equal(await bob.page.isHidden('#encrypt'), true, 'not an owner');
    const carol = await open(); // joins the encrypted room
    await carol.page.waitForSelector('#lock:not([hidden])');
    assert.equal(await carol.page.getAttribute(`#rooms li[data-room="${room}"]`, 'data-encrypted'), 'true');

    const say = async (from, to, text) => {
      await from.page.fill('#text', text);
      await from.page.press('#text', 'Enter');
      for (const u of [from, to]) {
        await until(u.page, b => [...document.querySelectorAll('#canvas .row .bubble')].some(el => el.textContent === b), text, 20_000);
      }
    };
    await say(alice, bob, `${MARK} demo hello`);
    await bob.page.waitForSelector('#lock:not([hidden])'); // at the latest with the first sealed message
    await say(bob, alice, `${MARK} demo hi alice`);
    await until(carol.page, b => [...document.querySelectorAll('#canvas .row .bubble')].some(el => el.textContent === b), `${MARK} demo hi alice`);
    for (const u of [alice, bob, carol]) {
      assert.equal(await u.page.$$eval('#canvas .row.undecryptable', rows => rows.length), 0);
    }
    const bodies = await rowsWhenStored(`SELECT body FROM messages WHERE room = '${room}' ORDER BY seq`, 2);
    assert.equal(bodies.length, 2);
    for (const [body] of bodies) assert.match(body, SEALED);
    assert.ok(!dumpDatabase().includes(MARK));
    assert.ok(!relay.output().includes(MARK));
  });

  test('the demo: a room the backend created encrypted gets its first key from its owner', async () => {
    const room = 'e2ee-demo-backend';
    const open = async () => {
      const user = await newUser(browser, relay);
      users.push(user);
      await user.page.goto(`/?ice=loopback#${room}`);
      await user.page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      await until(user.page, r => globalThis.switchboardDemo.client.rooms.get(r)?.joined === true, room);
      return user;
    };
    const owner = await open();
    const ownerId = await owner.page.evaluate(() => globalThis.switchboardDemo.client.user);
    await admin('PUT', `/rooms/${room}`, { encrypted: true });
    await admin('PUT', `/rooms/${room}/members/${encodeURIComponent(ownerId)}`, { role: 'owner' });
    await owner.page.waitForSelector('#lock:not([hidden])');
    await until(owner.page, () => {
      const b = document.getElementById('encrypt');
      return !b.hidden && b.textContent === 'Create the room key';
    });
    await owner.page.click('#encrypt');
    await owner.page.waitForSelector('#encrypt', { state: 'hidden' });
    const member = await open();
    await member.page.waitForSelector('#lock:not([hidden])');
    const text = `${MARK} backend-made room`;
    await member.page.fill('#text', text);
    await member.page.press('#text', 'Enter');
    await until(owner.page, b => [...document.querySelectorAll('#canvas .row .bubble')].some(el => el.textContent === b), text, 20_000);
    const [[body]] = await rowsWhenStored(`SELECT body FROM messages WHERE room = '${room}'`, 1);
    assert.match(body, SEALED);
  });
});
