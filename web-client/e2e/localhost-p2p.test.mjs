// Issue 12, finding 9: the README's run command and two Chromium windows at http://localhost:PORT/
// with no ?ice parameter. The STUN service bound to 0.0.0.0 used to answer a request sent to
// 127.0.0.1 from the interface address; Chromium ignores answers from an address it did not ask,
// so both pages classified themselves udp-blocked and stayed on the relay.
//
// Network: the pages gather every host candidate of this machine (loopback, the interface's
// addresses); STUN goes to localhost and every connectivity check targets one of this machine's
// own addresses, so nothing leaves it. mDNS announcements (multicast out of the interface) are
// off by both the flag and the media permissions (harness.mjs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newUser, startRelay, suiteOptions, until } from './harness.mjs';

const opts = suiteOptions();

describe('README defaults on localhost', opts, () => {
  let relay;
  let browser;

  before(async () => {
    relay = await startRelay({}, { readmeDefaults: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await relay?.stop();
  });

  test('two windows at http://localhost/ with no ice parameter go P2P', async () => {
    const base = `http://localhost:${relay.port}`;
    const room = 'e2e-localhost';
    const users = [];
    for (let i = 0; i < 2; i++) {
      const user = await newUser(browser, relay, base);
      await user.page.goto(`/?room=${room}`);
      await user.page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      users.push(user);
    }
    const [alice, bob] = users;
    for (const { page } of users) {
      const profile = await until(page, () => globalThis.switchboardDemo.client.profile, null, 20_000);
      assert.notEqual(profile.class, 'udp-blocked', `profile ${JSON.stringify(profile)}`);
    }
    for (const { page } of users) {
      await until(page, () => document.querySelector('#peers li')?.dataset.path === 'p2p', null, 20_000)
        .catch(async e => {
          const peers = await page.evaluate(r => globalThis.switchboardDemo.rooms.get(r)?.room?.peers(), room);
          throw new Error(`not P2P: ${JSON.stringify(peers)}; profile ${JSON.stringify(
            await page.evaluate(() => globalThis.switchboardDemo.client.profile))}`, { cause: e });
        });
    }
    await alice.page.fill('#text', 'direct on localhost');
    await alice.page.press('#text', 'Enter');
    await until(bob.page, b => [...document.querySelectorAll('#canvas .row')]
      .some(r => r.firstChild.textContent === b && r.dataset.path === 'p2p'), 'direct on localhost');
    for (const user of users) await user.context.close();
  });
});
