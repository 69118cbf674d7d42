// The overview's figures from one poll of /metrics (parsed) and /v1/admin/status, with the poll
// before for the rate and the p99. Pure (no DOM, no uPlot), so that node --test checks it
// (console/test/overview_figures_test.mjs).
import type { StatusReport } from './api';
import { buckets, quantileBetween, sumOf, type Sample } from './prometheus';

// The latest figures, also shown as text (and read by the browser test).
export interface Figures {
  commands: number | null;
  ratePerSec: number | null;
  p99Ms: number | null;
  pending: number | null;
  oldestAgeS: number | null;
  lag: number | null;
  deadLetters: number | null;
}

// One poll: when (Unix seconds) and what /metrics said.
export interface Poll {
  at: number;
  samples: Sample[];
}

// What waits over every bus partition whose end is known, as the status draws it for the whole
// deployment from the read store and the processes' heartbeats: the in-process bus's one
// partition and Kafka's several alike, whichever process serves the console. null while no
// partition's end is known.
export function projectionLag(status: StatusReport): number | null {
  return status.projection?.behind ?? null;
}

export function overviewFigures(now: Poll, status: StatusReport, previous: Poll | null): Figures {
  const samples = now.samples;
  const commands = sumOf(samples, 'ordinal_commands_total');
  const f: Figures = {
    commands,
    ratePerSec: null,
    p99Ms: null,
    pending: status.outbox?.pending ?? sumOf(samples, 'ordinal_outbox_pending'),
    oldestAgeS: status.outbox
      ? status.outbox.oldestPendingAgeMs / 1000
      : sumOf(samples, 'ordinal_outbox_oldest_pending_age_seconds'),
    lag: projectionLag(status),
    deadLetters: status.projection?.deadLetters ?? sumOf(samples, 'ordinal_projection_dead_letters'),
  };
  if (previous) {
    const before = sumOf(previous.samples, 'ordinal_commands_total');
    if (commands !== null && before !== null) f.ratePerSec = Math.max(0, commands - before) / (now.at - previous.at);
    const q = quantileBetween(
      buckets(previous.samples, 'ordinal_command_duration_seconds'),
      buckets(samples, 'ordinal_command_duration_seconds'),
      0.99,
    );
    f.p99Ms = q === null ? null : q * 1000;
  }
  return f;
}
