// End-to-end test of the operations console in a real browser (CTest: console.e2e, label
// console): `ordinal serve` on a fresh SQLite data directory and a free loopback port, Debian's
// chromium driven headless by playwright-core. It places orders through the API and sees the
// overview's figures and chart data move, sees the projections page caught up, then flag the
// partition stalled while the test holds the read store's write lock, then caught up again, looks
// an order up by id (with its relay publish and projector apply times) and by consistency token,
// plants two events this build cannot decode (a newer schema version, as
// tests/crash/poison_test.cpp does), searches the dead letters by type, reason and time, discards
// one with a reason and finds it in the audit log, retries the other by clicking, repairs it and
// retries again until it is applied (and shown applied), runs a rebuild watching its request to
// the end, and runs verify (which cannot read the discarded event, then finds a tampered row). Screenshots of each page go to the folder given as the second
// argument.
//
// Usage: node console_e2e.mjs <ordinal binary> [screenshot dir]
// Bounded: every wait has a timeout, the load has a count and time bound, and the whole run is
// cut at 150 s; the server, the browser and the temp folder are removed on every path out.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const binary = resolve(process.argv[2] ?? '');
const shots = process.argv[3] ? resolve(process.argv[3]) : null;
const ADMIN = 'console-e2e-admin';
const CHROMIUM = process.env.ORDINAL_CHROMIUM ?? '/usr/bin/chromium';

const dataDir = mkdtempSync(join(tmpdir(), 'ordinal-console-data-'));
const profileDir = mkdtempSync(join(tmpdir(), 'ordinal-console-chromium-'));
let server = null;
let serverLog = '';
let locker = null; // a sqlite3 shell holding a store's write lock (lockWrites)
let browser = null;

function cleanup() {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  if (locker && locker.exitCode === null) locker.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));
const overall = setTimeout(() => {
  console.error('console e2e: cut at 150 s');
  process.exit(1);
}, 150_000);
overall.unref();

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function startServer() {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    serverLog = '';
    server = spawn(
      binary,
      [
        'serve',
        '--listen',
        `127.0.0.1:${port}`,
        '--data-dir',
        dataDir,
        '--admin-token',
        ADMIN,
        // Heartbeats often and a stall reported soon, so the projections page shows one within
        // seconds of the read store being locked.
        '--heartbeat-ms',
        '250',
        '--process-stale-ms',
        '3000',
        '--projection-stall-ms',
        '2000',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout.on('data', (d) => (serverLog += d));
    server.stderr.on('data', (d) => (serverLog += d));
    const base = `http://127.0.0.1:${port}`;
    const until = Date.now() + 20_000;
    while (Date.now() < until && server.exitCode === null) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) return base;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  throw new Error(`ordinal serve did not come up:\n${serverLog}`);
}

async function api(base, method, path, body, { admin = false } = {}) {
  const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() };
  if (admin) headers.Authorization = `Bearer ${ADMIN}`;
  const r = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function placeOrder(base, sku) {
  const r = await api(base, 'POST', '/v1/orders', { userId: randomUUID(), currency: 'EUR', items: [{ sku, qty: 1 }] });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  return r.json;
}

// Reads an order behind its token: the read model has applied it once this answers 200.
async function readOrder(base, ack) {
  const r = await fetch(`${base}/v1/orders/${ack.orderId}`, {
    headers: { 'X-Consistency-Token': ack.consistencyToken, 'X-Consistency-Wait-Ms': '5000' },
  });
  const body = await r.text();
  assert.equal(r.status, 200, body);
  return JSON.parse(body);
}

function sqlite(file, sql) {
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', join(dataDir, file), sql], { stdio: 'pipe' });
}

// Holds `file`'s write lock from a sqlite3 shell of our own until release() (or the end of the
// run): the projector can then apply nothing, as when its store hangs.
async function lockWrites(file) {
  locker = spawn('sqlite3', ['-cmd', '.timeout 10000', join(dataDir, file)], { stdio: ['pipe', 'ignore', 'pipe'] });
  // Once the lock is held the shell writes a flag file and closes it (its standard output to a
  // pipe may sit in a buffer).
  const flag = join(dataDir, `${file}.locked`);
  locker.stdin.write(`BEGIN IMMEDIATE;\n.output ${flag}\n.print locked\n.output stdout\n`);
  const until = Date.now() + 15_000;
  while (!(existsSync(flag) && readFileSync(flag, 'utf8').includes('locked'))) {
    if (Date.now() > until || locker.exitCode !== null) throw new Error(`could not lock ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return async () => {
    const done = new Promise((r) => locker.once('exit', r));
    locker.stdin.end('COMMIT;\n');
    await done;
    locker = null;
  };
}

async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function text(page, testId) {
  return (await page.getByTestId(testId).first().textContent())?.trim() ?? '';
}

// The order view's write and read versions of one order, looked up by its id.
async function lookUp(page, orderId) {
  await page.getByTestId('nav-stream').click();
  await page.getByTestId('stream-input').fill(orderId);
  await page.getByTestId('stream-lookup').click();
  await page.getByTestId('stream-view').waitFor();
  return { write: await text(page, 'write-version'), read: await text(page, 'read-version') };
}

async function run() {
  const base = await startServer();
  const sku = `E2E-${Date.now()}`;
  const product = await api(
    base,
    'PUT',
    `/v1/products/${sku}`,
    { name: 'Console test product', currency: 'EUR', priceMinor: 1250, stock: null },
    { admin: true },
  );
  assert.equal(product.status, 202, JSON.stringify(product.json));

  // A fresh profile every run (removed at the end), with Chromium's own background traffic off:
  // the machine may have no network, and nothing here needs one.
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(20_000);
  page.on('dialog', (d) => void d.accept());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  // Without the token the admin calls are refused, and the page says so.
  await page.goto(`${base}/console/`);
  await page.getByText('HTTP 401').first().waitFor();
  await page.getByTestId('token').fill(ADMIN);
  await page.getByTestId('token-save').click();

  // --- Overview: the figures and the chart data move while orders are placed.
  await page.waitForFunction(() => document.querySelector('[data-testid=fig-commands]')?.textContent === '1');
  let stop = false;
  const acks = [];
  const load = (async () => {
    const until = Date.now() + 20_000;
    for (let i = 0; i < 400 && !stop && Date.now() < until; i++) {
      acks.push(await placeOrder(base, sku));
      await new Promise((r) => setTimeout(r, 20)); // pacing: a few seconds of load, not a burst
    }
  })();
  // Moving: several polls in a row saw commands flow.
  await page.waitForFunction(() => (window.ordinalCharts?.rate?.[1] ?? []).filter((v) => v > 0).length >= 4);
  stop = true;
  await load;
  const commands = await page.waitForFunction(
    (want) => Number(document.querySelector('[data-testid=fig-commands]')?.textContent) >= want && Number(document.querySelector('[data-testid=fig-commands]')?.textContent),
    acks.length + 1,
  );
  assert.equal(await commands.jsonValue(), acks.length + 1, 'every command counted once');
  const charts = await page.evaluate(() => window.ordinalCharts);
  assert.ok(charts.rate[0].length >= 5, 'the charts kept polling');
  assert.ok(charts.p99[1].some((v) => v > 0), 'p99 latency drawn');
  assert.ok(charts.lag[1].some((v) => v !== null), 'projection lag drawn');
  // Once the load stopped the projector catches up: the lag reads 0, not nothing.
  await page.waitForFunction(() => document.querySelector('[data-testid=fig-lag]')?.textContent === '0');
  for (const id of ['rate', 'p99', 'outbox', 'lag', 'dead']) {
    assert.equal(await page.getByTestId(`chart-${id}`).locator('canvas').count(), 1, `chart ${id} drawn`);
  }
  await shot(page, 'overview');

  // --- Projections: the in-process bus's one partition caught up (its position at the bus's end
  // and at the outbox's high-water mark, nothing behind, its projector live, not stalled), the
  // trend drawn; then its store locked so that it can apply nothing: behind and flagged stalled;
  // then released: caught up again.
  await page.getByTestId('nav-projections').click();
  // The cells of the `local` row once `want` holds of them: [partition, owner, owner state,
  // position, bus end, behind, outbox high-water, behind the outbox, moved, stalled].
  const localRow = async (want) =>
    (
      await page.waitForFunction((w) => {
        const row = [...document.querySelectorAll('[data-testid=projections-table] tbody tr')].find(
          (r) => r.cells[0].textContent === 'local',
        );
        if (!row) return false;
        const c = [...row.cells].map((td) => td.textContent);
        const caughtUp = c[3] === c[4] && c[4] === c[6] && c[5] === '0' && c[7] === '0' && c[9] === 'no';
        const stalled = c[9].startsWith('yes') && Number(c[5]) > 0 && Number(c[7]) > 0;
        return (w === 'caught up' ? caughtUp : stalled) && c;
      }, want)
    ).jsonValue();
  const caughtUp = await localRow('caught up');
  assert.equal(caughtUp[2], 'live', caughtUp.join(' | '));
  assert.equal(Number(caughtUp[6]), Number(await page.getByTestId('projections-outbox').getAttribute('data-last-seq')));
  assert.equal(Number(caughtUp[6]), acks.length + 1, 'every event in the outbox, and applied');
  assert.equal(await text(page, 'projections-summary'), '1 partition(s), 0 stalled');
  const relays = await page.getByTestId('relays-table').locator('tbody tr').allTextContents();
  assert.deepEqual(relays, ['0' + caughtUp[1] + 'liveno'], 'the one outbox partition, its relay live');
  await page.waitForFunction(() => (window.ordinalBehind?.[0]?.length ?? 0) >= 3 && window.ordinalBehindPartitions?.[0] === 'local');
  assert.equal(await page.getByTestId('chart-behind').locator('canvas').count(), 1, 'the trend drawn');
  await shot(page, 'projections');

  const release = await lockWrites('read.db');
  const waiting = await placeOrder(base, sku);
  const stalled = await localRow('stalled');
  assert.equal(Number(stalled[4]), acks.length + 2, `the bus end moved on: ${stalled.join(' | ')}`);
  assert.equal(Number(stalled[3]), acks.length + 1, 'the position did not');
  assert.equal(await text(page, 'projections-summary'), '1 partition(s), 1 stalled');
  await page.waitForFunction(() => window.ordinalBehind?.[1]?.some((v) => v > 0), undefined, { timeout: 10_000 });
  await shot(page, 'projections-stalled');
  await release();
  await localRow('caught up');
  await readOrder(base, waiting);

  // --- Order view: by order id, then by consistency token.
  const last = acks[acks.length - 1];
  await readOrder(base, last);
  assert.deepEqual(await lookUp(page, last.orderId), { write: '1', read: '1' });
  const row = page.getByTestId('stream-events').locator('tbody tr');
  assert.equal(await row.count(), 1);
  assert.match(await row.first().textContent(), /OrderPlaced/);
  // When the relay published it and the projector applied it: after its commit, as the admin
  // stream view has them (from the stores' batch times).
  const committedAt = (await row.first().locator('td').nth(3).textContent()).trim();
  const publishedAt = await row.first().getByTestId('published-at').getAttribute('data-at');
  const appliedAt = await row.first().getByTestId('applied-at').getAttribute('data-at');
  assert.ok(publishedAt && appliedAt, 'publish and apply times shown');
  assert.ok(Date.parse(publishedAt) >= Date.parse(committedAt), `${publishedAt} after ${committedAt}`);
  assert.ok(Date.parse(appliedAt) >= Date.parse(committedAt), `${appliedAt} after ${committedAt}`);
  const streamView = await api(base, 'GET', `/v1/admin/streams/order/${last.orderId}`, undefined, { admin: true });
  assert.equal(streamView.json.events[0].publishedAt, publishedAt);
  assert.equal(streamView.json.events[0].appliedAt, appliedAt);
  await page.getByTestId('stream-input').fill(last.consistencyToken);
  await page.getByTestId('stream-lookup').click();
  await page.getByTestId('token-passes').waitFor();
  assert.match(await text(page, 'token-passes'), /would pass now/);
  await shot(page, 'order');

  // --- Two poison events at a schema version no build knows (9; OrderCancelled has a v2 now): OrderShipped on one
  // order (repaired and retried below), OrderCancelled on another (discarded below).
  const parked = await placeOrder(base, sku);
  await readOrder(base, parked);
  const doomed = await placeOrder(base, sku);
  await readOrder(base, doomed);
  const plant = (orderId, type) =>
    sqlite(
      'write.db',
      `INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, causation_id, ` +
        `schema_version, data, created_ms) VALUES ('${randomUUID()}', 'order', '${orderId}', 2, ` +
        `'${type}', '2026-12-06T00:00:00.000Z', '${randomUUID()}', 9, '{}', ${Date.now()})`,
    );
  plant(parked.orderId, 'OrderShipped');
  plant(doomed.orderId, 'OrderCancelled');
  // A later command wakes the relay, which publishes the planted rows before it (outbox order).
  await readOrder(base, await placeOrder(base, sku));

  await page.getByTestId('nav-dead-letters').click();
  await page.getByText('2 dead letter(s)').waitFor();

  // Searched on the server: by type, by reason, by time.
  const searchFor = async (fields, count) => {
    for (const [id, value] of Object.entries({ 'dl-type': '', 'dl-reason': '', 'dl-since': '', 'dl-until': '', ...fields }))
      await page.getByTestId(id).fill(value);
    const before = Number(await page.getByTestId('dl-list').getAttribute('data-loads'));
    await page.getByTestId('dl-search').click();
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid=dl-list]')?.dataset.loads) > b, before);
    assert.equal(await text(page, 'dl-count'), `${count} dead letter(s)`, JSON.stringify(fields));
  };
  await searchFor({ 'dl-type': 'OrderCancelled' }, 1);
  assert.match(await text(page, 'dead-letter'), new RegExp(`order/${doomed.orderId} v2 OrderCancelled`));
  await searchFor({ 'dl-reason': 'schema version 9' }, 2);
  await searchFor({ 'dl-reason': 'no such reason' }, 0);
  // Whole minutes: the browser keeps such a value without its seconds, and playwright-core checks
  // that what it reads back is what it filled.
  await searchFor({ 'dl-since': '2999-01-01T00:00' }, 0);
  await searchFor({ 'dl-since': '2020-01-01T00:00', 'dl-until': '2999-01-01T00:00' }, 2);

  // Discarded with a reason (the button waits for one); then only the other is left.
  await searchFor({ 'dl-type': 'OrderCancelled' }, 1);
  const doomedId = await page.getByTestId('dead-letter').first().getAttribute('data-id');
  assert.equal(await page.getByTestId(`dl-discard-${doomedId}`).isDisabled(), true, 'no discard without a reason');
  await page.getByTestId(`dl-discard-reason-${doomedId}`).fill('test order from the console e2e');
  await page.getByTestId(`dl-discard-${doomedId}`).click();
  await page.waitForFunction(() => /^discarded/.test(document.querySelector('[data-testid=dl-result]')?.textContent ?? ''));
  assert.equal(await text(page, 'dl-result'), `discarded #${doomedId}: test order from the console e2e`);
  await page.getByText('0 dead letter(s)').waitFor();
  await searchFor({}, 1);
  assert.equal(await page.getByTestId('dead-letter').count(), 1);
  const letter = await text(page, 'dead-letter');
  assert.match(letter, new RegExp(`order/${parked.orderId} v2 OrderShipped`));
  assert.match(letter, /schema version 9/);

  // The audit log has the discard, with its reason.
  await page.getByTestId('nav-audit').click();
  const discardRow = page.getByTestId('audit-table').locator('tbody tr', { hasText: 'discard_dead_letter' });
  await discardRow.first().waitFor();
  assert.match(await discardRow.first().textContent(), new RegExp(`dead-letter/${doomedId}.*test order from the console e2e.*done`));
  await page.getByTestId('nav-dead-letters').click();
  await page.getByTestId('dead-letter').first().waitFor();

  // This build still cannot read it: the retry says so and the letter stays.
  const retryButton = page.locator('[data-testid^=dl-retry-]:not([data-testid=dl-retry-all])');
  await retryButton.first().click();
  await page.waitForFunction(() => /^retried/.test(document.querySelector('[data-testid=dl-result]')?.textContent ?? ''));
  assert.equal(await text(page, 'dl-result'), 'retried 1, applied 0, remaining 1');
  await page.getByTestId('dead-letter').first().locator('summary').click();
  // Its payload, as the bus carried it, pretty-printed: the schema version this build cannot read.
  const payload = page.getByTestId('dead-letter').first().locator('pre');
  await payload.waitFor();
  assert.match(await payload.textContent(), /"schemaVersion": 9/);
  await shot(page, 'dead-letters');

  // "Why isn't it visible?": the order view shows version 2 committed and published, not applied.
  assert.deepEqual(await lookUp(page, parked.orderId), { write: '2', read: '1' });
  const rows = page.getByTestId('stream-events').locator('tbody tr');
  assert.match(await rows.nth(1).textContent(), /^2OrderShipped/);
  assert.ok(await rows.nth(1).getByTestId('published-at').getAttribute('data-at'), 'published, when shown');
  assert.equal(await rows.nth(1).getByTestId('applied-at').textContent(), 'no');
  await shot(page, 'order-behind');
  await page.getByTestId('nav-dead-letters').click();
  await page.getByTestId('dead-letter').first().waitFor();

  // An operator's repair: the event stored again at schema version 1, in the log and in the
  // parked message (what a build that reads version 9 would make of it). Retried by clicking, it
  // is applied, and a rebuild later replays the repaired log without parking it again.
  sqlite('write.db', `UPDATE events SET schema_version = 1 WHERE stream_id = '${parked.orderId}' AND version = 2`);
  sqlite('read.db', `UPDATE dead_letters SET payload = CAST(replace(CAST(payload AS TEXT), '"schemaVersion":9', '"schemaVersion":1') AS BLOB)`);
  await retryButton.first().click();
  await page.waitForFunction(() => /applied 1/.test(document.querySelector('[data-testid=dl-result]')?.textContent ?? ''));
  assert.equal(await text(page, 'dl-result'), 'retried 1, applied 1, remaining 0');
  await page.getByText('0 dead letter(s)').waitFor();
  // The retry shows what it applied: the stream it moved, read version 2, version 2 applied.
  const applied = page.getByTestId('dl-applied').getByTestId('stream-view');
  await applied.waitFor();
  assert.match(await applied.locator('h3').textContent(), new RegExp(`order/${parked.orderId}`));
  assert.equal((await applied.getByTestId('read-version').textContent()).trim(), '2');
  const retried = applied.locator('tbody tr').nth(1);
  assert.match(await retried.textContent(), /^2OrderShipped/);
  assert.ok(await retried.getByTestId('applied-at').getAttribute('data-at'), 'applied by the retry, when shown');
  await shot(page, 'dead-letters-applied');
  const shipped = await fetch(`${base}/v1/orders/${parked.orderId}`).then((r) => r.json());
  assert.equal(shipped.status, 'SHIPPED');
  assert.equal(shipped.version, 2);

  assert.deepEqual(await lookUp(page, parked.orderId), { write: '2', read: '2' });

  // --- Rebuild: started by clicking, followed through its admin request to its result.
  await page.getByTestId('nav-rebuild').click();
  await page.getByTestId('rebuild-start').click();
  await page.waitForFunction(() => /^rebuilt/.test(document.querySelector('[data-testid=rebuild-result]')?.textContent ?? ''));
  const rebuilt = await text(page, 'rebuild-result');
  const replayed = Number(/(\d+) events replayed/.exec(rebuilt)?.[1]);
  // product, orders, the one placed while the read store was locked, the two poisoned orders and
  // their events, the later order
  assert.equal(replayed, acks.length + 7, rebuilt);
  const state = page.getByTestId('rebuild-state');
  assert.match(await state.textContent(), /^request \d+: done/);
  assert.equal(await state.getAttribute('data-replayed'), String(replayed), 'the progress reached the end');
  const afterRebuild = await fetch(`${base}/v1/orders/${parked.orderId}`).then((r) => r.json());
  assert.equal(afterRebuild.version, 2, 'the repaired event replayed');
  // The discarded letter's event is still unreadable in the log: a rebuild parks it again.
  const letters = await api(base, 'GET', '/v1/admin/dead-letters', undefined, { admin: true });
  assert.deepEqual(letters.json.deadLetters.map((d) => d.stream), [`order/${doomed.orderId}`]);

  // --- Verify, from the same page. With the discarded event still unreadable in the log, verify
  // cannot read the log to its end, and the page says so.
  await page.getByTestId('verify-start').click();
  await page.waitForFunction(() => /^verify failed: verify could not read/.test(document.querySelector('[data-testid=verify-state]')?.textContent ?? ''));
  // The test takes its poison back out of the log, and tampers with one order's row in the read
  // model: verify then reads to the end and reports that drift among its findings.
  sqlite('write.db', `DELETE FROM events WHERE stream_id = '${doomed.orderId}' AND version = 2`);
  sqlite('read.db', `UPDATE orders_view SET total_minor = total_minor + 1 WHERE order_id = '${last.orderId}'`);
  await page.getByTestId('verify-start').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=verify-state]')?.dataset.clean !== undefined);
  const verified = await text(page, 'verify-state');
  assert.match(verified, /^\d+ finding\(s\) — \d+ events, \d+ orders, 1 products checked/, verified);
  const findings = await page.getByTestId('verify-findings-table').locator('tbody tr').allTextContents();
  assert.ok(findings.some((f) => f.includes(`order/${last.orderId}`)), `the tampered row found: ${findings}`);
  const report = await api(base, 'POST', '/v1/admin/verify', undefined, { admin: true });
  assert.equal(report.status, 200, JSON.stringify(report.json));
  assert.equal(report.json.clean, false);
  assert.equal(findings.length, report.json.findingsListed, 'every listed finding shown');
  await shot(page, 'rebuild');

  // --- The audit log: every admin action of the run, newest first.
  await page.getByTestId('nav-audit').click();
  await page.getByTestId('audit-table').waitFor();
  const actions = await page.getByTestId('audit-table').locator('tbody tr td:nth-child(2)').allTextContents();
  for (const action of ['verify', 'rebuild', 'retry_dead_letters', 'discard_dead_letter', 'product_upsert'])
    assert.ok(actions.includes(action), `${action} audited: ${actions}`);
  assert.equal(actions.filter((a) => a === 'retry_dead_letters').length, 2);
  await shot(page, 'audit');

  assert.deepEqual(pageErrors, [], 'no script errors in the page');
}

try {
  await run();
  console.log('console e2e: passed');
} catch (e) {
  console.error(e);
  console.error(`---- server log ----\n${serverLog}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(r, 5000);
      server.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
  cleanup();
}
