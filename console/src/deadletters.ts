// Dead letters: the list, each payload, retry one or all, and what the retry did.
import { getJson, postJson, type DeadLetter, type RetryResult } from './api';
import { el, errorText } from './dom';

export function mountDeadLetters(root: HTMLElement): () => void {
  const refresh = el('button', { type: 'button', 'data-testid': 'dl-refresh' }, 'Refresh');
  const retryAll = el('button', { type: 'button', 'data-testid': 'dl-retry-all' }, 'Retry all');
  const result = el('p', { 'data-testid': 'dl-result' });
  const list = el('div', { 'data-testid': 'dl-list' });
  root.append(el('div', { class: 'toolbar' }, refresh, retryAll), result, list);

  const load = async (): Promise<void> => {
    try {
      const { deadLetters } = await getJson<{ deadLetters: DeadLetter[] }>('/v1/admin/dead-letters?limit=1000');
      list.replaceChildren(
        el('p', { 'data-testid': 'dl-count' }, `${deadLetters.length} dead letter(s)`),
        ...deadLetters.map((d) => renderLetter(d, retry)),
      );
    } catch (e) {
      list.replaceChildren(el('p', { class: 'error' }, errorText(e)));
    }
  };
  const retry = async (id: number | null): Promise<void> => {
    result.textContent = 'retrying…';
    try {
      const path = id === null ? '/v1/admin/dead-letters/retry' : `/v1/admin/dead-letters/${id}/retry`;
      const r = await postJson<RetryResult>(path);
      result.textContent = `retried ${r.retried}, applied ${r.applied}, remaining ${r.remaining}`;
    } catch (e) {
      result.textContent = errorText(e);
    }
    await load();
  };
  refresh.addEventListener('click', () => void load());
  retryAll.addEventListener('click', () => void retry(null));
  void load();
  return () => {};
}

function renderLetter(d: DeadLetter, retry: (id: number) => Promise<void>): HTMLElement {
  const button = el('button', { type: 'button', 'data-testid': `dl-retry-${d.id}` }, 'Retry');
  button.addEventListener('click', () => void retry(d.id));
  let pretty = d.payload;
  try {
    pretty = JSON.stringify(JSON.parse(d.payload), null, 2);
  } catch {
    // not JSON: shown as received
  }
  return el(
    'article',
    { class: 'letter', 'data-testid': 'dead-letter' },
    el(
      'header',
      {},
      el('strong', {}, `#${d.id} ${d.stream || '(unreadable stream)'} v${d.version} ${d.eventType || '?'}`),
      ' ',
      button,
    ),
    el('p', { class: 'reason' }, d.reason),
    el('p', { class: 'meta' }, `${d.partition}@${d.offset} · ${d.createdAt}`),
    el('details', {}, el('summary', {}, 'payload'), el('pre', {}, pretty)),
  );
}
