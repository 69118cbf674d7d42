-- pgbench: one create-order as a multi-statement transaction (one round trip per statement),
-- the same work the service's PostgreSQL write store does for POST /v1/orders, on its real schema
-- (`ordinal migrate --write-db ...`). Products bench-00000 .. bench-{products-1} must exist.
--
--   uniform (random sku of 100):  pgbench -M prepared -D products=100 -f bench/pgbench_create_order.sql
--   hot product (one sku):        pgbench -M prepared -D products=1   -f bench/pgbench_create_order.sql
--
-- Ids are derived from one random 63-bit number per transaction: idempotency key, order id and
-- event id are UUID-shaped md5s of it (the service generates them client-side too). The event
-- JSON has the size and shape of a real OrderPlaced (~290 bytes). No colon may directly precede a
-- letter anywhere (pgbench would take it for a variable, even inside a literal): hence the
-- timestamps are formatted with # and chr(58).
\set n random(0, :products - 1)
\set k random(1, 9223372036854775806)
\set u random(1, 1000)
BEGIN;
-- 1. idempotency lookup (the service answers a duplicate from this row)
SELECT fingerprint, command_type, event_id::text, stream_type, stream_id, version, token, created_ms
  FROM idempotency WHERE key = md5('k' || :k)::uuid::text;
-- 2. the product, locked; the client decides from its stock (not below zero)
SELECT name, currency, price_minor, stock, reserved, stock_seq, version
  FROM products WHERE sku = 'bench-' || lpad(:n::text, 5, '0') FOR UPDATE \gset p_
-- 3. new stock, reserved and stock sequence, written back as values
UPDATE products SET stock = :p_stock - 1, reserved = :p_reserved + 1, stock_seq = :p_stock_seq + 1
  WHERE sku = 'bench-' || lpad(:n::text, 5, '0');
-- 4. the order
INSERT INTO orders (order_id, user_id, status, currency, lines, total_minor, version, created_at, updated_at)
  VALUES (md5('o' || :k)::uuid::text, '0190a1b2-0000-7000-8000-' || lpad(:u::text, 12, '0'), 'placed', 'EUR',
          '[{"sku":"bench-' || lpad(:n::text, 5, '0') || '","qty":1,"unitPriceMinor":' || :p_price_minor || '}]',
          :p_price_minor, 1,
          replace(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24#MI#SS.MS"Z"'), '#', chr(58)),
          replace(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24#MI#SS.MS"Z"'), '#', chr(58)));
-- 5. the OrderPlaced event (event log) and its outbox row
WITH e AS (INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, causation_id, schema_version, data, created_ms)
  VALUES (md5('e' || :k)::uuid, 'order', md5('o' || :k)::uuid::text, 1, 'OrderPlaced',
          replace(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24#MI#SS.MS"Z"'), '#', chr(58)), md5('k' || :k)::uuid::text, 1,
          '{"userId":"0190a1b2-0000-7000-8000-' || lpad(:u::text, 12, '0') || '","currency":"EUR","items":[{"sku":"bench-'
            || lpad(:n::text, 5, '0') || '","qty":1,"unitPriceMinor":' || :p_price_minor || '}],"totalMinor":' || :p_price_minor
            || ',"stockChanges":[{"sku":"bench-' || lpad(:n::text, 5, '0') || '","stock":' || (:p_stock - 1)
            || ',"stockSeq":' || (:p_stock_seq + 1) || '}]}',
          (extract(epoch FROM now()) * 1000)::bigint)
  RETURNING seq, stream_hash, created_ms)
INSERT INTO outbox_pending (seq, stream_hash, created_ms) SELECT * FROM e;
-- 6. the idempotency record with the acknowledgement
INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, stream_id, version, token, created_ms)
  VALUES (md5('k' || :k)::uuid::text, md5('f' || :k) || md5('g' || :k), 'PlaceOrder', md5('e' || :k)::uuid, 'order',
          md5('o' || :k)::uuid::text, 1, 'ct1.' || md5('t' || :k) || md5('o' || :k),
          (extract(epoch FROM now()) * 1000)::bigint);
END;
