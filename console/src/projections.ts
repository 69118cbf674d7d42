// Projections: each bus partition's projected position against the bus's end, its owner and
// whether it is stalled, from /v1/admin/status (projection.partitions: the deployment's picture,
// the same on every process), polled once a second, with a trend of how far each is behind.
import uPlot from 'uplot';
import { getJson } from './api';
import { el, table } from './dom';
import { pollEvery } from './poll';

const POLL_MS = 1000;
const KEEP_POINTS = 300;
const COLOURS = ['#2563eb', '#dc2626', '#7c3aed', '#ea580c', '#0891b2', '#16a34a', '#be123c', '#ca8a04'];

// docs/openapi.json, StatusReport.projection.partitions.
export interface PartitionPicture {
  partition: string;
  owner: string | null;
  ownerState: 'live' | 'stale' | null;
  position: number;
  busEnd: number | null;
  behind: number | null;
  positionMovedAgoMs: number | null;
  stalled: boolean;
  stalledReason: string | null;
}

// docs/openapi.json, StatusReport.outbox.partitions.
export interface OutboxPartitionPicture {
  partition: number;
  owner: string | null;
  ownerState: 'live' | 'stale' | null;
  stalled: boolean;
}

interface StatusWithPartitions {
  outbox: {
    pending: number;
    lastSeq: number;
    publishedSeq: number;
    partitions?: OutboxPartitionPicture[];
  } | null;
  projection: { partitions?: PartitionPicture[] } | null;
}

// The in-process bus's one partition: its positions are outbox sequence numbers, so it can be
// set against the outbox's high-water mark; a Kafka partition's offsets cannot.
const LOCAL = 'local';

declare global {
  interface Window {
    // [times, ...behind per partition in `ordinalBehindPartitions` order]: for the browser test.
    ordinalBehind?: (number | null)[][];
    ordinalBehindPartitions?: string[];
  }
}

function dash(v: number | string | null): string {
  return v === null ? '–' : String(v);
}

// The trend of `behind` per partition. uPlot's series are fixed at creation: a new partition
// starts the chart again.
class BehindChart {
  private names: string[] = [];
  private data: (number | null)[][] = [[]];
  private plot: uPlot | null = null;

  constructor(private readonly host: HTMLElement) {}

  push(t: number, parts: PartitionPicture[]): void {
    const names = parts.map((p) => p.partition);
    if (names.join('\n') !== this.names.join('\n')) this.restart(names);
    this.data[0].push(t);
    parts.forEach((p, i) => this.data[i + 1].push(p.behind));
    if (this.data[0].length > KEEP_POINTS) for (const d of this.data) d.shift();
    this.plot!.setData(this.data as uPlot.AlignedData);
    window.ordinalBehind = this.data;
    window.ordinalBehindPartitions = this.names;
  }

  private restart(names: string[]): void {
    this.plot?.destroy();
    this.host.replaceChildren();
    this.names = names;
    this.data = [[], ...names.map(() => [])];
    this.plot = new uPlot(
      {
        title: 'Messages behind the bus end, per partition',
        width: 1060,
        height: 240,
        scales: { x: { time: true } },
        series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
        axes: [{}, { size: 60 }],
      },
      this.data as uPlot.AlignedData,
      this.host,
    );
  }
}

export function mountProjections(root: HTMLElement): () => void {
  const summary = el('p', { 'data-testid': 'projections-summary' });
  const outboxLine = el('p', { 'data-testid': 'projections-outbox' });
  const problem = el('p', { class: 'error' });
  const rows = el('div', {});
  const relayRows = el('div', {});
  const chartBox = el('div', { class: 'chart', 'data-testid': 'chart-behind' });
  root.append(
    el(
      'p',
      {},
      'Per bus partition: the read store’s position against the bus’s end, the projector holding it, ' +
        'and whether it is stalled (its projector stale, or its position unmoved while messages wait).',
    ),
    summary,
    outboxLine,
    problem,
    rows,
    chartBox,
    el('h3', {}, 'Outbox partitions and their relays'),
    relayRows,
  );
  const chart = new BehindChart(chartBox);
  let stopped = false;
  const stop = pollEvery(POLL_MS, problem, async () => {
    const status = await getJson<StatusWithPartitions>('/v1/admin/status');
    if (stopped) return;
    const parts = status.projection?.partitions ?? [];
    const outbox = status.outbox;
    const stalled = parts.filter((p) => p.stalled).length;
    summary.textContent = `${parts.length} partition(s), ${stalled} stalled`;
    summary.className = stalled > 0 ? 'error' : '';
    outboxLine.textContent = outbox
      ? `Outbox high-water mark (last sequence) ${outbox.lastSeq}, published up to ${outbox.publishedSeq}, ${outbox.pending} pending.`
      : 'This process reads no outbox.';
    outboxLine.dataset.lastSeq = outbox ? String(outbox.lastSeq) : '';
    rows.replaceChildren(
      table(
        [
          'partition',
          'owner',
          'owner state',
          'position',
          'bus end',
          'behind',
          'outbox high-water',
          'behind the outbox',
          'moved (ms ago)',
          'stalled',
        ],
        parts.map((p) => [
          p.partition,
          dash(p.owner),
          dash(p.ownerState),
          p.position,
          dash(p.busEnd),
          dash(p.behind),
          outbox ? outbox.lastSeq : '–',
          outbox && p.partition === LOCAL ? Math.max(0, outbox.lastSeq - p.position) : '–',
          dash(p.positionMovedAgoMs),
          p.stalled ? `yes: ${p.stalledReason ?? ''}` : 'no',
        ]),
        'projections-table',
      ),
    );
    relayRows.replaceChildren(
      table(
        ['outbox partition', 'relay', 'relay state', 'stalled'],
        (outbox?.partitions ?? []).map((o) => [
          o.partition,
          dash(o.owner),
          dash(o.ownerState),
          o.stalled ? 'yes: its relay is stale' : 'no',
        ]),
        'relays-table',
      ),
    );
    chart.push(Date.now() / 1000, parts);
  });
  return () => {
    stopped = true;
    stop();
  };
}
