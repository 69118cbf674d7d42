// Unit test of the console's Prometheus text parser and quantile estimate (console/src/
// prometheus.ts), run by `node --test` (CTest: console.prometheus, label console). The TypeScript
// is bundled in memory by esbuild, the same compiler the build uses (import_ts.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importConsoleModule } from './import_ts.mjs';

const { parsePrometheus, sumOf, buckets, quantileBetween } = await importConsoleModule('prometheus.ts');

const TEXT = `# HELP ordinal_commands_total Commands
# TYPE ordinal_commands_total counter
ordinal_commands_total{type="place_order",result="accepted"} 40
ordinal_commands_total{type="upsert_product",result="accepted"} 2
ordinal_commands_total{type="place_order",result="rejected"} 3
ordinal_outbox_pending 7
ordinal_label_escapes{path="a\\"b\\\\c\\nd"} 1.5e3
ordinal_command_duration_seconds_bucket{type="place_order",le="0.001"} 10
ordinal_command_duration_seconds_bucket{type="place_order",le="0.01"} 90
ordinal_command_duration_seconds_bucket{type="place_order",le="0.1"} 100
ordinal_command_duration_seconds_bucket{type="place_order",le="+Inf"} 100
ordinal_command_duration_seconds_count{type="place_order"} 100
`;

test('parses names, labels with escapes and values', () => {
  const s = parsePrometheus(TEXT);
  assert.equal(s.length, 10);
  assert.deepEqual(s[0], { name: 'ordinal_commands_total', labels: { type: 'place_order', result: 'accepted' }, value: 40 });
  assert.deepEqual(s[4].labels, { path: 'a"b\\c\nd' });
  assert.equal(s[4].value, 1500);
  assert.equal(s[8].value, 100);
  assert.equal(s[8].labels.le, '+Inf');
});

test('sums series by name and filter; null when there is none', () => {
  const s = parsePrometheus(TEXT);
  assert.equal(sumOf(s, 'ordinal_commands_total'), 45);
  assert.equal(sumOf(s, 'ordinal_commands_total', (l) => l.result === 'accepted'), 42);
  assert.equal(sumOf(s, 'ordinal_outbox_pending'), 7);
  assert.equal(sumOf(s, 'ordinal_nothing'), null);
});

test('the quantile between two scrapes comes from the observations in between', () => {
  const before = buckets(parsePrometheus(TEXT), 'ordinal_command_duration_seconds');
  assert.deepEqual([...before.keys()], [0.001, 0.01, 0.1, Infinity]);
  // Between the scrapes: 100 more observations, all in (0.01, 0.1].
  const after = new Map([[0.001, 10], [0.01, 90], [0.1, 200], [Infinity, 200]]);
  const p99 = quantileBetween(before, after, 0.99);
  assert.ok(Math.abs(p99 - (0.01 + 0.09 * 0.99)) < 1e-12, String(p99));
  // The median of the same window sits in the same bucket, halfway.
  assert.ok(Math.abs(quantileBetween(before, after, 0.5) - 0.055) < 1e-12);
  // Nothing observed: no figure rather than a made-up one.
  assert.equal(quantileBetween(before, before, 0.99), null);
  // Observations past the last finite bound: the bound is the most that can be said.
  const slow = new Map([[0.001, 10], [0.01, 90], [0.1, 100], [Infinity, 150]]);
  assert.equal(quantileBetween(before, slow, 0.99), 0.1);
});
