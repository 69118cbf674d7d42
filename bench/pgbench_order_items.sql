-- pgbench: one create-order of 1..3 distinct products (quantities 1..3) as a multi-statement
-- transaction, one round trip per statement: the transaction the service runs for the issue-15
-- workload (bench/run_postgres.sh), on its real schema. Products bench-00000 ..
-- bench-{products-1} must exist.
--
--   uniform (1..3 of 1,000 products):  pgbench -M prepared -D products=1000 -f bench/pgbench_order_items.sql
--   hot product (one line, one sku):   pgbench -M prepared -D products=1    -f bench/pgbench_order_items.sql
--
-- Distinct products without a loop: p2 and p3 step forward from p1 and p2 by 1..(products-1)/2,
-- so p3 cannot wrap round onto p1. Rows are locked in sku order, as the service's writer does,
-- so concurrent orders do not deadlock. Ids are md5s of one random 63-bit number (UUID-shaped).
-- No colon may directly precede a letter (pgbench would take it for a variable): hence # and
-- chr(58) in the timestamps.
\set items least(random(1, 3), :products)
\set step greatest((:products - 1) / 2, 1)
\set p1 random(0, :products - 1)
\set p2 (:p1 + random(1, :step)) % :products
\set p3 (:p2 + random(1, :step)) % :products
\set q1 random(1, 3)
\set q2 random(1, 3)
\set q3 random(1, 3)
\set k random(1, 9223372036854775806)
\set u random(1, 10000)
BEGIN;
-- 1. idempotency lookup
SELECT fingerprint, command_type, event_id::text, stream_type, stream_id, version, token, created_ms
  FROM idempotency WHERE key = md5('k' || :k)::uuid::text;
-- 2. the products, locked in sku order; the client checks stock
SELECT sku, name, currency, price_minor, stock, reserved, stock_seq, version FROM products
  WHERE sku = ANY((ARRAY['bench-' || lpad(:p1::text, 5, '0'), 'bench-' || lpad(:p2::text, 5, '0'),
                         'bench-' || lpad(:p3::text, 5, '0')])[1:(:items::int)])
  ORDER BY sku FOR UPDATE;
-- 3. new stock, reserved and stock sequence
UPDATE products SET stock = stock - it.qty, reserved = reserved + it.qty, stock_seq = stock_seq + 1
  FROM (SELECT 'bench-' || lpad(n::text, 5, '0') AS sku, qty
          FROM unnest(ARRAY[:p1, :p2, :p3]::int[], ARRAY[:q1, :q2, :q3]::int[]) WITH ORDINALITY AS t(n, qty, ord)
         WHERE ord <= :items::int) it
  WHERE products.sku = it.sku;
-- 4. the order (lines as the service writes them)
INSERT INTO orders (order_id, user_id, status, currency, lines, total_minor, version, created_at, updated_at)
  SELECT md5('o' || :k)::uuid::text, '0190a1b2-0000-7000-8000-' || lpad(:u::text, 12, '0'), 'placed', 'EUR',
         '[' || string_agg('{"sku":"' || p.sku || '","qty":' || it.qty || ',"unitPriceMinor":' || p.price_minor || '}', ',' ORDER BY it.ord) || ']',
         sum(p.price_minor * it.qty), 1,
         replace(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24#MI#SS.MS"Z"'), '#', chr(58)),
         replace(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24#MI#SS.MS"Z"'), '#', chr(58))
    FROM unnest(ARRAY[:p1, :p2, :p3]::int[], ARRAY[:q1, :q2, :q3]::int[]) WITH ORDINALITY AS it(n, qty, ord)
    JOIN products p ON p.sku = 'bench-' || lpad(it.n::text, 5, '0')
   WHERE it.ord <= :items::int;
-- 5. the OrderPlaced event (event log) and its outbox row, with the stock changes
WITH e AS (INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, causation_id, schema_version, data, created_ms)
  SELECT md5('e' || :k)::uuid, 'order', md5('o' || :k)::uuid::text, 1, 'OrderPlaced',
         replace(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24#MI#SS.MS"Z"'), '#', chr(58)), md5('k' || :k)::uuid::text, 1,
         '{"userId":"0190a1b2-0000-7000-8000-' || lpad(:u::text, 12, '0') || '","currency":"EUR","items":['
           || string_agg('{"sku":"' || p.sku || '","qty":' || it.qty || ',"unitPriceMinor":' || p.price_minor || '}', ',' ORDER BY it.ord)
           || '],"totalMinor":' || sum(p.price_minor * it.qty) || ',"stockChanges":['
           || string_agg('{"sku":"' || p.sku || '","stock":' || p.stock || ',"stockSeq":' || p.stock_seq || '}', ',' ORDER BY it.ord) || ']}',
         (extract(epoch FROM now()) * 1000)::bigint
    FROM unnest(ARRAY[:p1, :p2, :p3]::int[], ARRAY[:q1, :q2, :q3]::int[]) WITH ORDINALITY AS it(n, qty, ord)
    JOIN products p ON p.sku = 'bench-' || lpad(it.n::text, 5, '0')
   WHERE it.ord <= :items::int
  RETURNING seq, stream_hash, created_ms)
INSERT INTO outbox_pending (seq, stream_hash, created_ms) SELECT * FROM e;
-- 6. the idempotency record with the acknowledgement
INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, stream_id, version, token, created_ms)
  VALUES (md5('k' || :k)::uuid::text, md5('f' || :k) || md5('g' || :k), 'PlaceOrder', md5('e' || :k)::uuid, 'order',
          md5('o' || :k)::uuid::text, 1, 'ct1.' || md5('t' || :k) || md5('o' || :k),
          (extract(epoch FROM now()) * 1000)::bigint);
END;
