// Order/stream view: an order id, a product sku ("product/<sku>") or a consistency token in; the
// stream's events from the write store next to the version the read model has applied, and
// whether a read with the token would pass now.
import { getJson, type StreamView, type TokenCheck } from './api';
import { el, errorText, table } from './dom';

export function streamPath(stream: string): string {
  const slash = stream.indexOf('/');
  return `/v1/admin/streams/${encodeURIComponent(stream.slice(0, slash))}/${encodeURIComponent(stream.slice(slash + 1))}`;
}

export function renderStream(view: StreamView): HTMLElement {
  const behind = view.writeVersion - view.readVersion;
  return el(
    'section',
    { class: 'stream', 'data-testid': 'stream-view' },
    el('h3', {}, view.stream),
    el(
      'p',
      { class: 'versions' },
      'write version ',
      el('strong', { 'data-testid': 'write-version' }, view.writeVersion),
      ' · read version ',
      el('strong', { 'data-testid': 'read-version' }, view.readVersion),
      behind > 0 ? el('span', { class: 'warn' }, ` · the read model is ${behind} behind`) : ' · up to date',
    ),
    table(
      ['version', 'type', 'occurred', 'committed', 'relay published', 'projector applied'],
      view.events.map((e) => [
        e.version,
        e.type,
        e.occurredAt,
        e.committedAt,
        stage(e.published, e.publishedAt, e.committedAt, 'published-at'),
        stage(e.applied, e.appliedAt, e.committedAt, 'applied-at'),
      ]),
      'stream-events',
    ),
  );
}

// "no", or when it happened and how long after the commit ("yes" when its batch time is no
// longer kept). The two clocks may be two machines': a negative delay is shown as it is.
function stage(done: boolean, at: string | null, committedAt: string, testId: string): HTMLElement {
  if (!done) return el('span', { 'data-testid': testId }, 'no');
  if (at === null) return el('span', { 'data-testid': testId, title: 'its batch time is no longer kept' }, 'yes');
  const after = Date.parse(at) - Date.parse(committedAt);
  return el('span', { 'data-testid': testId, 'data-at': at }, `${at} (+${after} ms)`);
}

function renderCheck(check: TokenCheck): HTMLElement {
  return el(
    'section',
    { class: 'token-check' },
    el(
      'p',
      { 'data-testid': 'token-passes', class: check.passes ? 'ok' : 'warn' },
      check.passes
        ? 'A read with this token would pass now.'
        : 'A read with this token would wait now: the read model is behind.',
    ),
    table(
      ['stream', 'token wants', 'read version', 'passes'],
      check.streams.map((s) => [s.stream, s.wanted, s.readVersion, s.passes ? 'yes' : 'no']),
      'token-streams',
    ),
  );
}

export function mountStream(root: HTMLElement): () => void {
  const input = el('input', {
    type: 'text',
    size: '70',
    placeholder: 'order id, product/<sku> or consistency token (ct1.…)',
    'data-testid': 'stream-input',
  });
  const button = el('button', { type: 'submit', 'data-testid': 'stream-lookup' }, 'Look up');
  const out = el('div', { 'data-testid': 'stream-result' });
  const form = el('form', { class: 'lookup' }, input, button);
  root.append(form, out);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void lookup(input.value.trim(), out);
  });
  return () => {};
}

async function lookup(text: string, out: HTMLElement): Promise<void> {
  out.replaceChildren(el('p', {}, 'loading…'));
  try {
    const parts: HTMLElement[] = [];
    let streams: string[];
    if (text.startsWith('ct1.')) {
      const check = await getJson<TokenCheck>(`/v1/admin/consistency?token=${encodeURIComponent(text)}`);
      parts.push(renderCheck(check));
      streams = check.streams.map((s) => s.stream);
    } else {
      streams = [text.includes('/') ? text : `order/${text}`];
    }
    for (const s of streams) parts.push(renderStream(await getJson<StreamView>(streamPath(s))));
    out.replaceChildren(...parts);
  } catch (e) {
    out.replaceChildren(el('p', { class: 'error', 'data-testid': 'stream-error' }, errorText(e)));
  }
}
