// The pages in a real browser: Debian's Chromium, headless, driven by playwright-core, against
// a running `tessera serve` (its address is the first argument). Outside hosts are made
// unreachable, and every request a page makes is recorded: a page may only talk to the server.
//
//   node web/tests/browser.mjs http://127.0.0.1:PORT [SCREENSHOT_DIR]
//
// Exit status 0 when every check passes.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.argv[2];
const shots = process.argv[3];
if (!base) {
  console.error('usage: node web/tests/browser.mjs http://127.0.0.1:PORT [SCREENSHOT_DIR]');
  process.exit(2);
}
const origin = new URL(base).origin;
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures += 1;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  ],
});
const outside = [];
const errors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) outside.push(r.url());
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  // Failed loads are judged by their responses below, where the refused sign-in is expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('response', (r) => {
    const expected = r.url().endsWith('/api/v1/login') && r.status() === 401;
    if (r.status() >= 400 && !expected) errors.push(`${r.status()} ${r.url()}`);
  });

  // A citizen drops a pin, sees where it will go, and submits.
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-map-ready="true"]', { timeout: 30000 });
  const options = await page.locator('#category option').count();
  check(options >= 30, `the categories are offered (${options})`);
  // Submitting without a pin is refused next to the field.
  await page.fill('#description', '小区门口垃圾桶满溢');
  await page.click('#submit');
  check((await page.textContent('#pin-error')).length > 0, 'no pin: the error is shown next to the map');
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(() => /:/.test(document.getElementById('where').textContent), null, { timeout: 10000 });
  const where = await page.textContent('#where');
  check(/网格|grid/i.test(where), `the pin shows its grid before sending (${where.trim()})`);
  await page.selectOption('#category', 'C01');
  // A photo goes with it (a real PNG: the server sniffs the content).
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  await page.setInputFiles('#photos', { name: 'photo.png', mimeType: 'image/png', buffer: png });
  // The first upload is cut off on the way (as on a weak phone network).
  let cut = false;
  await page.route('**/media?token=*', (route) => {
    if (cut) return route.continue();
    cut = true;
    return route.abort('connectionreset');
  });
  if (shots) { mkdirSync(shots, { recursive: true }); await page.screenshot({ path: `${shots}/report.png` }); }
  await page.click('#submit');
  await page.waitForSelector('#done:not([hidden])', { timeout: 10000 });
  const ticket = (await page.textContent('#ticket')).trim();
  check(/^ZD\d{8}-\d{6}$/.test(ticket), `a ticket code comes back (${ticket})`);
  await page.waitForSelector('#retry:not([hidden])', { timeout: 10000 });
  check((await page.textContent('#upload-error')).length > 0, 'a failed upload is shown, with a way to retry');
  await page.click('#retry');
  await page.waitForFunction(() => /^1 /.test(document.getElementById('uploaded').textContent), null, { timeout: 10000 })
    .catch(() => {});
  check(/^1 /.test(await page.textContent('#uploaded')), `retried without reporting again, the photo is attached (${await page.textContent('#uploaded')}${await page.textContent('#upload-error')})`);
  // The tracking link shows the case.
  await page.click('#track');
  await page.waitForFunction(() => document.getElementById('ticket').textContent.length > 0, null, { timeout: 10000 });
  check((await page.textContent('#ticket')).trim() === ticket, 'the tracking page shows the same ticket');
  check(/附件/.test(await page.textContent('#timeline')), 'the tracking page lists the photo');
  check((await page.textContent('#state')).trim() === '已提交', 'the state is in the citizen\'s words');
  if (shots) await page.screenshot({ path: `${shots}/track.png` });
  // English on request.
  await page.click('#lang');
  check((await page.textContent('h1')).trim() === 'Progress', 'the English switch translates the page');
  // Sign-in: a wrong password is shown as such.
  await page.goto(`${base}/login`);
  await page.fill('#name', 'nobody');
  await page.fill('#password', 'wrong password');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0, null, { timeout: 10000 });
  check(true, 'a refused sign-in is shown');
  if (shots) await page.screenshot({ path: `${shots}/login.png` });
} finally {
  await browser.close();
}
check(outside.length === 0, `no request left the server (${outside.slice(0, 3).join(', ')})`);
check(errors.length === 0, `no script errors (${errors.slice(0, 3).join(' | ')})`);
if (failures) {
  console.error(`${failures} browser checks failed`);
  process.exit(1);
}
console.log('browser: every check passed');
