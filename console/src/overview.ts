// Overview: live charts fed by polling /metrics (Prometheus text) and /v1/admin/status once a
// second. Each chart keeps the last few minutes.
import uPlot from 'uplot';
import { getJson, getText, type StatusReport } from './api';
import { el, errorText } from './dom';
import { overviewFigures, type Figures, type Poll } from './overview_figures';
import { parsePrometheus } from './prometheus';

const POLL_MS = 1000;
const KEEP_POINTS = 300;

interface ChartSpec {
  id: string;
  title: string;
  series: { label: string; stroke: string }[];
}

const SPECS: ChartSpec[] = [
  { id: 'rate', title: 'Commands per second', series: [{ label: 'commands/s', stroke: '#2563eb' }] },
  { id: 'p99', title: 'Command latency p99 (ms)', series: [{ label: 'p99 ms', stroke: '#dc2626' }] },
  {
    id: 'outbox',
    title: 'Outbox',
    series: [
      { label: 'pending events', stroke: '#7c3aed' },
      { label: 'oldest age (s)', stroke: '#ea580c' },
    ],
  },
  {
    id: 'lag',
    title: 'Projection lag (messages behind the bus end)',
    series: [{ label: 'lag', stroke: '#0891b2' }],
  },
  { id: 'dead', title: 'Dead letters', series: [{ label: 'dead letters', stroke: '#be123c' }] },
];

class LiveChart {
  readonly data: (number | null)[][];
  private readonly plot: uPlot;

  constructor(spec: ChartSpec, host: HTMLElement) {
    this.data = [[], ...spec.series.map(() => [])];
    const box = el('div', { class: 'chart', 'data-testid': `chart-${spec.id}` });
    host.append(box);
    this.plot = new uPlot(
      {
        title: spec.title,
        width: 520,
        height: 220,
        scales: { x: { time: true } },
        series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { size: 60 }],
      },
      this.data as uPlot.AlignedData,
      box,
    );
  }

  push(t: number, values: (number | null)[]): void {
    this.data[0].push(t);
    // null, not NaN: uPlot draws null as a gap, while a NaN would spoil the whole scale.
    values.forEach((v, i) => this.data[i + 1].push(v === null || Number.isNaN(v) ? null : v));
    if (this.data[0].length > KEEP_POINTS) for (const d of this.data) d.shift();
    this.plot.setData(this.data as uPlot.AlignedData);
  }
}

declare global {
  interface Window {
    // The charts' data by chart id, [times, ...series]: what the browser test reads to see the
    // charts move.
    ordinalCharts?: Record<string, (number | null)[][]>;
  }
}

export function mountOverview(root: HTMLElement): () => void {
  const stats = el('div', { class: 'figures', 'data-testid': 'figures' });
  const problem = el('p', { class: 'error' });
  const grid = el('div', { class: 'charts' });
  root.append(stats, problem, grid);
  const charts = new Map(SPECS.map((s) => [s.id, new LiveChart(s, grid)]));
  window.ordinalCharts = Object.fromEntries([...charts].map(([id, c]) => [id, c.data]));

  let previous: Poll | null = null;
  let stopped = false;
  let timer = 0;

  const tick = async (): Promise<void> => {
    try {
      const [text, status] = await Promise.all([
        getText('/metrics'),
        getJson<StatusReport>('/v1/admin/status'),
      ]);
      const poll: Poll = { at: Date.now() / 1000, samples: parsePrometheus(text) };
      const f = overviewFigures(poll, status, previous);
      previous = poll;
      const at = poll.at;
      if (stopped) return;
      charts.get('rate')!.push(at, [f.ratePerSec]);
      charts.get('p99')!.push(at, [f.p99Ms]);
      charts.get('outbox')!.push(at, [f.pending, f.oldestAgeS]);
      charts.get('lag')!.push(at, [f.lag]);
      charts.get('dead')!.push(at, [f.deadLetters]);
      renderFigures(stats, f);
      problem.textContent = '';
    } catch (e) {
      problem.textContent = errorText(e);
    } finally {
      if (!stopped) timer = window.setTimeout(() => void tick(), POLL_MS);
    }
  };
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

function fmt(v: number | null, digits = 0): string {
  return v === null || Number.isNaN(v) ? '–' : v.toFixed(digits);
}

function renderFigures(host: HTMLElement, f: Figures): void {
  const item = (id: string, label: string, value: string) =>
    el('div', { class: 'figure' }, el('span', { class: 'label' }, label), el('span', { 'data-testid': id }, value));
  host.replaceChildren(
    item('fig-commands', 'commands (total)', fmt(f.commands)),
    item('fig-rate', 'commands/s', fmt(f.ratePerSec, 1)),
    item('fig-p99', 'p99 ms', fmt(f.p99Ms, 2)),
    item('fig-pending', 'outbox pending', fmt(f.pending)),
    item('fig-oldest', 'oldest pending (s)', fmt(f.oldestAgeS, 1)),
    item('fig-lag', 'projection lag', fmt(f.lag)),
    item('fig-dead', 'dead letters', fmt(f.deadLetters)),
  );
}
