// Rebuild: replays the event log into an emptied read model, and shows the result.
import { postJson, type RebuildResult } from './api';
import { el, errorText } from './dom';

export function mountRebuild(root: HTMLElement): () => void {
  const button = el('button', { type: 'button', 'data-testid': 'rebuild-start' }, 'Rebuild projections');
  const result = el('p', { 'data-testid': 'rebuild-result' });
  root.append(
    el('p', {}, 'Empties the read model and replays the whole event log into it. Reads wait or see older data meanwhile.'),
    button,
    result,
  );
  button.addEventListener('click', async () => {
    if (!window.confirm('Rebuild the read model from the event log?')) return;
    button.disabled = true;
    const started = performance.now();
    result.textContent = 'rebuilding…';
    try {
      const r = await postJson<RebuildResult>('/v1/admin/projections/rebuild');
      result.textContent = `${r.status}: ${r.eventsReplayed} events replayed in ${r.durationMs} ms`;
    } catch (e) {
      result.textContent = `failed after ${Math.round(performance.now() - started)} ms: ${errorText(e)}`;
    } finally {
      button.disabled = false;
    }
  });
  return () => {};
}
