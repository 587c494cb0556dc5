// Issue 17: web-client/README.md's five-minute tour runs as written. The html block after the
// `tour-page` marker is served VERBATIM from a second HTTP server — another origin than the relay,
// as a real app is — to two Chromium users, against the relay jar with the README's defaults.
//
// One substitution: the README's relay address is localhost:8080. Other suites and other relays
// on this machine may hold 8080, so the relay takes a free port and only the port in the page's two
// `localhost:8080` URLs is replaced by it (the test fails if they are not both there).
//
// Network: as in localhost-p2p.test.mjs, the page's default P2P gathers this machine's host
// candidates; mDNS is off (flag and media permissions, harness.mjs), STUN goes to localhost and
// every connectivity check targets one of this machine's own addresses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newUser, startRelay, suiteOptions, until } from './harness.mjs';

const opts = suiteOptions();
const README_RELAY = 'localhost:8080';

/** The html code block that follows the `tour-page` marker comment in README.md, as written. */
function tourPage(readme) {
  const m = /<!-- tour-page:[^>]*-->\s*```html\n([\s\S]*?)\n```/.exec(readme);
  if (!m) throw new Error('README.md has no ```html block after a <!-- tour-page: … --> marker');
  return m[1];
}

describe('README five-minute tour in Chromium, from another origin', opts, () => {
  let relay;
  let browser;
  let server;
  let origin;
  let page;
  let requests = 0;

  before(async () => {
    const verbatim = tourPage(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    assert.equal(verbatim.split(README_RELAY).length - 1, 2, `the tour names ${README_RELAY} twice (SDK import and WebSocket)`);
    relay = await startRelay({}, { readmeDefaults: true });
    page = verbatim.replaceAll(README_RELAY, `localhost:${relay.port}`);
    server = createServer((req, res) => {
      requests++;
      if (req.url === '/favicon.ico') return res.writeHead(204).end(); // the browser's own request: not a console error
      if (req.url !== '/tour.html') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    });
    await new Promise(r => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${server.address().port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await new Promise(r => (server ? server.close(r) : r()));
    await relay?.stop();
  });

  /** A new guest (own profile) on the tour page; resolves once it is connected and joined. */
  async function openTour() {
    const user = await newUser(browser, relay, origin);
    user.problems = [];
    user.page.on('console', msg => { if (msg.type() === 'error' || msg.type() === 'warning') user.problems.push(msg.text()); });
    user.page.on('pageerror', err => user.problems.push(String(err)));
    await user.page.goto('/tour.html');
    user.id = await until(user.page, () => /^u-/.test(document.getElementById('me').textContent)
      && document.getElementById('state').textContent === 'open'
      && document.getElementById('me').textContent, null, 20_000);
    return user;
  }

  const here = (page) => page.$eval('#here', el => el.textContent.split(', ').filter(Boolean));
  const lines = (page) => page.$$eval('#messages li', els => els.map(el => el.textContent));

  test('two guests see each other, chat, and see the other leave', async () => {
    assert.notEqual(new URL(origin).port, String(relay.port), 'the page and the relay are two origins');
    const alice = await openTour();
    const bob = await openTour();
    assert.notEqual(alice.id, bob.id, 'two profiles are two guests');

    // Presence: each lists both users (Alice learns of Bob from a presence join).
    for (const user of [alice, bob]) {
      await until(user.page, ids => ids.every(id => document.getElementById('here').textContent.includes(id)),
        [alice.id, bob.id]);
    }

    // Alice types and presses Enter: her own line shows as "me", Bob's shows her user id.
    await alice.page.fill('#text', '안녕 👋 from the tour');
    await alice.page.press('#text', 'Enter');
    await until(bob.page, t => [...document.querySelectorAll('#messages li')].some(li => li.textContent.endsWith(`: ${t}`)),
      '안녕 👋 from the tour');
    assert.deepEqual(await lines(bob.page), [`${alice.id}: 안녕 👋 from the tour`]);
    await until(alice.page, () => document.querySelector('#messages li')?.title.startsWith('stored'));
    assert.deepEqual(await lines(alice.page), ['me: 안녕 👋 from the tour']);
    assert.equal(await alice.page.$eval('#text', el => el.value), '', 'the input is cleared after sending');

    // And back: Bob's reply comes after Alice's line on both screens.
    await bob.page.fill('#text', 'hi <b>Alice</b>');
    await bob.page.click('#form button');
    await until(alice.page, () => document.querySelectorAll('#messages li').length === 2);
    assert.deepEqual(await lines(alice.page), ['me: 안녕 👋 from the tour', `${bob.id}: hi <b>Alice</b>`]);
    assert.equal(await alice.page.$$eval('#messages b', els => els.length), 0, 'bodies are text, never HTML');

    // Bob leaves: Alice's "here" list drops him on the presence leave.
    await bob.context.close();
    await until(alice.page, id => !document.getElementById('here').textContent.includes(id), bob.id);
    assert.deepEqual(await here(alice.page), [alice.id]);

    assert.deepEqual(alice.problems, [], 'no console error or warning on the tour page (a CORS refusal shows here)');
    assert.deepEqual(bob.problems, []);
    assert.ok(requests >= 2, 'the pages came from the second server');
    await alice.context.close();
  });
});
