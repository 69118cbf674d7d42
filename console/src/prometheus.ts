// The Prometheus text exposition format (version 0.0.4), as /metrics serves it: enough of it to
// read counters, gauges and histograms by name and label.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const l of m[2].matchAll(LABEL)) labels[l[1]] = unescapeLabel(l[2]);
    }
    out.push({ name: m[1], labels, value: parseValue(m[3]) });
  }
  return out;
}

export type LabelFilter = (labels: Record<string, string>) => boolean;

// The sum of every series of `name` that passes `filter`; null when there is none.
export function sumOf(samples: Sample[], name: string, filter: LabelFilter = () => true): number | null {
  let total = 0;
  let found = false;
  for (const s of samples) {
    if (s.name === name && filter(s.labels)) {
      total += s.value;
      found = true;
    }
  }
  return found ? total : null;
}

// Cumulative bucket counts of a histogram, summed over every series that passes `filter`, by
// upper bound (ascending).
export function buckets(samples: Sample[], name: string, filter: LabelFilter = () => true): Map<number, number> {
  const byBound = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !filter(s.labels) || s.labels.le === undefined) continue;
    const le = parseValue(s.labels.le);
    byBound.set(le, (byBound.get(le) ?? 0) + s.value);
  }
  return new Map([...byBound.entries()].sort((a, b) => a[0] - b[0]));
}

// The q-quantile of the observations between two scrapes of the same histogram, interpolated
// linearly inside the bucket that holds it, as PromQL's histogram_quantile does. null when
// nothing was observed in between.
export function quantileBetween(before: Map<number, number>, after: Map<number, number>, q: number): number | null {
  const bounds = [...after.keys()];
  const delta = bounds.map((b) => Math.max(0, (after.get(b) ?? 0) - (before.get(b) ?? 0)));
  const total = delta[delta.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (delta[i] >= rank) {
      const upper = bounds[i];
      const lower = i === 0 ? 0 : bounds[i - 1];
      if (!Number.isFinite(upper)) return lower;  // beyond the last finite bucket
      const below = i === 0 ? 0 : delta[i - 1];
      const inBucket = delta[i] - below;
      return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return bounds.length > 1 ? bounds[bounds.length - 2] : null;
}
