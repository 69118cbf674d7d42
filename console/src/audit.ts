// The audit log: every admin action (rebuild, dead-letter retry and discard, verify, product
// PUT), newest first, with who carried it out and how it ended.
import { getJson, type AuditEntry } from './api';
import { el, errorText, table } from './dom';

function summary(e: AuditEntry): string {
  if (e.outcome === 'failed') return e.error ?? 'failed';
  return e.result ? JSON.stringify(e.result).slice(0, 160) : '';
}

export function mountAudit(root: HTMLElement): () => void {
  const refresh = el('button', { type: 'button', 'data-testid': 'audit-refresh' }, 'Refresh');
  const list = el('div', { 'data-testid': 'audit-list' });
  root.append(el('div', { class: 'toolbar' }, refresh), list);
  const load = async (): Promise<void> => {
    try {
      const { entries } = await getJson<{ entries: AuditEntry[] }>('/v1/admin/audit?limit=200');
      const rows = table(
        ['at', 'action', 'target', 'reason', 'outcome', 'result', 'process', 'asked of'],
        entries.map((e) => [
          e.at,
          e.action,
          e.target ?? 'read model',
          e.reason ?? '',
          el('span', { class: e.outcome === 'done' ? 'ok' : 'error' }, e.outcome),
          summary(e),
          e.process.slice(0, 8),
          e.requestedBy ? e.requestedBy.slice(0, 8) : '',
        ]),
        'audit-table',
      );
      rows.classList.add('audit');
      list.replaceChildren(el('p', { 'data-testid': 'audit-count' }, `${entries.length} action(s), newest first`), rows);
    } catch (e) {
      list.replaceChildren(el('p', { class: 'error' }, errorText(e)));
    }
  };
  refresh.addEventListener('click', () => void load());
  void load();
  // Admin actions are rare: a slow poll keeps the page current without a button press.
  const timer = setInterval(() => void load(), 5000);
  return () => clearInterval(timer);
}
