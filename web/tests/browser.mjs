// The pages in a real browser: Debian's Chromium, headless, driven by playwright-core, against
// a running `tessera serve` on a fresh database (its address is the first argument). Outside
// hosts are made unreachable, and every request a page makes is recorded: a page may only talk
// to the server. The staff sign in with the demo accounts the server printed at first start
// (the file named by TESSERA_DEMO_ACCOUNTS: the server's standard output).
//
// The journey: a citizen drops a pin in the demo grid worker's grid and submits → ticket; the
// dispatcher signs in, sees it in the queue and on the map, triages and dispatches it, and sees
// another report arrive live; the grid worker checks in on site and resolves it with a photo;
// the citizen rates it unsatisfied → reopened; a planner uploads a layer with an overlap, sees it
// drawn and listed, repairs, merges two grids as an edit, and publishes; the dashboard's
// figures equal the stats API's; an expired session gets a page-level error.
//
//   TESSERA_DEMO_ACCOUNTS=serve.out node web/tests/browser.mjs http://127.0.0.1:PORT [SCREENSHOT_DIR]
//
// Exit status 0 when every check passes.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inside } from '../src/geometry.js';

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

// "  demo-dispatcher   dispatcher   district   password XXXX" → { dispatcher: {name, password, scope} }
const accounts = {};
if (process.env.TESSERA_DEMO_ACCOUNTS) {
  for (const line of readFileSync(process.env.TESSERA_DEMO_ACCOUNTS, 'utf8').split('\n')) {
    const m = line.match(/^\s+(demo-\S+)\s+(\S+)\s+(.*?)\s+password (\S+)$/);
    if (m) accounts[m[2]] = { name: m[1], scope: m[3].trim(), password: m[4] };
  }
}
const api = async (path) => (await fetch(`${base}${path}`)).json();

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
  // The pin goes into the demo grid worker's grid, so the worker can take the case.
  const workerGrid = accounts.grid_worker?.scope.split(' ')[1];
  const target = workerGrid
    ? inside((await api(`/api/v1/grids/${workerGrid}`)).geometry)
    : [118.05, 36.81];
  const located = await api(`/api/v1/locate?lon=${target[0]}&lat=${target[1]}`);
  check(!workerGrid || located.grid?.code === workerGrid || located.grid?.key === workerGrid, `the pin lies in the worker's grid ${workerGrid}`);
  const at = await page.evaluate(([lon, lat]) => {
    window.tesseraMap.jumpTo({ center: [lon, lat], zoom: 16 });
    const p = window.tesseraMap.project([lon, lat]);
    return { x: p.x, y: p.y };
  }, target);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + at.x, box.y + at.y);
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
  const trackUrl = await page.getAttribute('#track', 'href');
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
  await page.click('#lang'); // back to Chinese for the staff pages

  // A position handed over by a Chinese map SDK (GCJ-02) is converted by the service, and the
  // report carries it as given; the device's location places the pin too.
  const gcj = await api(`/api/v1/locate?lon=${target[0]}&lat=${target[1]}&crs=gcj02`);
  await page.goto(`${base}/?lon=${target[0]}&lat=${target[1]}&crs=gcj02`);
  await page.waitForFunction(() => /:/.test(document.getElementById('where').textContent), null, { timeout: 15000 });
  const shown = await page.evaluate(() => window.tesseraMarker.getLngLat().toArray());
  check(gcj.wgs84 && Math.abs(shown[0] - gcj.wgs84[0]) < 1e-9 && Math.abs(shown[1] - gcj.wgs84[1]) < 1e-9
    && Math.abs(shown[0] - target[0]) > 1e-3,
    `a GCJ-02 position is shown where the service converted it (${shown.map((x) => x.toFixed(6))})`);
  await page.fill('#description', '井盖缺失');
  const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/cases') && r.method() === 'POST');
  await page.click('#submit');
  const body = (await sent).postDataJSON();
  check(body.crs === 'gcj02' && body.lon === target[0] && body.lat === target[1], 'the report carries the GCJ-02 position as given, with its crs');
  await page.waitForSelector('#done:not([hidden])', { timeout: 10000 });
  const device = await browser.newContext({ geolocation: { longitude: target[0], latitude: target[1] }, permissions: ['geolocation'] });
  const here = await device.newPage();
  await here.goto(`${base}/`);
  await here.waitForSelector('body[data-map-ready="true"]', { timeout: 30000 });
  await here.click('#locate-me');
  await here.waitForFunction(() => /:/.test(document.getElementById('where').textContent), null, { timeout: 15000 });
  const mine = await here.evaluate(() => window.tesseraMarker.getLngLat().toArray());
  check(Math.abs(mine[0] - target[0]) < 1e-9 && Math.abs(mine[1] - target[1]) < 1e-9, 'the device\'s location places the pin');
  await device.close();
  if (!accounts.dispatcher) throw new Error('no demo accounts: set TESSERA_DEMO_ACCOUNTS to the server\'s output');

  /** A fresh browser context signed in as `role` on `path`. */
  const signIn = async (role, path, options = {}) => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...options });
    ctx.on('request', (r) => {
      const u = new URL(r.url());
      if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) outside.push(r.url());
    });
    const p = await ctx.newPage();
    p.on('pageerror', (e) => errors.push(`${role}: ${e}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`${role}: ${m.text()}`);
    });
    p.on('response', (r) => {
      if (r.status() >= 500) errors.push(`${role}: ${r.status()} ${r.url()}`);
    });
    await p.goto(`${base}/login?next=${encodeURIComponent(path)}`);
    await p.fill('#name', accounts[role].name);
    await p.fill('#password', accounts[role].password);
    await p.click('button[type=submit]');
    await p.waitForURL(`${base}${path}`, { timeout: 10000 });
    return p;
  };

  // An expired (or absent) session gets a page-level error with a way to sign in.
  const anon = await browser.newContext();
  const nobody = await anon.newPage();
  await nobody.goto(`${base}/dispatch`);
  await nobody.waitForSelector('#page-error', { timeout: 10000 });
  check(/登录/.test(await nobody.textContent('#page-error')), 'a page without a session says so and offers sign-in');
  await anon.close();

  // The dispatcher finds the report in the queue and on the map, triages and dispatches it.
  const desk = await signIn('dispatcher', '/dispatch');
  await desk.waitForSelector('body[data-queue-ready="true"]', { timeout: 30000 });
  const item = desk.locator(`li[data-ticket="${ticket}"] button`);
  check(await item.count() === 1, 'the dispatcher sees the new case in the queue');
  const onMap = await desk.evaluate((t) => {
    const data = window.tesseraMap.getSource('cases').serialize().data;
    return data.features.some((f) => f.properties.ticket === t);
  }, ticket);
  check(onMap, 'the new case is a point on the dispatcher\'s map');
  // The grids come as vector tiles: features with their codes, drawn from /tiles/grids.
  const tiled = await desk.evaluate(async () => {
    const m = window.tesseraMap;
    if (!m.areTilesLoaded()) await new Promise((ok) => m.once('idle', ok));
    const fs = m.querySourceFeatures('grids', { sourceLayer: 'grids' });
    return { n: new Set(fs.map((f) => f.properties.code)).size, named: fs.every((f) => f.properties.name) };
  });
  check(tiled.n > 100 && tiled.named, `the grids are drawn from vector tiles (${tiled.n} grids with names in view)`);
  await item.click();
  await desk.waitForFunction((t) => document.getElementById('d-ticket').textContent === t, ticket, { timeout: 10000 });
  await desk.selectOption('#a-urgency', 'yellow');
  await desk.click('#a-triage');
  await desk.waitForFunction(() => document.getElementById('d-state').textContent === '已分拨', null, { timeout: 10000 });
  await desk.click('#a-dispatch');
  await desk.waitForFunction(() => document.getElementById('d-state').textContent === '已派单', null, { timeout: 10000 });
  check(true, 'the dispatcher triaged and dispatched it');
  // Another report arrives while the desk is open: it appears without reloading.
  const r2 = await fetch(`${base}/api/v1/cases`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'citizen', category: 'C01', description: '路灯不亮', lon: target[0], lat: target[1] }),
  });
  const second = await r2.json();
  await desk.waitForFunction((t) => document.querySelector(`li[data-ticket="${t}"]`), second.ticket, { timeout: 15000 })
    .catch(() => {});
  check(await desk.locator(`li[data-ticket="${second.ticket}"]`).count() === 1, 'a new report appears on the desk live (event stream)');
  if (shots) await desk.screenshot({ path: `${shots}/dispatch.png` });

  // The grid worker checks in on site (the position is recorded) and resolves with a photo.
  const phone = await signIn('grid_worker', '/worker', {
    viewport: { width: 420, height: 900 }, geolocation: { longitude: target[0], latitude: target[1] }, permissions: ['geolocation'],
  });
  await phone.waitForSelector('body[data-queue-ready="true"]', { timeout: 30000 });
  await phone.click(`li[data-ticket="${ticket}"] button`);
  await phone.waitForFunction((t) => document.getElementById('c-ticket').textContent === t, ticket, { timeout: 10000 });
  await phone.click('#c-accept');
  await phone.waitForFunction(() => document.getElementById('c-state').textContent === '已到场', null, { timeout: 15000 });
  await phone.fill('#c-note', '已清理');
  await phone.setInputFiles('#c-photos', { name: 'after.png', mimeType: 'image/png', buffer: png });
  await phone.click('#c-resolve');
  await phone.waitForFunction(() => document.getElementById('c-state').textContent === '已办结', null, { timeout: 15000 });
  const handled = await phone.evaluate(async (t) => {
    const list = await (await fetch(`/api/v1/cases?state=resolved&per_page=50`)).json();
    const c = list.cases.find((x) => x.ticket === t);
    return (await fetch(`/api/v1/cases/${c.id}`)).json();
  }, ticket);
  const accept = handled.timeline.find((e) => e.action.action === 'accept');
  check(Array.isArray(accept?.action.position), `the check-in recorded where the worker stood (${JSON.stringify(accept?.action.position)})`);
  check(handled.timeline.filter((e) => e.action.action === 'attach').length >= 2, 'the worker\'s photo is attached to the case');
  if (shots) await phone.screenshot({ path: `${shots}/worker.png`, fullPage: true });

  // The citizen rates it unsatisfied: the case is reopened to be redone.
  await page.goto(`${base}${trackUrl}`);
  await page.waitForSelector('#rate:not([hidden])', { timeout: 10000 });
  await page.check('input[value="unsatisfied"]');
  await page.fill('#comment', '垃圾桶还是满的');
  await page.click('#rate button[type=submit]');
  await page.waitForSelector('#redo:not([hidden])', { timeout: 10000 });
  check(/1/.test(await page.textContent('#redo')) && (await page.getAttribute('#state', 'data-state')) !== 'resolved',
    `unsatisfied reopens the case (${await page.textContent('#state')}, ${await page.textContent('#redo')})`);

  // A planner uploads a layer with an overlap, sees it drawn and listed, repairs, edits, publishes.
  const grids = await api('/api/v1/grids');
  const moved = JSON.parse(JSON.stringify(grids));
  const victim = moved.features.find((f) => f.properties.code === workerGrid) ?? moved.features[0];
  const ring = victim.geometry.type === 'MultiPolygon' ? victim.geometry.coordinates[0][0] : victim.geometry.coordinates[0];
  const [cx, cy] = inside(victim.geometry);
  // Push one vertex (and the ring's closing copy) 40 % of the way out, away from the centre.
  const k = 1;
  ring[k] = [ring[k][0] + (ring[k][0] - cx) * 0.4, ring[k][1] + (ring[k][1] - cy) * 0.4];
  const dir = mkdtempSync(join(tmpdir(), 'tessera-planner-'));
  const file = join(dir, 'grids-overlap.geojson');
  writeFileSync(file, JSON.stringify(moved));
  const plan = await signIn('planner', '/planner');
  await plan.waitForSelector('body[data-planner-ready="true"]', { timeout: 60000 });
  await plan.setInputFiles('#u-file', file);
  await plan.fill('#u-name', 'overlap test');
  const before = await plan.getAttribute('body', 'data-version');
  await plan.click('#upload button[type=submit]');
  await plan.waitForFunction((v) => document.body.dataset.version !== v, before, { timeout: 60000 });
  const problems = await plan.locator('#problems li').allTextContents();
  check(problems.some((x) => /重叠/.test(x)), `the overlap is listed (${problems.slice(0, 2).join(' | ')})`);
  const drawn = await plan.evaluate(() => window.tesseraMap.getSource('problems').serialize().data.features.length);
  check(drawn > 0, `the problems are drawn on the map (${drawn})`);
  await plan.click('#problems li.overlap button');
  if (shots) await plan.screenshot({ path: `${shots}/planner.png` });
  const uploaded = await plan.getAttribute('body', 'data-version');
  await plan.click('#b-repair');
  await plan.waitForFunction((v) => document.body.dataset.version !== v, uploaded, { timeout: 60000 });
  check((await plan.textContent('#v-state')).trim() === '无缝', 'the repaired draft is seamless');
  await plan.click('#b-impact');
  await plan.waitForSelector('#impact-summary', { timeout: 30000 });
  check(/工单/.test(await plan.textContent('#impact-summary')), `the impact is shown (${await plan.textContent('#impact-summary')})`);
  await plan.fill('#p-reason', '调整网格边界');
  await plan.click('#b-publish');
  await plan.waitForFunction(() => /已发布/.test(document.getElementById('message').textContent), null, { timeout: 60000 });
  const repaired = Number(await plan.getAttribute('body', 'data-version'));
  const live = await plan.evaluate(async () => (await (await fetch('/api/v1/layers')).json()).publishes[0].layer_id);
  check(live === repaired, `the repaired layer is published (${live})`);
  // An edit: merge the worker's grid with a neighbour, saved as a new draft and validated.
  const neighbour = await plan.evaluate(async (code) => {
    const g = await (await fetch(`/api/v1/grids/${code}`)).json();
    const all = await (await fetch('/api/v1/grids')).json();
    const mine = new Set();
    const walk = (c, f) => (typeof c[0] === 'number' ? f(c) : c.forEach((x) => walk(x, f)));
    walk(g.geometry.coordinates, (c) => mine.add(c.join(',')));
    for (const f of all.features) {
      if (f.properties.code === code) continue;
      let shared = 0;
      walk(f.geometry.coordinates, (c) => { if (mine.has(c.join(','))) shared += 1; });
      if (shared >= 2) return f.properties.code;
    }
    return null;
  }, workerGrid);
  // Fits the planner's map to grids, so that they can be clicked.
  const fitGrids = (codes) => plan.evaluate(async (cs) => {
    let w = 180, s = 90, e = -180, n = -90;
    const walk = (x) => {
      if (typeof x[0] !== 'number') return x.forEach(walk);
      w = Math.min(w, x[0]); e = Math.max(e, x[0]); s = Math.min(s, x[1]); n = Math.max(n, x[1]);
    };
    for (const c of cs) walk((await (await fetch(`/api/v1/grids/${c}`)).json()).geometry.coordinates);
    window.tesseraMap.fitBounds([[w, s], [e, n]], { padding: 150, duration: 0 });
    await new Promise((ok) => window.tesseraMap.once('idle', ok));
  }, codes);
  await fitGrids([workerGrid, neighbour]);
  const point = inside((await api(`/api/v1/grids/${workerGrid}`)).geometry);
  const px = await plan.evaluate((p) => window.tesseraMap.project(p), point);
  const mapBox = await plan.locator('#map').boundingBox();
  await plan.mouse.click(mapBox.x + px.x, mapBox.y + px.y);
  await plan.waitForFunction((c) => document.getElementById('e-grid').textContent.startsWith(c), workerGrid, { timeout: 10000 });
  await plan.click('#e-merge');
  const npoint = inside((await api(`/api/v1/grids/${neighbour}`)).geometry);
  const npx = await plan.evaluate((p) => window.tesseraMap.project(p), npoint);
  await plan.mouse.click(mapBox.x + npx.x, mapBox.y + npx.y);
  await plan.waitForSelector('#edits li', { timeout: 10000 });
  const published = await plan.getAttribute('body', 'data-version');
  await plan.click('#e-save');
  await plan.waitForFunction((v) => document.body.dataset.version !== v, published, { timeout: 60000 });
  const merged = await plan.evaluate(async () => (await (await fetch(`/api/v1/layers/${document.body.dataset.version}`)).json()).layer);
  check(merged.grid_count === grids.features.length - 1 && merged.seamless,
    `merging ${workerGrid} and ${neighbour} makes a seamless draft with one grid fewer (${merged.grid_count}, seamless ${merged.seamless})`);
  // A split along a line drawn on the map with terra-draw: one grid more, still seamless.
  const other = grids.features.find((f) => ![workerGrid, neighbour].includes(f.properties.code)
    && f.geometry.type === 'MultiPolygon' && f.geometry.coordinates.length === 1).properties.code;
  await fitGrids([other]);
  const line = await plan.evaluate(async (c) => {
    const g = await (await fetch(`/api/v1/grids/${c}`)).json();
    const ring = g.geometry.coordinates[0][0];
    const xs = ring.map((p) => p[0]);
    const mid = ring.reduce((a, p) => [a[0] + p[0] / ring.length, a[1] + p[1] / ring.length], [0, 0]);
    const m = window.tesseraMap;
    const y = m.project(mid).y;
    return { left: m.project([Math.min(...xs), mid[1]]).x - 30, right: m.project([Math.max(...xs), mid[1]]).x + 30, y, cx: m.project(mid).x };
  }, other);
  await plan.mouse.click(mapBox.x + line.cx, mapBox.y + line.y);
  await plan.waitForFunction((c) => document.getElementById('e-grid').textContent.startsWith(c), other, { timeout: 10000 });
  await plan.click('#e-split');
  await plan.mouse.click(mapBox.x + line.left, mapBox.y + line.y);
  await plan.mouse.click(mapBox.x + line.right, mapBox.y + line.y);
  await plan.mouse.click(mapBox.x + line.right, mapBox.y + line.y);
  await plan.waitForSelector('#edits li', { timeout: 10000 }).catch(() => {});
  const mergedVersion = await plan.getAttribute('body', 'data-version');
  await plan.click('#e-save');
  await plan.waitForFunction((v) => document.body.dataset.version !== v, mergedVersion, { timeout: 60000 }).catch(() => {});
  const split = await plan.evaluate(async () => (await (await fetch(`/api/v1/layers/${document.body.dataset.version}`)).json()).layer);
  check(split.grid_count === merged.grid_count + 1 && split.seamless,
    `a line drawn across ${other} splits it into a seamless draft (${split.grid_count} grids, seamless ${split.seamless}; ${await plan.textContent('#message')})`);

  // A boundary edited with terra-draw: a vertex dragged away and dropped a few pixels from where
  // it was snaps back onto the stored vertex the neighbours share, so the draft stays seamless.
  const third = grids.features.find((f) => ![workerGrid, neighbour, other].includes(f.properties.code)
    && f.geometry.type === 'MultiPolygon' && f.geometry.coordinates.length === 1).properties.code;
  await fitGrids([third]);
  const geo = await plan.evaluate(async (c) => {
    const g = await (await fetch(`/api/v1/grids/${c}`)).json();
    const ring = g.geometry.coordinates[0][0];
    const mid = ring.slice(1).reduce((a, p) => [a[0] + p[0] / (ring.length - 1), a[1] + p[1] / (ring.length - 1)], [0, 0]);
    const m = window.tesseraMap;
    return { vertex: ring[0], at: m.project(ring[0]), mid: m.project(mid) };
  }, third);
  await plan.mouse.click(mapBox.x + geo.mid.x, mapBox.y + geo.mid.y);
  await plan.waitForFunction((c) => document.getElementById('e-grid').textContent.startsWith(c), third, { timeout: 10000 });
  await plan.click('#e-edit');
  await plan.waitForTimeout(300);
  const vx = mapBox.x + geo.at.x, vy = mapBox.y + geo.at.y;
  await plan.mouse.move(vx, vy);
  await plan.mouse.down();
  await plan.mouse.move(vx + 40, vy + 30, { steps: 6 });
  const away = await plan.evaluate(() => window.tesseraDraw.getSnapshot()[0].geometry.coordinates[0][0]);
  // While dragged away, the local check flags the boundary (the grid and its neighbours only).
  const flagged = await plan.waitForFunction(() => document.getElementById('e-check').dataset.valid === 'false', null, { timeout: 10000 })
    .then(() => true).catch(() => false);
  check(flagged, `the dragged boundary is checked where it acts while drawing (${await plan.textContent('#e-check')})`);
  await plan.mouse.move(vx + 4, vy + 3, { steps: 6 });
  await plan.mouse.up();
  const back = await plan.evaluate(() => window.tesseraDraw.getSnapshot()[0].geometry.coordinates[0][0]);
  check(Math.hypot(away[0] - geo.vertex[0], away[1] - geo.vertex[1]) > 1e-5, `the vertex was dragged (to ${away})`);
  check(Math.abs(back[0] - geo.vertex[0]) < 1e-9 && Math.abs(back[1] - geo.vertex[1]) < 1e-9,
    `dropped near its old place it snaps onto the neighbours' vertex (${back} vs ${geo.vertex})`);
  const clean = await plan.waitForFunction(() => document.getElementById('e-check').dataset.valid === 'true', null, { timeout: 10000 })
    .then(() => true).catch(() => false);
  check(clean, `snapped back, the local check finds nothing (${await plan.textContent('#e-check')})`);
  await plan.click('#e-edit');
  await plan.waitForSelector('#edits li', { timeout: 10000 });
  const splitVersion = await plan.getAttribute('body', 'data-version');
  await plan.click('#e-save');
  await plan.waitForFunction((v) => document.body.dataset.version !== v, splitVersion, { timeout: 60000 }).catch(() => {});
  const edited = await plan.evaluate(async () => (await (await fetch(`/api/v1/layers/${document.body.dataset.version}`)).json()).layer);
  check(edited.id !== Number(splitVersion) && edited.seamless, `the edited boundary is saved as a seamless draft (#${edited.id}, ${await plan.textContent('#message')})`);

  // The dashboard's figures are the stats API's.
  const board = await signIn('supervisor', '/dashboard');
  await board.waitForSelector('body[data-stats-ready]', { timeout: 30000 });
  const { query, stats } = await board.evaluate(() => window.tesseraStats);
  const fresh = await board.evaluate(async (q) => (await fetch(q)).json(), query);
  check(JSON.stringify(fresh.by_month) === JSON.stringify(stats.by_month), 'the dashboard drew the API\'s figures');
  check((await board.textContent('#k-total')).trim() === String(fresh.total), `total appeals equal the API's (${fresh.total})`);
  const pct = (x) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
  check((await board.textContent('#k-satisfaction')).trim() === pct(fresh.satisfaction_rate), 'the satisfaction rate equals the API\'s');
  const firstRow = await board.locator('#departments tbody tr').first().locator('td').allTextContents();
  check(fresh.departments.length > 0 && firstRow[2] === String(fresh.departments[0].cases), `the department ranking equals the API's (${firstRow.join(' ')})`);
  check(fresh.streets.length > 0 && fresh.streets.every((s) => s.population > 0), 'appeals per 10,000 residents use the grids\' population');
  if (shots) await board.screenshot({ path: `${shots}/dashboard.png`, fullPage: true });
} catch (e) {
  check(false, `the journey ran to its end: ${e.message.split('\n')[0]}`);
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
