// End-to-end tests: headless Debian Chromium (playwright-core) against a real
// chatcore-server with a fresh SQLite database. Run with `npm run e2e`.
//
// Env:
//   CHATCORE_SERVER_BIN  server binary (default ../../target/release/chatcore-server)
//   CHROMIUM_PATH        browser (default /usr/bin/chromium; never downloaded)
//   CHATCORE_E2E_SKIP_EXPIRY=1  skip the ~60 s session-expiry scenario
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkChromium, launch, watchConsole, watchSocket } from './lib/browser.mjs';
import { checkDist, serverBinary, startServer } from './lib/server.mjs';

// Fail fast and clearly before starting anything.
checkChromium();
serverBinary();
checkDist();

const PASSWORD = 'correct horse battery';
const uid = () => randomBytes(4).toString('hex');

/** A prompt long enough that the offline provider (150 ms a word) takes several seconds. */
function longPrompt(tag) {
  const words = Array.from({ length: 40 }, (_, i) => `w${i}${tag}`).join(' ');
  return `Please repeat: ${words} end${tag}`;
}

async function until(fn, { timeout = 15000, interval = 100, message = 'condition' } = {}) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeout) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${last})`);
}

const ARTIFACTS = path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), 'artifacts');

/** On failure: full-page screenshots and the server log tail, then rethrow. */
async function failWith(err, name, pages, server) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
  for (const [i, p] of pages.entries()) {
    await p.screenshot({ path: path.join(ARTIFACTS, `${slug}-${i}.png`), fullPage: true }).catch(() => {});
  }
  if (err instanceof Error) {
    err.message += `\n(screenshots in ${ARTIFACTS})\n--- chatcore-server log tail ---\n${server?.logTail(30) ?? ''}`;
  }
  throw err;
}

const CHAT_URL = /\/chat\/[0-9a-f-]{36}$/i;

async function register(page, base, user) {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/auth\/login$/);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.waitForURL(/\/auth\/register$/);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  if (user.username) await page.getByLabel('Username').fill(user.username);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/chat$/);
}

async function login(page, base, email, password) {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/auth\/login$/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/chat/);
}

async function newChat(page) {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.waitForURL(CHAT_URL);
  return page.url().split('/').pop();
}

async function send(page, text) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

const assistant = (page) => page.getByRole('article', { name: 'assistant message', exact: true });
const userMsg = (page) => page.getByRole('article', { name: 'user message', exact: true });

async function statusOf(loc) {
  return loc.getAttribute('data-status');
}

async function waitLive(page) {
  await page.getByText('Live', { exact: true }).waitFor({ timeout: 15000 });
}

/** Expected browser-side noise: resources the test makes fail on purpose. */
const ALLOW_STATUS = (...codes) => [new RegExp(`Failed to load resource: the server responded with a status of (${codes.join('|')})`)];

describe('chatcore web UI against chatcore-server', { concurrency: false }, () => {
  let server;
  let browser;
  const main = { email: `e2e-${uid()}@example.com`, password: PASSWORD, username: `e2e_${uid()}` };

  before(async () => {
    server = await startServer({ name: 'main' });
    browser = await launch();
    // The account the scenarios after the registration one log in with (created
    // through the API so that any single scenario can run on its own).
    const res = await fetch(`${server.url}/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(main),
    });
    assert.equal(res.status, 201, `POST /auth/register: ${res.status} ${await res.text()}`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('serves the UI and lists the offline provider in /health', async () => {
    assert.equal(server.health.status, 'ok');
    assert.ok(Array.isArray(server.health.providers), '/health has providers');
    assert.ok(
      server.health.providers.some((p) => p.name === 'offline'),
      `expected the offline provider, got ${JSON.stringify(server.health.providers)}`,
    );
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<div id="root">/);
  });

  test('register → new chat → send → reply streams → reload mid-reply re-attaches → history and sidebar', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const con = watchConsole(page);
    const frames = watchSocket(page);
    try {
      await register(page, server.url, { email: `new-${uid()}@example.com`, password: PASSWORD, username: `new_${uid()}` });
      await waitLive(page);
      await page.getByRole('note').filter({ hasText: /offline model/i }).waitFor();
      const sessionId = await newChat(page);
      await page.getByRole('heading', { level: 1, name: 'New chat' }).waitFor();

      const tag = uid();
      const prompt = longPrompt(tag);
      await send(page, prompt);
      await userMsg(page).filter({ hasText: `end${tag}` }).waitFor();
      assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), '', 'input cleared after send');
      await page.getByRole('button', { name: 'Stop' }).waitFor();
      assert.ok(frames.some((f) => f.dir === 'out' && f.type === 'send'), 'sent over the WebSocket');

      // The reply streams in: its text grows while it is marked streaming.
      const reply = assistant(page).last();
      await reply.waitFor();
      const lengths = [];
      await until(
        async () => {
          if ((await statusOf(reply)) !== 'streaming') return false;
          const n = (await reply.innerText()).length;
          if (lengths.at(-1) !== n) lengths.push(n);
          return lengths.length >= 3;
        },
        { message: 'three growing snapshots of the streaming reply', interval: 50 },
      );
      const before = lengths.at(-1);

      // Reload in the middle of the reply.
      await page.reload();
      await page.waitForURL(new RegExp(`/chat/${sessionId}$`));
      const again = assistant(page).last();
      await again.waitFor();
      assert.equal(await statusOf(again), 'streaming', 'still streaming right after the reload');
      const firstAfter = (await again.innerText()).length;
      await until(async () => (await again.innerText()).length > firstAfter && (await statusOf(again)) === 'streaming', {
        message: 'the re-attached reply to keep growing',
      });
      await until(async () => (await statusOf(again)) === 'complete', { timeout: 30000, message: 'reply complete' });
      const finalText = await again.innerText();
      assert.ok(finalText.length >= before, 'final text at least as long as before the reload');
      assert.match(finalText, new RegExp(`end${tag}`), 'the offline reply contains the user words');
      assert.equal(await page.getByRole('button', { name: 'Send' }).count(), 1, 'Send is back');
      await page.getByTestId('answered-by').filter({ hasText: 'offline' }).waitFor();

      // History and sidebar right after another reload.
      await page.reload();
      await assistant(page).last().waitFor();
      const roles = await page.getByRole('article').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      assert.deepEqual(roles, ['user message', 'assistant message']);
      assert.equal(await statusOf(assistant(page).last()), 'complete');
      assert.equal(await assistant(page).last().innerText(), finalText, 'same text after reload');
      const nav = page.getByRole('navigation', { name: 'Chats' });
      const links = nav.getByRole('link');
      assert.equal(await links.count(), 1);
      const active = nav.locator('a[aria-current="page"]');
      assert.equal(await active.count(), 1);
      const title = await active.innerText();
      assert.notEqual(title, 'New chat', 'the title is derived from the first message');
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), title);
      assert.deepEqual(con.unexpected(), []);
    } catch (e) {
      await failWith(e, 'stream-reload', [page], server);
    } finally {
      await ctx.close();
    }
  });

  test('login with a wrong password shows the error; the right one logs in', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const con = watchConsole(page);
    try {
      await page.goto(`${server.url}/`);
      await page.waitForURL(/\/auth\/login$/);
      await page.getByLabel('Email').fill(main.email);
      await page.getByLabel('Password').fill('wrong password!');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Incorrect email or password.' }).waitFor();
      assert.match(page.url(), /\/auth\/login$/);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/chat$/);
      // Signed in: the chat layout with this user's (empty) session list.
      await page.getByRole('button', { name: 'Log out' }).waitFor();
      await page.getByRole('button', { name: 'New chat' }).waitFor();
      assert.deepEqual(con.unexpected(ALLOW_STATUS(401)), []);
    } catch (e) {
      await failWith(e, 'wrong-password', [page], server);
    } finally {
      await ctx.close();
    }
  });

  test('Stop keeps the partial reply (also after reload)', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const con = watchConsole(page);
    try {
      await login(page, server.url, main.email, PASSWORD);
      await waitLive(page);
      await newChat(page);
      const tag = uid();
      await send(page, longPrompt(tag));
      const reply = assistant(page).last();
      await until(async () => (await statusOf(reply)) === 'streaming' && (await reply.innerText()).trim().length > 10, {
        message: 'some streamed text',
      });
      await page.getByRole('button', { name: 'Stop' }).click();
      await until(async () => (await statusOf(reply)) === 'stopped', { message: 'status stopped' });
      await reply.getByText('Stopped', { exact: true }).waitFor();
      const partial = (await reply.locator('.msg__body').innerText()).trim();
      assert.ok(partial.length > 0, 'partial text kept');
      assert.doesNotMatch(partial, new RegExp(`end${tag}`), 'the reply was cut before its end');
      await page.getByRole('button', { name: 'Send' }).waitFor();

      await page.reload();
      const stored = assistant(page).last();
      await stored.waitFor();
      assert.equal(await statusOf(stored), 'stopped');
      assert.equal((await stored.locator('.msg__body').innerText()).trim(), partial, 'stored partial text = shown text');
      assert.deepEqual(con.unexpected(), []);
    } catch (e) {
      await failWith(e, 'stop', [page], server);
    } finally {
      await ctx.close();
    }
  });

  test('rename and delete a chat', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const con = watchConsole(page);
    try {
      await login(page, server.url, main.email, PASSWORD);
      await waitLive(page);
      const id = await newChat(page);
      const nav = page.getByRole('navigation', { name: 'Chats' });
      const item = nav.locator(`[data-session-id="${id}"]`);
      await item.waitFor();
      await item.getByRole('button', { name: /^Rename chat/ }).click();
      const input = nav.getByLabel('Chat title');
      await input.fill(`Renamed ${id.slice(0, 4)}`);
      await input.press('Enter');
      const newTitle = `Renamed ${id.slice(0, 4)}`;
      await nav.getByRole('link', { name: newTitle, exact: true }).waitFor();
      await page.getByRole('heading', { level: 1, name: newTitle }).waitFor();

      await page.reload();
      await nav.getByRole('link', { name: newTitle, exact: true }).waitFor();

      await nav.getByRole('button', { name: `Delete chat ${newTitle}`, exact: true }).click();
      const dialog = page.getByRole('alertdialog', { name: 'Delete this chat?' });
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.waitForURL(/\/chat$/);
      await until(async () => (await nav.getByRole('link', { name: newTitle, exact: true }).count()) === 0, {
        message: 'the deleted chat to leave the sidebar',
      });
      await page.reload();
      await page.getByRole('navigation', { name: 'Chats' }).waitFor();
      await page.waitForTimeout(500);
      assert.equal(await nav.getByRole('link', { name: newTitle, exact: true }).count(), 0, 'gone after reload');
      const res = await page.evaluate(async (sid) => {
        const token = JSON.parse(localStorage.getItem('chatcore.auth')).token;
        const r = await fetch(`/chat/sessions/${sid}`, { headers: { Authorization: `Bearer ${token}` } });
        return r.status;
      }, id);
      assert.equal(res, 404, 'a deleted session is 404');
      assert.deepEqual(con.unexpected(ALLOW_STATUS(404)), []);
    } catch (e) {
      await failWith(e, 'rename-delete', [page], server);
    } finally {
      await ctx.close();
    }
  });

  test('a second browser context of the same user sees the new message live', async () => {
    const ctxA = await browser.newContext();
    const ctxB = await browser.newContext();
    const a = await ctxA.newPage();
    const b = await ctxB.newPage();
    const conA = watchConsole(a);
    const conB = watchConsole(b);
    try {
      await login(a, server.url, main.email, PASSWORD);
      await login(b, server.url, main.email, PASSWORD);
      await waitLive(a);
      await waitLive(b);
      const id = await newChat(a);
      await b.goto(`${server.url}/chat/${id}`);
      await b.getByText('How can I help?').waitFor();
      await waitLive(b);

      const tag = uid();
      await send(a, `Hello from device A ${tag}`);
      await userMsg(b).filter({ hasText: `Hello from device A ${tag}` }).waitFor({ timeout: 10000 });
      const replyB = assistant(b).last();
      await replyB.waitFor({ timeout: 10000 });
      await until(async () => (await statusOf(replyB)) === 'complete', { timeout: 30000, message: 'B sees the reply complete' });
      assert.match(await replyB.innerText(), new RegExp(tag));
      await until(async () => (await statusOf(assistant(a).last())) === 'complete', { message: 'A sees the reply complete' });
      assert.equal(await replyB.innerText(), await assistant(a).last().innerText(), 'both devices show the same reply');
      // B's sidebar follows too (session_updated with the derived title).
      const titleA = await a.getByRole('heading', { level: 1 }).innerText();
      await until(
        async () => (await b.getByRole('navigation', { name: 'Chats' }).locator(`[data-session-id="${id}"] a`).innerText()) === titleA,
        { message: "B's sidebar to show the chat's current title" },
      );
      assert.deepEqual(conA.unexpected(), []);
      assert.deepEqual(conB.unexpected(), []);
    } catch (e) {
      await failWith(e, 'two-devices', [a, b], server);
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });

  test('without a WebSocket the UI falls back to SSE: send streams, reload re-attaches, Stop works', async () => {
    const ctx = await browser.newContext();
    // Every /ws connection of this context is refused: the UI must use POST /chat/stream,
    // GET /chat/sessions/{id}/stream and POST /chat/sessions/{id}/stop instead.
    await ctx.routeWebSocket(/\/ws$/, (ws) => ws.close({ code: 1011, reason: 'blocked by the test' }));
    const page = await ctx.newPage();
    const con = watchConsole(page);
    const requests = [];
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    try {
      await login(page, server.url, main.email, PASSWORD);
      await page.getByText('Reconnecting…', { exact: true }).waitFor();
      const id = await newChat(page);
      const tag = uid();
      await send(page, longPrompt(tag));
      const reply = assistant(page).last();
      await until(async () => (await statusOf(reply)) === 'streaming' && (await reply.innerText()).includes('offline'), {
        message: 'the reply streaming over SSE',
      });
      assert.ok(requests.includes('POST /chat/stream'), 'sent with POST /chat/stream');

      await page.reload();
      const again = assistant(page).last();
      await again.waitFor();
      assert.equal(await statusOf(again), 'streaming', 'still streaming after the reload');
      const n = (await again.innerText()).length;
      await until(async () => (await again.innerText()).length > n, { message: 'the re-attached SSE reply to grow' });
      assert.ok(requests.includes(`GET /chat/sessions/${id}/stream`), 're-attached with GET /chat/sessions/{id}/stream');
      await until(async () => (await statusOf(again)) === 'complete', { timeout: 30000, message: 'reply complete' });
      assert.match(await again.innerText(), new RegExp(`end${tag}`));

      // Stop over REST.
      await send(page, longPrompt(uid()));
      const second = assistant(page).last();
      await until(async () => (await assistant(page).count()) === 2 && (await statusOf(second)) === 'streaming', {
        message: 'the second reply streaming',
      });
      await page.getByRole('button', { name: 'Stop' }).click();
      await until(async () => (await statusOf(second)) === 'stopped', { message: 'stopped over REST' });
      assert.ok(requests.includes(`POST /chat/sessions/${id}/stop`), 'stopped with POST /chat/sessions/{id}/stop');
      assert.deepEqual(con.unexpected(), []);
    } catch (e) {
      await failWith(e, 'sse-fallback', [page], server);
    } finally {
      await ctx.close();
    }
  });

  test("a user's message with a code block is shown as code, not as backticks", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const con = watchConsole(page);
    try {
      await login(page, server.url, main.email, PASSWORD);
      await waitLive(page);
      await newChat(page);
      const tag = uid();
      await send(page, `Why ${tag}?\n\`\`\`js\nconst answer = 42;\n\`\`\`\nsecond line <b>not bold</b>`);
      const mine = userMsg(page).filter({ hasText: tag });
      await mine.waitFor();
      const code = mine.locator('pre code.language-js');
      await code.waitFor();
      assert.equal((await code.innerText()).trim(), 'const answer = 42;');
      assert.equal(await mine.getByRole('button', { name: 'Copy code' }).count(), 1, 'a Copy button');
      const text = await mine.innerText();
      assert.doesNotMatch(text, /```/, 'no literal backticks');
      assert.match(text, /second line <b>not bold<\/b>/, 'HTML stays text');
      assert.equal(await mine.locator('b').count(), 0);
      await until(async () => (await statusOf(assistant(page).last())) === 'complete', { timeout: 30000, message: 'reply complete' });
      await page.reload();
      await userMsg(page).filter({ hasText: tag }).locator('pre code.language-js').waitFor();
      assert.deepEqual(con.unexpected(), []);
    } catch (e) {
      await failWith(e, 'user-code-block', [page], server);
    } finally {
      await ctx.close();
    }
  });

  test('at 375 px the sidebar pages through 60 chats as it scrolls; a live rename shows once, on top', async () => {
    // A fresh user with 60 chats, made through the API (oldest first).
    const user = { email: `pages-${uid()}@example.com`, password: PASSWORD };
    const reg = await fetch(`${server.url}/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(user),
    });
    assert.equal(reg.status, 201);
    const { access_token: token } = await reg.json();
    const call = async (method, p, body) => {
      const r = await fetch(`${server.url}${p}`, {
        method,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      assert.ok(r.ok, `${method} ${p}: ${r.status}`);
      return r.json();
    };
    const made = [];
    for (let i = 0; i < 60; i++) {
      made.push(await call('POST', '/chat/sessions', { title: `Paged ${String(i).padStart(2, '0')}` }));
      await new Promise((r) => setTimeout(r, 3)); // distinct millisecond times: a known order
    }

    const ctx = await browser.browser.newContext({ viewport: { width: 375, height: 740 } });
    const page = await ctx.newPage();
    const con = watchConsole(page);
    const listed = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname === '/chat/sessions' && r.method() === 'GET') listed.push(u.search);
    });
    try {
      await login(page, server.url, user.email, user.password);
      await waitLive(page);
      await page.getByRole('button', { name: 'Show chats' }).click();
      const nav = page.getByRole('navigation', { name: 'Chats' });
      const links = nav.getByRole('link');
      await until(async () => (await links.count()) === 50, { message: 'the first page of 50' });
      assert.equal(await links.first().innerText(), 'Paged 59');
      assert.deepEqual(listed, ['?limit=50']);

      // Renamed elsewhere while still on the unread page 2: it moves to the top at once.
      await call('PATCH', `/chat/sessions/${made[2].id}`, { title: 'Renamed live' });
      await until(async () => (await links.first().innerText()) === 'Renamed live', { message: 'the live rename on top' });

      // Scroll the list to its end: page 2 comes by itself.
      await nav.locator('.sidebar__scroll').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await until(async () => (await links.count()) === 60, { message: 'all 60 chats after scrolling' });
      await nav.getByText('All chats loaded').waitFor();
      assert.equal(listed.length, 2, `two list requests, got ${listed.join(' ')}`);
      assert.match(listed[1], /^\?limit=50&cursor=/);
      const titles = await links.allInnerTexts();
      assert.equal(new Set(titles).size, 60, 'no duplicates');
      assert.equal(titles[0], 'Renamed live');
      assert.ok(!titles.includes('Paged 02'), 'the old title is gone');
      const expected = ['Renamed live', ...made.map((m) => m.title).filter((t) => t !== 'Paged 02').reverse()];
      assert.deepEqual(titles, expected, 'most recently updated first');
      // Nothing wider than the screen.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal overflow (${overflow} px)`);
      assert.deepEqual(con.unexpected(), []);
    } catch (e) {
      await failWith(e, 'sidebar-paging', [page], server);
    } finally {
      await ctx.close();
    }
  });

  test('unauthenticated visit to a chat goes to login and comes back to it', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    try {
      await login(page, server.url, main.email, PASSWORD);
      const id = await newChat(page);
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(/\/auth\/login$/);
      await page.goto(`${server.url}/chat/${id}`);
      await page.waitForURL(/\/auth\/login$/);
      await page.getByLabel('Email').fill(main.email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(new RegExp(`/chat/${id}$`));
    } catch (e) {
      await failWith(e, 'unauthenticated-return', [page], server);
    } finally {
      await ctx.close();
    }
  });
});

describe('session expiry (CHATCORE_TOKEN_TTL_SECS=320)', { concurrency: false, skip: process.env.CHATCORE_E2E_SKIP_EXPIRY === '1' }, () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer({ name: 'expiry', env: { CHATCORE_TOKEN_TTL_SECS: '320' } });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the expiry modal appears; "Stay signed in" works; "Log in again" returns to the chat with the draft', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const con = watchConsole(page);
    const frames = watchSocket(page);
    const user = { email: `exp-${uid()}@example.com`, password: PASSWORD };
    try {
      await register(page, server.url, user);
      await waitLive(page);
      const id = await newChat(page);
      const token1 = await page.evaluate(() => JSON.parse(localStorage.getItem('chatcore.auth')).token);
      const draft = `unsent draft ${uid()}`;
      await page.getByLabel('Message', { exact: true }).fill(draft);

      // token_expiring comes 5 minutes before expiry: ~20 s after login.
      const modal = page.getByRole('alertdialog', { name: 'Your session is about to expire' });
      await modal.waitFor({ timeout: 45000 });
      // (The UI's own timer from the JWT exp fires at about the same time; the server frame must come too.)
      await until(() => frames.some((f) => f.dir === 'in' && f.type === 'token_expiring'), {
        timeout: 10000,
        message: 'the server to send token_expiring over the WebSocket',
      });
      // Focus is inside the dialog.
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Stay signed in');

      const authFramesBefore = frames.filter((f) => f.dir === 'out' && f.type === 'auth').length;
      await modal.getByRole('button', { name: 'Stay signed in' }).click();
      await modal.waitFor({ state: 'detached' });
      const token2 = await page.evaluate(() => JSON.parse(localStorage.getItem('chatcore.auth')).token);
      assert.notEqual(token2, token1, 'a fresh token is stored');
      await until(
        () => frames.filter((f) => f.dir === 'out' && f.type === 'auth').length > authFramesBefore,
        { message: 're-auth frame on the socket' },
      );
      const reauth = frames.filter((f) => f.dir === 'out' && f.type === 'auth').at(-1);
      assert.equal(reauth.token, token2, 'the socket re-authenticates with the fresh token');
      await until(() => frames.some((f) => f.dir === 'in' && f.type === 'ready' && f.at >= reauth.at), {
        message: 'ready after re-auth',
      });
      await waitLive(page);
      assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), draft, 'draft untouched');

      // The fresh token also lives 320 s: the warning comes back ~20 s later. This time: log in again.
      await modal.waitFor({ timeout: 45000 });
      await modal.getByRole('button', { name: 'Log in again' }).click();
      await page.waitForURL(/\/auth\/login$/);
      await page.getByRole('status').filter({ hasText: /session expired/i }).waitFor();
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(new RegExp(`/chat/${id}$`));
      const box = page.getByLabel('Message', { exact: true });
      await until(async () => (await box.inputValue()) === draft, { message: 'the unsent draft restored' });
      assert.deepEqual(con.unexpected(), []);
    } catch (e) {
      await failWith(e, 'expiry', [page], server);
    } finally {
      await ctx.close();
    }
  });
});
