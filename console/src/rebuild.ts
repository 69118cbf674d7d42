// Rebuild and verify: each started as an admin request and followed while it runs (a rebuild's
// events replayed so far, then its result; verify's findings).
import { getJson, type AdminRequest, type RebuildResult, type StatusReport, type VerifyReport } from './api';
import { runAdminRequest } from './admin_request';
import { el, errorText, table } from './dom';

export function mountRebuild(root: HTMLElement): () => void {
  let live = true;
  const rebuild = el('button', { type: 'button', 'data-testid': 'rebuild-start' }, 'Rebuild projections');
  const progress = el('progress', { 'data-testid': 'rebuild-progress', max: '1', value: '0' });
  const state = el('p', { 'data-testid': 'rebuild-state' });
  const result = el('p', { 'data-testid': 'rebuild-result' });
  const verify = el('button', { type: 'button', 'data-testid': 'verify-start' }, 'Verify the stores');
  const verifyState = el('p', { 'data-testid': 'verify-state' });
  const findings = el('div', { 'data-testid': 'verify-findings' });
  root.append(
    el('p', {}, 'Empties the read model and replays the whole event log into it. Reads wait or see older data meanwhile.'),
    rebuild,
    ' ',
    progress,
    state,
    result,
    el('h3', {}, 'Verify'),
    el(
      'p',
      {},
      'Runs the store verifier (the checks of `ordinal verify`: event log, write model, read model, stock, outbox) in a projector process, read-only, and shows its findings.',
    ),
    verify,
    verifyState,
    findings,
  );

  rebuild.addEventListener('click', async () => {
    if (!window.confirm('Rebuild the read model from the event log?')) return;
    rebuild.disabled = true;
    result.textContent = '';
    try {
      // The log's length now, for the bar: the outbox's last sequence number.
      const total = (await getJson<StatusReport>('/v1/admin/status')).outbox?.lastSeq ?? 0;
      progress.max = Math.max(total, 1);
      progress.value = 0;
      const done = await runAdminRequest('/v1/admin/projections/rebuild', (r) => {
        if (!live) return;
        const replayed = r.progress?.eventsReplayed ?? r.result?.eventsReplayed ?? 0;
        const n = typeof replayed === 'number' ? replayed : 0;
        state.textContent =
          `request ${r.id ?? ''}: ${r.state}${r.owner ? ` on ${r.owner.slice(0, 8)}` : ''} — ` +
          `${n}${total ? ` of ~${total}` : ''} events replayed`;
        state.dataset.replayed = String(n);
        state.dataset.state = r.state;
        progress.value = r.state === 'done' ? progress.max : Math.min(n, progress.max);
      });
      showRebuild(done);
    } catch (e) {
      result.textContent = `failed: ${errorText(e)}`;
    } finally {
      rebuild.disabled = false;
    }
  });

  const showRebuild = (r: AdminRequest): void => {
    if (r.state === 'done' && r.result) {
      const report = r.result as unknown as RebuildResult;
      result.textContent = `${report.status}: ${report.eventsReplayed} events replayed in ${report.durationMs} ms`;
      result.className = 'ok';
    } else {
      result.textContent = `${r.state}: ${r.error ? `${r.error.code}: ${r.error.message}` : 'no outcome yet'}`;
      result.className = 'error';
    }
  };

  verify.addEventListener('click', async () => {
    verify.disabled = true;
    findings.replaceChildren();
    delete verifyState.dataset.clean;
    verifyState.className = '';
    try {
      const done = await runAdminRequest('/v1/admin/verify', (r) => {
        if (live) verifyState.textContent = `verify: ${r.state}${r.owner ? ` on ${r.owner}` : ''}`;
      });
      if (done.state !== 'done' || !done.result) {
        verifyState.textContent = `verify ${done.state}: ${done.error?.message ?? ''}`;
        verifyState.className = 'error';
        return;
      }
      const report = done.result as unknown as VerifyReport;
      verifyState.textContent =
        `${report.clean ? 'clean' : `${report.findingsTotal} finding(s)`} — ${report.eventsChecked} events, ` +
        `${report.streams.orders} orders, ${report.streams.products} products checked in ${report.seconds.toFixed(3)} s; ` +
        `lag: ${report.lag.streams} stream(s), outbox pending ${report.outbox.pending}`;
      verifyState.className = report.clean ? 'ok' : 'warn';
      verifyState.dataset.clean = String(report.clean);
      if (report.findings.length) {
        findings.replaceChildren(
          table(
            ['kind', 'stream', 'detail'],
            report.findings.map((f) => [f.kind, f.stream ?? '—', f.detail]),
            'verify-findings-table',
          ),
        );
      }
    } catch (e) {
      verifyState.textContent = `failed: ${errorText(e)}`;
      verifyState.className = 'error';
    } finally {
      verify.disabled = false;
    }
  });
  return () => {
    live = false;
  };
}
