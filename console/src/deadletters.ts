// Dead letters: searched by type, reason and time (server-side), each payload, retry one or all
// and see what the retry applied (the streams it moved, as the stream view shows them), discard
// one with a reason.
import { getJson, postJson, type DeadLetter, type DiscardResult, type RetryResult, type StreamView } from './api';
import { el, errorText } from './dom';
import { renderStream, streamPath } from './stream';

// A datetime-local value (the browser's time zone) as the RFC 3339 UTC time the service takes.
function utc(local: string): string {
  return local ? new Date(local).toISOString() : '';
}

export function mountDeadLetters(root: HTMLElement): () => void {
  const type = el('input', { 'data-testid': 'dl-type', placeholder: 'event type, e.g. OrderShipped', size: '22' });
  const reason = el('input', { 'data-testid': 'dl-reason', placeholder: 'reason contains…', size: '22' });
  const since = el('input', { type: 'datetime-local', step: '1', 'data-testid': 'dl-since' });
  const until = el('input', { type: 'datetime-local', step: '1', 'data-testid': 'dl-until' });
  const search = el('button', { type: 'submit', 'data-testid': 'dl-search' }, 'Search');
  const form = el(
    'form',
    { class: 'search', 'data-testid': 'dl-search-form' },
    el('label', {}, 'type ', type),
    el('label', {}, 'reason ', reason),
    el('label', {}, 'since ', since),
    el('label', {}, 'until ', until),
    search,
  );
  const retryAll = el('button', { type: 'button', 'data-testid': 'dl-retry-all' }, 'Retry all');
  const result = el('p', { 'data-testid': 'dl-result' });
  const applied = el('div', { 'data-testid': 'dl-applied' });
  const list = el('div', { 'data-testid': 'dl-list' });
  root.append(form, el('div', { class: 'toolbar' }, retryAll), result, applied, list);

  const query = (): string => {
    const q = new URLSearchParams({ limit: '1000' });
    if (type.value.trim()) q.set('type', type.value.trim());
    if (reason.value) q.set('reason', reason.value);
    if (since.value) q.set('since', utc(since.value));
    if (until.value) q.set('until', utc(until.value));
    return q.toString();
  };
  let loads = 0;
  const load = async (): Promise<void> => {
    try {
      const { deadLetters } = await getJson<{ deadLetters: DeadLetter[] }>(`/v1/admin/dead-letters?${query()}`);
      list.replaceChildren(
        el('p', { 'data-testid': 'dl-count' }, `${deadLetters.length} dead letter(s)`),
        ...deadLetters.map((d) => renderLetter(d, retry, discard)),
      );
    } catch (e) {
      list.replaceChildren(el('p', { class: 'error' }, errorText(e)));
    }
    // Counts the loads, so a test can tell this list from the one before a search.
    list.dataset.loads = String(++loads);
  };
  const retry = async (id: number | null): Promise<void> => {
    result.textContent = 'retrying…';
    applied.replaceChildren();
    try {
      const path = id === null ? '/v1/admin/dead-letters/retry' : `/v1/admin/dead-letters/${id}/retry`;
      const r = await postJson<RetryResult>(path);
      result.textContent = `retried ${r.retried}, applied ${r.applied}, remaining ${r.remaining}`;
      // Each stream the retry moved, as the write and read stores now have it.
      const views = await Promise.all(r.advanced.map((a) => getJson<StreamView>(streamPath(a.stream))));
      applied.replaceChildren(...views.map(renderStream));
    } catch (e) {
      result.textContent = errorText(e);
    }
    await load();
  };
  const discard = async (id: number, why: string): Promise<void> => {
    result.textContent = 'discarding…';
    applied.replaceChildren();
    try {
      const r = await postJson<DiscardResult>(`/v1/admin/dead-letters/${id}/discard`, { reason: why });
      result.textContent = `discarded #${r.discarded}: ${r.reason}`;
    } catch (e) {
      result.textContent = errorText(e);
    }
    await load();
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load();
  });
  retryAll.addEventListener('click', () => void retry(null));
  void load();
  return () => {};
}

function renderLetter(
  d: DeadLetter,
  retry: (id: number) => Promise<void>,
  discard: (id: number, reason: string) => Promise<void>,
): HTMLElement {
  const retryButton = el('button', { type: 'button', 'data-testid': `dl-retry-${d.id}` }, 'Retry');
  retryButton.addEventListener('click', () => void retry(d.id));
  // Discarding needs a reason: the button stays off until one is typed.
  const why = el('input', { 'data-testid': `dl-discard-reason-${d.id}`, placeholder: 'reason to discard', size: '24' });
  const discardButton = el('button', { type: 'button', 'data-testid': `dl-discard-${d.id}`, disabled: '' }, 'Discard');
  why.addEventListener('input', () => {
    discardButton.disabled = why.value.trim() === '';
  });
  discardButton.addEventListener('click', () => {
    if (!window.confirm(`Discard dead letter #${d.id}? Its stream stays where it is until a rebuild.`)) return;
    void discard(d.id, why.value.trim());
  });
  let pretty = d.payload;
  try {
    pretty = JSON.stringify(JSON.parse(d.payload), null, 2);
  } catch {
    // not JSON: shown as received
  }
  return el(
    'article',
    { class: 'letter', 'data-testid': 'dead-letter', 'data-id': String(d.id) },
    el(
      'header',
      {},
      el('strong', {}, `#${d.id} ${d.stream || '(unreadable stream)'} v${d.version} ${d.eventType || '?'}`),
      ' ',
      retryButton,
      ' ',
      why,
      ' ',
      discardButton,
    ),
    el('p', { class: 'reason' }, d.reason),
    el('p', { class: 'meta' }, `${d.partition}@${d.offset} · ${d.createdAt}`),
    el('details', {}, el('summary', {}, 'payload'), el('pre', {}, pretty)),
  );
}
