// Takes the README's screenshots (docs/screenshots/*.png) against the real
// chatcore-server: the login page, and a chat whose message has a code block.
// Run with `npm run screenshots` after `npm run build` and a server build.
import path from 'node:path';
import fs from 'node:fs';
import { launch } from './lib/browser.mjs';
import { startServer, WEB_DIR } from './lib/server.mjs';

const out = path.resolve(WEB_DIR, '..', '..', 'docs', 'screenshots');
fs.mkdirSync(out, { recursive: true });
const server = await startServer({ name: 'screenshots', env: { CHATCORE_OFFLINE_DELAY_MS: '5' } });
const browser = await launch();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/auth\/login$/);
  await page.screenshot({ path: path.join(out, 'login.png') });

  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/chat$/);
  await page.getByRole('button', { name: 'New chat' }).click();
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('Why does this Rust function not compile?\n\n```rust\nfn longest(a: &str, b: &str) -> &str {\n    if a.len() > b.len() { a } else { b }\n}\n```');
  await box.press('Enter');
  await page.waitForSelector('article[aria-label="assistant message"][data-status="complete"]', { timeout: 30000 });
  await page.screenshot({ path: path.join(out, 'chat-code-block.png') });
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await server.stop();
}
