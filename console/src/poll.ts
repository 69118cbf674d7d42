// Runs `tick` now and again `everyMs` after each run ends, until the returned stop is called;
// what it throws is shown in `problem` (and cleared by the next run that succeeds).
import { errorText } from './dom';

export function pollEvery(everyMs: number, problem: HTMLElement, tick: () => Promise<void>): () => void {
  let stopped = false;
  let timer = 0;
  const run = async (): Promise<void> => {
    try {
      await tick();
      problem.textContent = '';
    } catch (e) {
      if (!stopped) problem.textContent = errorText(e);
    } finally {
      if (!stopped) timer = window.setTimeout(() => void run(), everyMs);
    }
  };
  void run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
