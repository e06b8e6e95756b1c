// Checks what the E2E suite needs before building anything; exits 1 with a clear message.
import { checkChromium } from './lib/browser.mjs';
import { serverBinary } from './lib/server.mjs';

const problems = [];
try {
  checkChromium();
} catch (e) {
  problems.push(e.message);
}
try {
  console.log(`e2e: server binary ${serverBinary()}`);
} catch (e) {
  problems.push(e.message);
}
if (problems.length) {
  console.error('\ne2e preflight failed:\n- ' + problems.join('\n- ') + '\n');
  process.exit(1);
}
console.log('e2e: chromium and server binary found');
