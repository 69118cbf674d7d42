-- pgbench: one create-order as ONE statement (a data-modifying CTE, autocommit: one round trip
-- and one commit), the same rows as bench/pgbench_create_order.sql on the service's real schema.
-- The UPDATE takes the product's row lock (what SELECT ... FOR UPDATE does in the multi-statement
-- form), refuses to go below zero, and is skipped when the idempotency key exists; every insert
-- hangs off the updated row, so a refused or duplicate order writes nothing.
--
--   uniform (random sku of 100):  pgbench -M prepared -D products=100 -f bench/pgbench_create_order_single.sql
--   hot product (one sku):        pgbench -M prepared -D products=1   -f bench/pgbench_create_order_single.sql
\set n random(0, :products - 1)
\set k random(1, 9223372036854775806)
\set u random(1, 1000)
WITH ids AS (
  SELECT md5('k' || :k)::uuid::text AS key, md5('o' || :k)::uuid::text AS order_id, md5('e' || :k)::uuid AS event_id,
         'bench-' || lpad(:n::text, 5, '0') AS sku, '0190a1b2-0000-7000-8000-' || lpad(:u::text, 12, '0') AS user_id,
         replace(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24#MI#SS.MS"Z"'), '#', chr(58)) AS ts,
         (extract(epoch FROM now()) * 1000)::bigint AS ms
), dup AS (
  SELECT i.key FROM idempotency i, ids WHERE i.key = ids.key
), p AS (
  UPDATE products SET stock = stock - 1, reserved = reserved + 1, stock_seq = stock_seq + 1
    FROM ids WHERE products.sku = ids.sku AND stock >= 1 AND NOT EXISTS (SELECT 1 FROM dup)
    RETURNING products.sku, products.price_minor, products.stock, products.stock_seq
), o AS (
  INSERT INTO orders (order_id, user_id, status, currency, lines, total_minor, version, created_at, updated_at)
    SELECT ids.order_id, ids.user_id, 'placed', 'EUR',
           '[{"sku":"' || p.sku || '","qty":1,"unitPriceMinor":' || p.price_minor || '}]', p.price_minor, 1, ids.ts, ids.ts
      FROM p, ids
), e AS (
  INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, causation_id, schema_version, data, created_ms)
    SELECT ids.event_id, 'order', ids.order_id, 1, 'OrderPlaced', ids.ts, ids.key, 1,
           '{"userId":"' || ids.user_id || '","currency":"EUR","items":[{"sku":"' || p.sku || '","qty":1,"unitPriceMinor":'
             || p.price_minor || '}],"totalMinor":' || p.price_minor || ',"stockChanges":[{"sku":"' || p.sku
             || '","stock":' || p.stock || ',"stockSeq":' || p.stock_seq || '}]}',
           ids.ms
      FROM p, ids
    RETURNING seq, stream_hash, created_ms
), q AS (
  INSERT INTO outbox_pending (seq, stream_hash, created_ms) SELECT * FROM e
), i AS (
  INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, stream_id, version, token, created_ms)
    SELECT ids.key, md5('f' || :k) || md5('g' || :k), 'PlaceOrder', ids.event_id, 'order', ids.order_id, 1,
           'ct1.' || md5('t' || :k) || ids.order_id, ids.ms
      FROM p, ids
)
SELECT (SELECT count(*) FROM p) AS placed, (SELECT count(*) FROM dup) AS duplicate;
