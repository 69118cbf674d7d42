// Unit test of the overview's figures (console/src/overview_figures.ts): the projection lag from
// the status of a Kafka deployment (several partitions, the console served by an api process) as
// of the in-process bus's, and the rate and p99 between two polls. Run by `node --test` (CTest:
// console.overview, label console); the TypeScript is bundled in memory by esbuild (import_ts.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importConsoleModule } from './import_ts.mjs';

const { overviewFigures, projectionLag } = await importConsoleModule('overview_figures.ts');

const partition = (name, position, busEnd) => ({
  partition: name,
  owner: 'p1',
  ownerState: 'live',
  position,
  busEnd,
  behind: busEnd === null ? null : busEnd - position,
  positionMovedAgoMs: 10,
  stalled: false,
  stalledReason: null,
});

// An api process of the production profile: its positions are Kafka offsets, unlike the
// outbox's sequence numbers; what waits is the status's total over the partitions.
const KAFKA = {
  version: 'test',
  roles: ['api'],
  outbox: { pending: 2, oldestPendingAgeMs: 1500, lastSeq: 900, publishedSeq: 898 },
  projection: {
    streams: 40,
    positions: [
      { partition: 'orders/0', offset: 100 },
      { partition: 'orders/1', offset: 200 },
    ],
    deadLetters: 1,
    partitions: [partition('orders/0', 100, 104), partition('orders/1', 200, 203), partition('orders/2', 0, null)],
    behind: 7,
  },
  relayPublishedSeq: 0,
  gateWaiting: 0,
};

const LOCAL = {
  ...KAFKA,
  roles: ['api', 'relay', 'projector'],
  projection: {
    ...KAFKA.projection,
    positions: [{ partition: 'local', offset: 895 }],
    partitions: [partition('local', 895, 900)],
    behind: 5,
  },
};

test('the lag on a Kafka deployment is what waits over its partitions, not none', () => {
  assert.equal(projectionLag(KAFKA), 7);
  const f = overviewFigures({ at: 10, samples: [] }, KAFKA, null);
  assert.equal(f.lag, 7);
  assert.equal(f.pending, 2);
  assert.equal(f.oldestAgeS, 1.5);
  assert.equal(f.deadLetters, 1);
});

test('the in-process bus and Kafka read the same figure; caught up is 0, unknown is none', () => {
  assert.equal(projectionLag(LOCAL), 5);
  assert.equal(projectionLag({ ...KAFKA, projection: { ...KAFKA.projection, behind: 0 } }), 0);
  assert.equal(projectionLag({ ...KAFKA, projection: { ...KAFKA.projection, behind: null } }), null);
  assert.equal(projectionLag({ ...KAFKA, projection: null }), null);
});

test('rate and p99 come from the poll before', () => {
  // A poll at `at` after `commands` commands in all, each observed under 10 ms.
  const poll = (at, commands) => ({
    at,
    samples: [
      { name: 'ordinal_commands_total', labels: {}, value: commands },
      { name: 'ordinal_command_duration_seconds_bucket', labels: { le: '0.01' }, value: commands },
      { name: 'ordinal_command_duration_seconds_bucket', labels: { le: '+Inf' }, value: commands },
    ],
  });
  const before = poll(10, 100);
  const now = poll(12, 300);
  assert.equal(overviewFigures(now, KAFKA, null).ratePerSec, null);
  const f = overviewFigures(now, KAFKA, before);
  assert.equal(f.commands, 300);
  assert.equal(f.ratePerSec, 100);
  assert.ok(Math.abs(f.p99Ms - 9.9) < 1e-9, String(f.p99Ms));
});
