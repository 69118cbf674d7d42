// A plain Node.js implementation of Ordinal's create-order pipeline on PostgreSQL, written the way
// a team would write it in an afternoon with node-postgres: a pool per process, one transaction
// per command, an outbox table drained by a polling relay that projects into a second database.
// It exists only so that bench/run_node_reference.sh can put Ordinal next to it in the same run
// (BENCHMARKS.md, "Next to a plain Node.js implementation"); it is not part of the product and
// implements only what the benchmark's loads touch: PUT /v1/products/{sku}, POST /v1/orders,
// GET /v1/orders/{id} (with X-Consistency-Token waits) and GET /readyz.
//
// It keeps the guarantees the comparison is about: the key is checked first (a repeat answers the
// original, another payload 409), stock is reserved under row locks in sku order, the order, its
// event, the outbox row and the key's record commit in one transaction, and the relay applies
// each event to the read model once (guarded by the stream version) before it deletes the outbox
// row. What it leaves out, and Ordinal does not: batching commits across requests, an
// out-of-order-commit-safe relay (this one drains by sequence number with SKIP LOCKED), pay/ship/
// cancel, and most of the API's validation messages.
//
//   node server.mjs --listen 127.0.0.1:PORT --write-db URL --read-db URL [--pool 32] [--workers 1]
//                   [--admin-token T]
// --pool is the node-postgres pool size per database over all workers.

import cluster from 'node:cluster';
import http from 'node:http';
import { randomUUID, createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:8090' },
    'write-db': { type: 'string' },
    'read-db': { type: 'string' },
    pool: { type: 'string', default: '32' },
    'admin-token': { type: 'string', default: '' },
    workers: { type: 'string', default: '1' },
  },
});
if (!args['write-db'] || !args['read-db']) {
  console.error('usage: node server.mjs --listen HOST:PORT --write-db URL --read-db URL');
  process.exit(2);
}

// --workers 1 (the default): one process serves HTTP and runs the relay.
const workers = Number(args.workers) > 1 ? Number(args.workers) : 0;
const poolSize = Math.max(1, Math.floor(Number(args.pool) / Math.max(1, workers)));
const writeDb = new pg.Pool({ connectionString: args['write-db'], max: poolSize });
const readDb = new pg.Pool({ connectionString: args['read-db'], max: poolSize });
const relayWrite = new pg.Client({ connectionString: args['write-db'] });
const relayRead = new pg.Client({ connectionString: args['read-db'] });

const WRITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS products (
  sku text PRIMARY KEY, name text NOT NULL, currency char(3) NOT NULL,
  price_minor bigint NOT NULL, stock bigint, reserved bigint NOT NULL DEFAULT 0,
  version int NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  order_id uuid PRIMARY KEY, user_id uuid NOT NULL, status text NOT NULL,
  currency char(3) NOT NULL, total_minor bigint NOT NULL, version int NOT NULL,
  created_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS order_lines (
  order_id uuid NOT NULL, sku text NOT NULL, qty int NOT NULL, unit_price_minor bigint NOT NULL,
  PRIMARY KEY (order_id, sku));
CREATE TABLE IF NOT EXISTS events (
  seq bigserial PRIMARY KEY, event_id uuid NOT NULL, type text NOT NULL,
  stream_type text NOT NULL, stream_id text NOT NULL, version int NOT NULL,
  occurred_at timestamptz NOT NULL, causation_id uuid NOT NULL, data jsonb NOT NULL,
  UNIQUE (stream_type, stream_id, version));
CREATE TABLE IF NOT EXISTS outbox (seq bigint PRIMARY KEY);
CREATE TABLE IF NOT EXISTS idempotency (
  key uuid PRIMARY KEY, fingerprint text NOT NULL, answer jsonb NOT NULL);`;

const READ_SCHEMA = `
CREATE TABLE IF NOT EXISTS orders_view (
  order_id uuid PRIMARY KEY, user_id uuid NOT NULL, status text NOT NULL, currency text NOT NULL,
  items jsonb NOT NULL, total_minor bigint NOT NULL, version int NOT NULL,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS orders_view_user ON orders_view (user_id, created_at DESC);
CREATE TABLE IF NOT EXISTS products_view (
  sku text PRIMARY KEY, name text NOT NULL, currency text NOT NULL, price_minor bigint NOT NULL,
  stock bigint, version int NOT NULL);`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SKU = /^[A-Za-z0-9._-]{1,64}$/;
const CURRENCY = /^[A-Z]{3}$/;

class HttpError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.body = { error: code, message, ...extra };
  }
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 65536) reject(new HttpError(413, 'payload_too_large', 'body over 64 KiB'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text) {
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error();
    return value;
  } catch {
    throw new HttpError(400, 'validation_failed', 'the body is not a JSON object');
  }
}

// The key from the header and/or the body (they must agree), lower-cased; the payload's
// fingerprint leaves the key out, so a repeat with the key only in the header is the same payload.
function commandKey(req, body) {
  const header = req.headers['idempotency-key'];
  const inBody = body.idempotencyKey;
  const key = header ?? inBody;
  if (typeof key !== 'string' || !UUID.test(key))
    throw new HttpError(400, 'validation_failed', 'an idempotency key (UUID) is required');
  if (header !== undefined && inBody !== undefined && String(inBody).toLowerCase() !== header.toLowerCase())
    throw new HttpError(400, 'validation_failed', 'the header and body keys differ');
  const { idempotencyKey, ...payload } = body;
  return { key: key.toLowerCase(), payload };
}

function fingerprint(kind, target, payload) {
  return createHash('sha256').update(JSON.stringify([kind, target, payload])).digest('hex');
}

function validationError(field, message) {
  return new HttpError(400, 'validation_failed', `${field}: ${message}`, { details: [{ field, message }] });
}

function validateOrder(p) {
  if (typeof p.userId !== 'string' || !UUID.test(p.userId)) throw validationError('userId', 'a UUID');
  if (typeof p.currency !== 'string' || !CURRENCY.test(p.currency)) throw validationError('currency', 'ISO 4217');
  if (!Array.isArray(p.items) || p.items.length < 1 || p.items.length > 100)
    throw validationError('items', '1 to 100 lines');
  const seen = new Set();
  for (const [i, item] of p.items.entries()) {
    if (typeof item?.sku !== 'string' || !SKU.test(item.sku)) throw validationError(`items[${i}].sku`, 'a sku');
    if (!Number.isInteger(item.qty) || item.qty < 1 || item.qty > 10000)
      throw validationError(`items[${i}].qty`, '1 to 10000');
    if (seen.has(item.sku)) throw validationError(`items[${i}].sku`, 'duplicate sku');
    seen.add(item.sku);
  }
  for (const field of Object.keys(p))
    if (!['userId', 'currency', 'items'].includes(field)) throw validationError(field, 'unknown field');
}

function validateProduct(p) {
  if (typeof p.name !== 'string' || p.name.length < 1 || p.name.length > 200) throw validationError('name', '1 to 200 characters');
  if (typeof p.currency !== 'string' || !CURRENCY.test(p.currency)) throw validationError('currency', 'ISO 4217');
  if (!Number.isSafeInteger(p.priceMinor) || p.priceMinor < 0) throw validationError('priceMinor', 'an integer >= 0');
  if (p.stock !== null && (!Number.isSafeInteger(p.stock) || p.stock < 0)) throw validationError('stock', 'an integer >= 0 or null');
}

// A repeat of a recorded key: the original answer as a duplicate, or 409 for another payload.
function answerForUsedKey(row, print) {
  if (row.fingerprint !== print)
    throw new HttpError(409, 'idempotency_key_reused', 'this key was used for another command');
  return { status: 200, body: { ...row.answer, status: 'duplicate' } };
}

// Runs one command: the key first, then validation, then the transaction; a concurrent repeat
// that loses the race for the key's row is answered from the winner's record.
async function runCommand(key, print, validate, work) {
  const used = await writeDb.query('SELECT fingerprint, answer FROM idempotency WHERE key = $1', [key]);
  if (used.rowCount) return answerForUsedKey(used.rows[0], print);
  validate();
  const client = await writeDb.connect();
  try {
    await client.query('BEGIN');
    const answer = await work(client);
    await client.query('INSERT INTO idempotency (key, fingerprint, answer) VALUES ($1, $2, $3)', [key, print, answer]);
    await client.query('COMMIT');
    return { status: 202, body: answer };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    if (err.code === '23505' && err.constraint === 'idempotency_pkey') {
      const row = await writeDb.query('SELECT fingerprint, answer FROM idempotency WHERE key = $1', [key]);
      return answerForUsedKey(row.rows[0], print);
    }
    throw err;
  } finally {
    client.release();
  }
}

async function appendEvent(client, key, type, streamType, streamId, version, data) {
  const eventId = randomUUID();
  const { rows } = await client.query(
    `INSERT INTO events (event_id, type, stream_type, stream_id, version, occurred_at, causation_id, data)
     VALUES ($1, $2, $3, $4, $5, now(), $6, $7) RETURNING seq`,
    [eventId, type, streamType, streamId, version, key, data]);
  await client.query('INSERT INTO outbox (seq) VALUES ($1)', [rows[0].seq]);
  return eventId;
}

function ack(eventId, streamType, streamId, version, extra = {}) {
  return { status: 'accepted', eventId, streamId, ...extra, version, consistencyToken: `${streamType}:${streamId}:${version}` };
}

async function placeOrder(req, res) {
  const body = parseJson(await readBody(req));
  const { key, payload } = commandKey(req, body);
  const print = fingerprint('place', '', payload);
  const orderId = randomUUID();
  const result = await runCommand(key, print, () => validateOrder(payload), async (client) => {
    const skus = payload.items.map((i) => i.sku).sort();
    const { rows } = await client.query(
      'SELECT sku, currency, price_minor, stock, reserved FROM products WHERE sku = ANY($1) ORDER BY sku FOR UPDATE', [skus]);
    const products = new Map(rows.map((r) => [r.sku, r]));
    let total = 0n;
    const lines = [];
    for (const item of payload.items) {
      const p = products.get(item.sku);
      if (!p) throw new HttpError(422, 'unknown_sku', `unknown sku ${item.sku}`, { sku: item.sku });
      if (p.currency !== payload.currency) throw new HttpError(422, 'currency_mismatch', `${item.sku} is priced in ${p.currency}`);
      if (p.stock !== null && BigInt(p.stock) - BigInt(p.reserved) < BigInt(item.qty))
        throw new HttpError(422, 'insufficient_stock', `not enough ${item.sku}`, { sku: item.sku });
      total += BigInt(p.price_minor) * BigInt(item.qty);
      lines.push({ sku: item.sku, qty: item.qty, unitPriceMinor: Number(p.price_minor) });
    }
    await client.query(
      `UPDATE products p SET reserved = p.reserved + l.qty
       FROM unnest($1::text[], $2::int[]) AS l(sku, qty) WHERE p.sku = l.sku`,
      [lines.map((l) => l.sku), lines.map((l) => l.qty)]);
    await client.query(
      'INSERT INTO orders (order_id, user_id, status, currency, total_minor, version, created_at) VALUES ($1, $2, $3, $4, $5, 1, now())',
      [orderId, payload.userId, 'PLACED', payload.currency, total.toString()]);
    await client.query(
      `INSERT INTO order_lines (order_id, sku, qty, unit_price_minor)
       SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[])`,
      [orderId, lines.map((l) => l.sku), lines.map((l) => l.qty), lines.map((l) => l.unitPriceMinor)]);
    const eventId = await appendEvent(client, key, 'OrderPlaced', 'order', orderId, 1, {
      userId: payload.userId, currency: payload.currency, items: lines, totalMinor: Number(total),
    });
    return ack(eventId, 'order', orderId, 1, { orderId });
  });
  reply(res, result, { Location: `/v1/orders/${result.body.orderId}` });
}

async function putProduct(req, res, sku) {
  if (args['admin-token'] && req.headers.authorization !== `Bearer ${args['admin-token']}`)
    throw new HttpError(401, 'unauthorized', 'admin token required');
  if (!SKU.test(sku)) throw new HttpError(404, 'not_found', 'no such path');
  const body = parseJson(await readBody(req));
  const { key, payload } = commandKey(req, body);
  const print = fingerprint('product', sku, payload);
  const result = await runCommand(key, print, () => validateProduct(payload), async (client) => {
    const { rows } = await client.query(
      `INSERT INTO products (sku, name, currency, price_minor, stock, version) VALUES ($1, $2, $3, $4, $5, 1)
       ON CONFLICT (sku) DO UPDATE SET name = excluded.name, currency = excluded.currency,
         price_minor = excluded.price_minor, stock = excluded.stock, version = products.version + 1
       RETURNING version`,
      [sku, payload.name, payload.currency, payload.priceMinor, payload.stock]);
    const version = rows[0].version;
    const eventId = await appendEvent(client, key, 'ProductUpserted', 'product', sku, version, payload);
    return ack(eventId, 'product', sku, version);
  });
  reply(res, result);
}

function reply(res, result, headers = {}) {
  send(res, result.status, result.body, { 'X-Consistency-Token': result.body.consistencyToken, ...headers });
}

// A query with a token re-reads the view whenever the relay says it committed a batch (LISTEN
// ordinal_ref_projected, one listening connection per process), and at least every 100 ms.
const projectedWaiters = new Set();
let projectedListener = null;
async function listenForProjections() {
  if (projectedListener) return;
  projectedListener = new pg.Client({ connectionString: args['read-db'] });
  await projectedListener.connect();
  projectedListener.on('notification', () => {
    for (const wake of projectedWaiters) wake();
    projectedWaiters.clear();
  });
  await projectedListener.query('LISTEN ordinal_ref_projected');
}
function nextProjection(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { projectedWaiters.delete(wake); resolve(); }, ms);
    const wake = () => { clearTimeout(timer); resolve(); };
    projectedWaiters.add(wake);
  });
}

async function getOrder(req, res, id) {
  if (!UUID.test(id)) throw new HttpError(404, 'not_found', 'no such order');
  let wantVersion = 0;
  const token = req.headers['x-consistency-token'];
  if (token) {
    const m = /^order:([0-9a-f-]{36}):(\d+)$/i.exec(token);
    if (!m || m[1].toLowerCase() !== id.toLowerCase()) throw new HttpError(400, 'validation_failed', 'malformed token');
    wantVersion = Number(m[2]);
  }
  const waitMs = Math.min(Number(req.headers['x-consistency-wait-ms'] ?? 2000) || 0, 10000);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { rows } = await readDb.query(
      `SELECT order_id AS "orderId", user_id AS "userId", status, currency, items, total_minor AS "totalMinor",
              version, created_at AS "createdAt", updated_at AS "updatedAt" FROM orders_view WHERE order_id = $1`, [id]);
    if (rows.length && rows[0].version >= wantVersion) {
      rows[0].totalMinor = Number(rows[0].totalMinor);
      return send(res, 200, rows[0]);
    }
    if (!token) throw new HttpError(404, 'not_found', 'no such order');
    if (Date.now() >= deadline) {
      res.setHeader('Retry-After', '1');
      throw new HttpError(503, 'consistency_timeout', 'the read model has not reached the token yet');
    }
    await nextProjection(Math.min(100, deadline - Date.now()));
  }
}

async function route(req, res) {
  const path = req.url.split('?')[0];
  if (path === '/readyz' || path === '/healthz') return send(res, 200, { status: 'ready' });
  if (req.method === 'POST' && path === '/v1/orders') return placeOrder(req, res);
  let m = /^\/v1\/products\/([^/]+)$/.exec(path);
  if (m && req.method === 'PUT') return putProduct(req, res, decodeURIComponent(m[1]));
  m = /^\/v1\/orders\/([^/]+)$/.exec(path);
  if (m && req.method === 'GET') return getOrder(req, res, m[1]);
  throw new HttpError(404, 'not_found', 'no such path');
}

// ---- relay + projector: one loop, one event batch per round ----------------------------------

async function projectBatch() {
  await relayWrite.query('BEGIN');
  try {
    const { rows } = await relayWrite.query(
      `SELECT e.seq, e.type, e.stream_type, e.stream_id, e.version, e.occurred_at, e.data
       FROM outbox o JOIN events e ON e.seq = o.seq ORDER BY o.seq LIMIT 500 FOR UPDATE OF o SKIP LOCKED`);
    if (rows.length === 0) {
      await relayWrite.query('COMMIT');
      return 0;
    }
    await relayRead.query('BEGIN');
    try {
      for (const e of rows) await applyEvent(e);
      await relayRead.query("NOTIFY ordinal_ref_projected");
      await relayRead.query('COMMIT');
    } catch (err) {
      await relayRead.query('ROLLBACK').catch(() => {});
      throw err;
    }
    await relayWrite.query('DELETE FROM outbox WHERE seq = ANY($1)', [rows.map((e) => e.seq)]);
    await relayWrite.query('COMMIT');
    return rows.length;
  } catch (err) {
    await relayWrite.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

// Each apply is guarded by the stream version, so an event applied before a crash (read model
// committed, outbox row not yet deleted) changes nothing the second time.
async function applyEvent(e) {
  const d = e.data;
  if (e.type === 'OrderPlaced') {
    const inserted = await relayRead.query(
      `INSERT INTO orders_view (order_id, user_id, status, currency, items, total_minor, version, created_at, updated_at)
       VALUES ($1, $2, 'PLACED', $3, $4, $5, $6, $7, $7) ON CONFLICT (order_id) DO NOTHING`,
      [e.stream_id, d.userId, d.currency,
       JSON.stringify(d.items.map((l) => ({ ...l, lineTotalMinor: l.unitPriceMinor * l.qty }))),
       d.totalMinor, e.version, e.occurred_at]);
    if (inserted.rowCount)
      await relayRead.query(
        `UPDATE products_view p SET stock = p.stock - l.qty
         FROM unnest($1::text[], $2::int[]) AS l(sku, qty) WHERE p.sku = l.sku AND p.stock IS NOT NULL`,
        [d.items.map((l) => l.sku), d.items.map((l) => l.qty)]);
  } else if (e.type === 'ProductUpserted') {
    await relayRead.query(
      `INSERT INTO products_view (sku, name, currency, price_minor, stock, version) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (sku) DO UPDATE SET name = excluded.name, currency = excluded.currency,
         price_minor = excluded.price_minor, stock = excluded.stock, version = excluded.version
       WHERE products_view.version < excluded.version`,
      [e.stream_id, d.name, d.currency, d.priceMinor, d.stock, e.version]);
  }
}

async function relayLoop() {
  for (;;) {
    let applied = 0;
    try {
      applied = await projectBatch();
    } catch (err) {
      console.error('relay:', err.message);
    }
    if (applied === 0) await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- start ----------------------------------------------------------------------------------
// With --workers N > 1 the primary runs the relay and forks N HTTP workers sharing the port
// (node:cluster), the way a Node service is run on a machine with more than one core.

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
if (cluster.isPrimary) {
  await relayWrite.connect();
  await relayRead.connect();
  await relayWrite.query(WRITE_SCHEMA);
  await relayRead.query(READ_SCHEMA);
  for (let i = 0; i < workers; ++i) cluster.fork();
  if (workers === 0) await serveHttp();
  relayLoop();
} else {
  await serveHttp();
}

async function serveHttp() {
  await listenForProjections();
  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) return send(res, err.status, err.body);
      console.error(err);
      send(res, 503, { error: 'unavailable', message: String(err.message) }, { 'Retry-After': '1' });
    });
  });
  server.keepAliveTimeout = 60000;
  const [host, port] = args.listen.split(':');
  server.listen(Number(port), host, () => console.log(`node reference listening on ${args.listen} (pid ${process.pid})`));
}
