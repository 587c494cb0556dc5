// Issue 17's "done when", in the demo: two Chromium users chat with names, see KakaoTalk's unread
// number fall as the other reads, see each other typing, edit, delete and react — over the relay
// and over DataChannels.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newUser, startRelay, suiteOptions, until } from './harness.mjs';

const opts = suiteOptions();
const ADMIN_TOKEN = 'e2e-demo-admin-token-0123456789';

/** A new user on the demo page showing `room`, who saved `name` (unless null) in the name field. */
async function person(browser, relay, name, room, query) {
  const user = await newUser(browser, relay);
  const { page } = user;
  await page.goto(`/?${new URLSearchParams(query)}#${room}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  if (name) {
    await page.fill('#name', name);
    await page.press('#name', 'Enter'); // saved, and the page reconnects with it
    await page.waitForFunction(n => document.getElementById('me').textContent.includes(n), name, { timeout: 20_000 });
    await page.waitForSelector('body[data-ready="true"]');
  }
  await until(page, r => globalThis.switchboardDemo.client.rooms.get(r)?.joined === true, room);
  return user;
}

/** What the row of message `cid` shows, or null when it is not on screen. */
function row(page, cid) {
  return page.evaluate(c => {
    const el = [...document.querySelectorAll('#canvas .row')].find(r => r.dataset.cid === c);
    if (!el) return null;
    // The yellow number is the row's ::after (its content: the data attribute, absent at 0).
    const after = getComputedStyle(el, '::after').content;
    return {
      body: el.querySelector('.bubble').textContent, meta: el.dataset.meta, mine: el.classList.contains('mine'),
      seq: el.dataset.seq, deleted: el.classList.contains('deleted'), edited: / · \(edited\)/.test(el.dataset.meta),
      notRead: el.dataset.notRead ?? '', notReadShown: after !== 'none' && after !== '""' && after !== 'normal',
      menu: el.dataset.menu === 'true',
      chips: [...el.querySelectorAll('.chip')].map(c => `${c.textContent}${c.getAttribute('aria-pressed') === 'true' ? '*' : ''}`),
    };
  }, cid);
}

/** Waits until the row of `cid` satisfies `check` (a predicate over row(); source string for the page). */
async function rowUntil(page, cid, check, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await row(page, cid);
    if (last && check(last)) return last;
    await new Promise(r => setTimeout(r, 50));
  }
  assert.fail(`row ${cid} never matched ${check}: ${JSON.stringify(last)}`);
}

async function send(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  const cid = await until(page, b => [...document.querySelectorAll('#canvas .row')]
    .find(r => r.querySelector('.bubble').textContent === b)?.dataset.cid, text);
  return cid;
}

async function menu(page, cid, action) {
  await page.click(`#canvas .row[data-cid="${cid}"] .bubble`);
  await page.waitForSelector('#menu:not([hidden])');
  await page.click(action);
  await page.waitForSelector('#menu', { state: 'hidden' });
}

function badge(page, room) {
  return page.$eval(`#rooms li[data-room="${room}"] .unread`, el => el.textContent);
}

function typingLine(page) {
  return page.$eval('#typing', el => el.textContent);
}

describe('demo chat with names, read numbers, typing, edit, delete, react', opts, () => {
  let relay;
  let browser;

  before(async () => {
    relay = await startRelay({ SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await relay?.stop();
  });

  test('a room\'s unread badge is per user: reading in one tab clears it in the other', async () => {
    const room = 'e2e-tabs';
    const side = 'e2e-tabs-side';
    const ada = await person(browser, relay, null, room, { p2p: 'off' });
    // Bob's two tabs share one profile, so one guest user: both hold the room in the background.
    const bob1 = await person(browser, relay, null, room, { p2p: 'off' });
    await bob1.page.fill('#join-room', side);
    await bob1.page.press('#join-room', 'Enter');
    await until(bob1.page, s => document.getElementById('room-title').textContent === s, side);
    const bob2 = await bob1.context.newPage();
    await bob2.goto(`/?p2p=off#${side}`);
    await bob2.waitForSelector('body[data-ready="true"]');
    await until(bob2, r => globalThis.switchboardDemo.client.rooms.get(r)?.joined === true, room);
    assert.equal(await bob2.evaluate(() => globalThis.switchboardDemo.client.user),
      await bob1.page.evaluate(() => globalThis.switchboardDemo.client.user));

    await send(ada.page, 'for both tabs');
    for (const page of [bob1.page, bob2]) {
      await until(page, r => document.querySelector(`#rooms li[data-room="${r}"] .unread`)?.textContent === '1', room);
    }
    await bob1.page.click(`#rooms li[data-room="${room}"]`);
    for (const page of [bob1.page, bob2]) {
      await until(page, r => document.querySelector(`#rooms li[data-room="${r}"] .unread`)?.textContent === '', room);
    }
    await ada.context.close();
    await bob1.context.close();
  });

  for (const transport of ['relay', 'p2p']) {
    test(`names, read numbers that fall as the other reads, typing (${transport})`, async () => {
      const room = `e2e-reads-${transport}`;
      const side = `e2e-side-${transport}`;
      const query = transport === 'p2p' ? { ice: 'loopback' } : { p2p: 'off' };
      const ada = await person(browser, relay, 'Ada', room, query);
      const bob = await person(browser, relay, 'Bob', room, query);
      if (transport === 'p2p') {
        for (const u of [ada, bob]) await until(u.page, () => document.querySelector('#peers li')?.dataset.path === 'p2p', null, 20_000);
      }
      // Names in the member list.
      await until(ada.page, () => document.getElementById('peers').textContent.includes('Bob'));
      await until(bob.page, () => document.getElementById('peers').textContent.includes('Ada'));

      // Bob looks at another room: the chat room is in the background for him.
      await bob.page.fill('#join-room', side);
      await bob.page.press('#join-room', 'Enter');
      await until(bob.page, s => document.getElementById('room-title').textContent === s, side);

      // Ada writes: a yellow 1 (Bob has not read it), a badge on Bob's room list.
      const hello = await send(ada.page, 'hello Bob');
      let r = await rowUntil(ada.page, hello, x => x.seq !== '' && x.notRead === '1');
      assert.ok(r.notReadShown && r.mine, JSON.stringify(r));
      await until(bob.page, n => document.querySelector(`#rooms li[data-room="${n}"] .unread`)?.textContent === '1', room);
      // Bob opens the room: he reads it, Ada's number falls to hidden, Bob's badge empties.
      await bob.page.click(`#rooms li[data-room="${room}"]`);
      r = await rowUntil(bob.page, hello, x => x.seq !== '');
      assert.match(r.meta, /^Ada · /);
      assert.equal(r.mine, false);
      r = await rowUntil(ada.page, hello, x => x.notRead === '');
      assert.equal(r.notReadShown, false);
      await until(bob.page, n => document.querySelector(`#rooms li[data-room="${n}"] .unread`)?.textContent === '', room);
      assert.equal(await badge(bob.page, room), '');

      // Typing, both ways of stopping: emptied field and sent message.
      await bob.page.focus('#text');
      await bob.page.keyboard.type('hi');
      await until(ada.page, () => document.getElementById('typing').textContent === 'Bob is typing…');
      await bob.page.fill('#text', '');
      await until(ada.page, () => document.getElementById('typing').textContent === '');
      await bob.page.keyboard.type('hi A');
      await until(ada.page, () => document.getElementById('typing').textContent === 'Bob is typing…');
      assert.equal(await typingLine(bob.page), '', 'nobody else typing on Bob\'s screen');
      const hi = await send(bob.page, 'hi Ada');
      await until(ada.page, () => document.getElementById('typing').textContent === '');
      r = await rowUntil(ada.page, hi, x => x.seq !== '');
      assert.match(r.meta, /^Bob · /);
      // Ada is in the room and at the bottom: she read it, Bob's number falls.
      await rowUntil(bob.page, hi, x => x.seq !== '' && x.notRead === '');

      // A reload keeps the names (own from welcome, others' on the cached and replayed messages).
      await bob.page.reload();
      await bob.page.waitForSelector('#conn[data-state="open"]', { timeout: 20_000 });
      await until(bob.page, () => document.getElementById('me').textContent.includes('Bob'));
      assert.match((await rowUntil(bob.page, hello, x => x.seq !== '')).meta, /^Ada · /);
      assert.match((await rowUntil(bob.page, hi, x => x.mine)).meta, /^me · /);
      await until(bob.page, () => document.getElementById('peers').textContent.includes('Ada'));
      await ada.context.close();
      await bob.context.close();
    });

    test(`edit, delete and react, seen by both and after a reload (${transport})`, async () => {
      const room = `e2e-changes-${transport}`;
      const query = transport === 'p2p' ? { ice: 'loopback' } : { p2p: 'off' };
      const ada = await person(browser, relay, null, room, query);
      const bob = await person(browser, relay, null, room, query);
      if (transport === 'p2p') {
        for (const u of [ada, bob]) await until(u.page, () => document.querySelector('#peers li')?.dataset.path === 'p2p', null, 20_000);
      }
      const hello = await send(ada.page, 'hello Bob');
      await rowUntil(bob.page, hello, x => x.seq !== '');
      const hi = await send(bob.page, 'hi Ada');
      await rowUntil(ada.page, hi, x => x.seq !== '');
      await rowUntil(ada.page, hello, x => x.seq !== ''); // the menu acts on stored messages

      // Edit own: both see the new body and "(edited)"; Bob may not edit Ada's message.
      await menu(ada.page, hello, '#menu [data-act="edit"]');
      assert.equal(await ada.page.inputValue('#text'), 'hello Bob');
      await ada.page.fill('#text', 'hello Bob (again)');
      await ada.page.press('#text', 'Enter');
      for (const u of [ada, bob]) await rowUntil(u.page, hello, x => x.body === 'hello Bob (again)' && x.edited);
      await bob.page.click(`#canvas .row[data-cid="${hello}"] .bubble`);
      assert.equal(await bob.page.isHidden('#menu [data-act="edit"]'), true);
      assert.equal(await bob.page.isHidden('#menu [data-act="delete"]'), true, 'not his, and he is no owner');
      await bob.page.keyboard.press('Escape');

      // React: Bob's 👍 from the menu, Ada's by clicking the chip, Bob's off by his chip.
      await menu(bob.page, hello, '#menu [data-emoji="👍"]');
      await rowUntil(ada.page, hello, x => x.chips.join() === '👍 1');
      await rowUntil(bob.page, hello, x => x.chips.join() === '👍 1*');
      await ada.page.click(`#canvas .row[data-cid="${hello}"] .chip[data-emoji="👍"]`);
      await rowUntil(ada.page, hello, x => x.chips.join() === '👍 2*');
      await rowUntil(bob.page, hello, x => x.chips.join() === '👍 2*');
      await bob.page.click(`#canvas .row[data-cid="${hello}"] .chip[data-emoji="👍"]`);
      await rowUntil(bob.page, hello, x => x.chips.join() === '👍 1');
      await rowUntil(ada.page, hello, x => x.chips.join() === '👍 1*');

      // Delete own: a tombstone for both, no body, no reactions, no menu.
      await menu(ada.page, hello, '#menu [data-act="delete"]');
      for (const u of [ada, bob]) {
        const r = await rowUntil(u.page, hello, x => x.deleted);
        assert.deepEqual([r.body, r.edited, r.chips, r.menu], ['message deleted', false, [], false]);
      }
      await bob.page.click(`#canvas .row[data-cid="${hello}"] .bubble`);
      assert.equal(await bob.page.isHidden('#menu'), true, 'no menu on a deleted message');
      const stored = (await relay.history(room)).messages;
      assert.equal(stored.find(m => m.cid === hello)?.body, undefined, JSON.stringify(stored));

      // An owner deletes anyone's message (not edit it): the app's backend makes Ada owner.
      const adaUser = await ada.page.evaluate(() => globalThis.switchboardDemo.client.user);
      const res = await fetch(`${relay.base}/api/admin/rooms/${room}/members/${adaUser}`, {
        method: 'PUT', body: JSON.stringify({ role: 'owner' }),
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      });
      assert.equal(res.status, 200, await res.text());
      await until(ada.page, r => globalThis.switchboardDemo.rooms.get(r).room.role === 'owner', room);
      const bye = await send(bob.page, 'bye');
      await rowUntil(ada.page, bye, x => x.seq !== '');
      await ada.page.click(`#canvas .row[data-cid="${bye}"] .bubble`);
      assert.equal(await ada.page.isHidden('#menu [data-act="edit"]'), true);
      await ada.page.click('#menu [data-act="delete"]');
      for (const u of [ada, bob]) await rowUntil(u.page, bye, x => x.deleted && x.body === 'message deleted');

      // Bob away: what changed meanwhile reaches him when he is back; a reload shows it all.
      await bob.context.setOffline(true);
      await bob.page.waitForSelector('#banner:not([hidden])');
      await menu(ada.page, hi, '#menu [data-emoji="❤️"]');
      await rowUntil(ada.page, hi, x => x.chips.join() === '❤️ 1*');
      await bob.context.setOffline(false);
      await rowUntil(bob.page, hi, x => x.chips.join() === '❤️ 1', 30_000);
      await bob.page.reload();
      await bob.page.waitForSelector('#conn[data-state="open"]', { timeout: 20_000 });
      await rowUntil(bob.page, hello, x => x.deleted && x.body === 'message deleted');
      await rowUntil(bob.page, hi, x => x.mine && x.chips.join() === '❤️ 1');
      await ada.context.close();
      await bob.context.close();
    });
  }
});
