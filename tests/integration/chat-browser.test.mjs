// The chat's web page (www/, APP.md 1 "The web client") in headless
// Chromium (Debian's chromium, driven by playwright-core), against the chat
// app in two spawned sio-fcgi processes behind lighttpd.
//
// Screenshots of the main screens go to tests/artifacts/ (git-ignored);
// docs/chat.png, the README's picture, is written when it is missing or
// when SIO_UPDATE_SCREENSHOT is set.  Without Chromium or playwright-core
// the tests are skipped, unless CI is set: then that is a failure.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startServer, ROOT } from './lib/server.mjs';
import { browserMissing, launchBrowser } from './lib/browser.mjs';

const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
const DOCS_PNG = path.join(ROOT, 'docs', 'chat.png');
const DESKTOP = { width: 1024, height: 640 };
const PHONE = { width: 390, height: 844 };
const XSS = '<img src=x onerror=window.__xss=1>';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Retry fn (an assertion) until it passes or ms have passed.
async function eventually(fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(100);
    }
  }
}

const missing = await browserMissing();

if (missing && process.env.CI) {
  test('chat web page: a browser is required under CI', () => {
    assert.fail(`${missing}; CI is set, so this is a failure, not a skip`);
  });
} else {
  describe('chat web page', () => {
    // Each test is skipped on its own, so that the skips are counted.
    const it = (name, fn) => test(name, { skip: missing || false }, fn);
    let srv, browser;
    const ctx = {};           // browser contexts: one per person
    const errors = [];        // uncaught exceptions in any page
    const nodeSockets = [];   // socket.io-client users in this process

    before(async () => {
      if (missing) return;
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      srv = await startServer({
        mode: 'spawn', procs: 2,
        args: ['--app', 'chat', '--ping-interval', '2000', '--ping-timeout', '1000'],
      });
      browser = await launchBrowser();
      ctx.alice = await browser.newContext({ viewport: DESKTOP });
      ctx.bob = await browser.newContext({ viewport: DESKTOP });
    });

    after(async () => {
      for (const s of nodeSockets) s.disconnect();
      await browser?.close();
      await srv?.stop();
    });

    async function open(context, viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      page.setDefaultTimeout(10000);
      page.on('pageerror', (err) => errors.push(err));
      await page.goto(srv.url);
      return page;
    }

    // The user list, and one user's entry in it (its accessible name is
    // "NAME[ (yourself)], online|offline[, N unread message(s)]").
    const users = (page) => page.getByRole('list', { name: 'Users' });
    const entry = (page, name, state = '') => users(page).getByRole('button',
      { name: new RegExp(`^${name}(?: \\(yourself\\))?, ${state}`) });
    const labels = (page) => page.$$eval('#users button', (bs) => bs.map((b) => b.getAttribute('aria-label')));
    const log = (page, name) => page.getByRole('log', { name: `Conversation with ${name}` });
    const texts = (page, name) => log(page, name).locator('.message').allTextContents();

    async function send(page, text) {
      const box = page.getByRole('textbox', { name: /^Message to / });
      await box.fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
    }

    // A user outside the browser, with the official client.
    async function nodeUser(username) {
      const s = io(srv.url, { transports: ['polling'], forceNew: true, reconnection: false, auth: { username } });
      nodeSockets.push(s);
      const [users] = await new Promise((resolve, reject) => {
        s.once('users', (...a) => resolve(a));
        s.once('connect_error', reject);
      });
      return { socket: s, users };
    }

    const page = {};

    it('username screen: the button needs more than 2 characters', async () => {
      page.alice = await open(ctx.alice);
      const name = page.alice.getByLabel('Username');
      const go = page.alice.getByRole('button', { name: 'Continue' });
      await name.waitFor();
      assert.equal(await go.isDisabled(), true, 'disabled when empty');
      await name.fill('ab');
      assert.equal(await go.isDisabled(), true, 'disabled for "ab"');
      await name.fill('abc');
      assert.equal(await go.isEnabled(), true, 'enabled for "abc"');
      await name.fill('alice');
      await page.alice.screenshot({ path: path.join(ARTIFACTS, 'chat-username.png') });
      await go.click();
      await entry(page.alice, 'alice \\(yourself\\)', 'online').waitFor();
      assert.equal(await page.alice.locator('#login').isHidden(), true);
      assert.ok(await page.alice.evaluate(() => localStorage.getItem('sessionID')), 'sessionID kept');
    });

    it('two users see each other online, sorted, and exchange messages', async () => {
      // dave comes and goes before bob, carol comes after: alice's list
      // puts each in its place.
      const dave = await nodeUser('dave');
      dave.socket.disconnect();
      page.bob = await open(ctx.bob);
      await page.bob.getByLabel('Username').fill('bob');
      await page.bob.getByRole('button', { name: 'Continue' }).click();
      const carol = await nodeUser('carol');
      await eventually(async () => assert.deepEqual(await labels(page.alice), [
        'alice (yourself), online', 'bob, online', 'carol, online', 'dave, offline']));
      await entry(page.bob, 'alice', 'online').waitFor();
      assert.match((await labels(page.bob))[0], /^bob \(yourself\), online$/);

      // alice -> bob; bob sees an unread marker until he opens it.
      await entry(page.alice, 'bob').click();
      await log(page.alice, 'bob').waitFor();
      assert.equal(await page.alice.getByRole('button', { name: 'Send' }).isDisabled(), true, 'Send disabled while empty');
      await send(page.alice, 'Hi Bob! Did you get the slides for tomorrow?');
      assert.deepEqual(await texts(page.alice, 'bob'), ['Hi Bob! Did you get the slides for tomorrow?'],
        'my message appears at once');
      await entry(page.bob, 'alice', 'online, 1 unread message').waitFor();
      await entry(page.bob, 'alice').click();
      await entry(page.bob, 'alice', 'online$').waitFor();
      assert.deepEqual(await texts(page.bob, 'alice'), ['Hi Bob! Did you get the slides for tomorrow?']);

      // bob -> alice, twice, then alice again (with a line break).
      await send(page.bob, 'Hey Alice, yes, they just arrived.');
      await send(page.bob, 'They look great. I will add the numbers this afternoon.');
      await eventually(async () => assert.equal((await texts(page.alice, 'bob')).length, 3));
      await send(page.alice, 'Perfect, thanks!\nLet us go through them at 10.');
      const want = ['Hi Bob! Did you get the slides for tomorrow?', 'Hey Alice, yes, they just arrived.',
        'They look great. I will add the numbers this afternoon.', 'Perfect, thanks!\nLet us go through them at 10.'];
      await eventually(async () => assert.deepEqual(await texts(page.bob, 'alice'), want));
      assert.deepEqual(await texts(page.alice, 'bob'), want);
      // The sender's name heads each run of messages from one sender.
      assert.deepEqual(await log(page.alice, 'bob').locator('.sender').allTextContents(),
        ['alice (yourself)', 'bob', 'alice (yourself)']);

      // carol writes to alice: an unread marker, the conversation stays.
      const aliceID = carol.users.find((u) => u.username === 'alice').userID;
      // The server acknowledges a stored message with no argument.
      assert.equal(await carol.socket.emitWithAck('private message', { content: 'Lunch at noon?', to: aliceID }), undefined);
      await entry(page.alice, 'carol', 'online, 1 unread message').waitFor();

      await page.alice.screenshot({ path: path.join(ARTIFACTS, 'chat-alice.png') });
      await page.bob.screenshot({ path: path.join(ARTIFACTS, 'chat-bob.png') });
      if (!fs.existsSync(DOCS_PNG) || process.env.SIO_UPDATE_SCREENSHOT) {
        await page.alice.evaluate(() => document.activeElement?.blur());
        await page.alice.screenshot({ path: DOCS_PNG });
      }
      page.carol = carol;
    });

    it('a reload keeps identity, history and unread markers', async () => {
      await page.alice.reload();
      await entry(page.alice, 'alice \\(yourself\\)', 'online').waitFor();
      assert.equal(await page.alice.locator('#login').isHidden(), true, 'no username screen');
      // The open conversation stays open, with its history.
      assert.equal((await texts(page.alice, 'bob')).length, 4);
      assert.match((await labels(page.alice))[2], /^carol, online, 1 unread message$/);

      // Away: alice closes her page; carol writes again meanwhile.
      await page.alice.close();
      const aliceID = page.carol.users.find((u) => u.username === 'alice').userID;
      assert.equal(await page.carol.socket.emitWithAck('private message',
        { content: 'I booked a table for three.', to: aliceID }), undefined);
      page.alice = await open(ctx.alice);
      await entry(page.alice, 'carol', 'online, 2 unread messages').waitFor();
      await entry(page.alice, 'bob', 'online$').waitFor();
      assert.equal(await page.alice.title(), '(2) Private messaging');
      await entry(page.alice, 'carol').click();
      await entry(page.alice, 'carol', 'online$').waitFor();
      assert.deepEqual(await texts(page.alice, 'carol'), ['Lunch at noon?', 'I booked a table for three.']);
      assert.equal(await page.alice.title(), 'Private messaging');
    });

    it('a second tab is the same user and gets new messages', async () => {
      const tab2 = await open(ctx.alice);
      page.alice2 = tab2;
      await entry(tab2, 'alice \\(yourself\\)', 'online').waitFor();
      assert.equal(await tab2.locator('#login').isHidden(), true);
      await entry(tab2, 'bob').click();
      assert.equal((await texts(tab2, 'bob')).length, 4);
      await entry(page.alice, 'bob').click();

      await send(page.bob, 'Two tabs?');
      await eventually(async () => assert.equal((await texts(tab2, 'bob')).at(-1), 'Two tabs?'));
      await eventually(async () => assert.equal((await texts(page.alice, 'bob')).at(-1), 'Two tabs?'));
      // From the second tab: the first one and bob get it.
      await send(tab2, 'Yes, both of them.');
      await eventually(async () => assert.equal((await texts(page.alice, 'bob')).at(-1), 'Yes, both of them.'));
      await eventually(async () => assert.equal((await texts(page.bob, 'alice')).at(-1), 'Yes, both of them.'));
    });

    it('messages are text, never HTML', async () => {
      await send(page.bob, XSS);
      for (const p of [page.alice, page.alice2]) {
        await eventually(async () => assert.equal((await texts(p, 'bob')).at(-1), XSS));
      }
      assert.equal((await texts(page.bob, 'alice')).at(-1), XSS);
      await sleep(300);
      for (const p of [page.alice, page.alice2, page.bob]) {
        assert.equal(await p.evaluate(() => window.__xss), undefined, 'no script ran');
        assert.equal(await p.locator('#messages img').count(), 0, 'no element made');
      }
    });

    it('a phone-width viewport stacks the panels without horizontal scroll', async () => {
      const phone = await open(ctx.alice, PHONE);
      await entry(phone, 'bob').click();
      await log(phone, 'bob').waitFor();
      const m = await phone.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        bodyScrollWidth: document.body.scrollWidth,
      }));
      assert.ok(m.scrollWidth <= m.clientWidth && m.bodyScrollWidth <= m.clientWidth,
        `no horizontal scroll: ${JSON.stringify(m)}`);
      const inView = async (loc, what) => {
        const b = await loc.boundingBox();
        assert.ok(b, `${what} is shown`);
        assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= PHONE.width + 0.5 && b.y + b.height <= PHONE.height + 0.5,
          `${what} is inside the screen: ${JSON.stringify(b)}`);
        return b;
      };
      const list = await inView(users(phone), 'the user list');
      const logBox = await inView(log(phone, 'bob'), 'the conversation');
      const box = await inView(phone.getByRole('textbox', { name: 'Message to bob' }), 'the textarea');
      await inView(phone.getByRole('button', { name: 'Send' }), 'the Send button');
      assert.ok(list.y < logBox.y && logBox.y < box.y, 'stacked: users, conversation, composer');
      await send(phone, 'Sent from my phone.');
      await eventually(async () => assert.equal((await texts(page.bob, 'alice')).at(-1), 'Sent from my phone.'));
      await phone.screenshot({ path: path.join(ARTIFACTS, 'chat-phone.png') });
      await phone.close();

      const c = await browser.newContext({ viewport: PHONE });
      const p = await open(c);
      await p.getByLabel('Username').waitFor();
      await p.screenshot({ path: path.join(ARTIFACTS, 'chat-phone-username.png') });
      await c.close();
    });

    it("closing all of a user's pages turns their dot offline", async () => {
      await entry(page.alice, 'bob', 'online').waitFor();
      await page.bob.close();
      // pingInterval 2 s + pingTimeout 1 s, then the sweep.
      await entry(page.alice, 'bob', 'offline').waitFor({ timeout: 15000 });
      await entry(page.alice2, 'bob', 'offline').waitFor({ timeout: 5000 });
      assert.equal(await page.alice.locator('#peer-status .status-text').textContent(), 'offline');
    });

    it('an unknown session goes back to the username screen, then a name works', async () => {
      const c = await browser.newContext({ viewport: DESKTOP });
      const p = await open(c);
      await p.getByLabel('Username').waitFor();
      await p.evaluate(() => localStorage.setItem('sessionID', '0123456789abcdef0123456789abcdef'));
      await p.reload();
      await p.getByLabel('Username').waitFor();
      await p.getByRole('alert').filter({ hasText: 'session' }).waitFor();
      assert.equal(await p.evaluate(() => localStorage.getItem('sessionID')), null);
      await p.getByLabel('Username').fill('erin');
      await p.getByRole('button', { name: 'Continue' }).click();
      await entry(p, 'erin \\(yourself\\)', 'online').waitFor();
      await eventually(async () => assert.deepEqual(await labels(page.alice), [
        'alice (yourself), online', 'bob, offline', 'carol, online', 'dave, offline', 'erin, online']));
      await c.close();
    });

    it('no uncaught exception in any page', () => {
      assert.deepEqual(errors.map(String), []);
    });
  });
}
