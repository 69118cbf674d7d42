-- pgbench: one create-order of 1..3 distinct products (quantities 1..3) as ONE statement (a
-- data-modifying CTE, autocommit: one round trip, one commit), the same rows as
-- bench/pgbench_order_items.sql. The UPDATE takes the row locks (the lines are joined in sku
-- order, so concurrent orders lock in the same order), refuses to go below zero and is skipped
-- for an existing key; the order, event and idempotency rows are written only if every line got
-- its stock (with the bench's 10^9 stock a line is never refused, so the case where one line's
-- UPDATE went through and another's did not, which one statement cannot undo, does not arise).
--
--   uniform (1..3 of 1,000 products):  pgbench -M prepared -D products=1000 -f bench/pgbench_order_items_single.sql
--   hot product (one line, one sku):   pgbench -M prepared -D products=1    -f bench/pgbench_order_items_single.sql
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
WITH ids AS (
  SELECT md5('k' || :k)::uuid::text AS key, md5('o' || :k)::uuid::text AS order_id, md5('e' || :k)::uuid AS event_id,
         '0190a1b2-0000-7000-8000-' || lpad(:u::text, 12, '0') AS user_id,
         replace(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24#MI#SS.MS"Z"'), '#', chr(58)) AS ts,
         (extract(epoch FROM now()) * 1000)::bigint AS ms
), it AS MATERIALIZED (
  SELECT 'bench-' || lpad(n::text, 5, '0') AS sku, qty, ord
    FROM unnest(ARRAY[:p1, :p2, :p3]::int[], ARRAY[:q1, :q2, :q3]::int[]) WITH ORDINALITY AS t(n, qty, ord)
   WHERE ord <= :items::int ORDER BY 1
), dup AS (
  SELECT i.key FROM idempotency i, ids WHERE i.key = ids.key
), p AS (
  UPDATE products SET stock = stock - it.qty, reserved = reserved + it.qty, stock_seq = stock_seq + 1
    FROM it WHERE products.sku = it.sku AND stock >= it.qty AND NOT EXISTS (SELECT 1 FROM dup)
    RETURNING products.sku, products.price_minor, products.stock, products.stock_seq, it.qty, it.ord
), agg AS (
  SELECT '[' || string_agg('{"sku":"' || sku || '","qty":' || qty || ',"unitPriceMinor":' || price_minor || '}', ',' ORDER BY ord) || ']' AS lines,
         '[' || string_agg('{"sku":"' || sku || '","stock":' || stock || ',"stockSeq":' || stock_seq || '}', ',' ORDER BY ord) || ']' AS changes,
         sum(price_minor * qty) AS total
    FROM p HAVING count(*) = :items::int
), o AS (
  INSERT INTO orders (order_id, user_id, status, currency, lines, total_minor, version, created_at, updated_at)
    SELECT ids.order_id, ids.user_id, 'placed', 'EUR', agg.lines, agg.total, 1, ids.ts, ids.ts FROM agg, ids
), e AS (
  INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, causation_id, schema_version, data, created_ms)
    SELECT ids.event_id, 'order', ids.order_id, 1, 'OrderPlaced', ids.ts, ids.key, 1,
           '{"userId":"' || ids.user_id || '","currency":"EUR","items":' || agg.lines || ',"totalMinor":' || agg.total
             || ',"stockChanges":' || agg.changes || '}',
           ids.ms
      FROM agg, ids
    RETURNING seq, stream_hash, created_ms
), q AS (
  INSERT INTO outbox_pending (seq, stream_hash, created_ms) SELECT * FROM e
), i AS (
  INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, stream_id, version, token, created_ms)
    SELECT ids.key, md5('f' || :k) || md5('g' || :k), 'PlaceOrder', ids.event_id, 'order', ids.order_id, 1,
           'ct1.' || md5('t' || :k) || ids.order_id, ids.ms
      FROM agg, ids
)
SELECT (SELECT count(*) FROM agg) AS placed, (SELECT count(*) FROM dup) AS duplicate;
