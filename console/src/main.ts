// The console's shell: the admin token form and one page at a time, chosen by the URL's hash
// (#overview, #stream, #dead-letters, #rebuild, #audit), so each page has an address to link to.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { adminToken, setAdminToken } from './api';
import { mountAudit } from './audit';
import { mountDeadLetters } from './deadletters';
import { el } from './dom';
import { mountOverview } from './overview';
import { mountRebuild } from './rebuild';
import { mountStream } from './stream';

type Mount = (root: HTMLElement) => () => void;

const PAGES: Record<string, { title: string; mount: Mount }> = {
  overview: { title: 'Overview', mount: mountOverview },
  stream: { title: 'Order / stream', mount: mountStream },
  'dead-letters': { title: 'Dead letters', mount: mountDeadLetters },
  rebuild: { title: 'Rebuild & verify', mount: mountRebuild },
  audit: { title: 'Audit log', mount: mountAudit },
};

let unmount: () => void = () => {};

function show(): void {
  const name = location.hash.slice(1) in PAGES ? location.hash.slice(1) : 'overview';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    a.classList.toggle('active', a.dataset.page === name);
  }
  unmount();
  const root = document.getElementById('page')!;
  root.replaceChildren(el('h2', {}, PAGES[name].title));
  unmount = PAGES[name].mount(root);
}

function setUpToken(): void {
  const input = document.getElementById('token') as HTMLInputElement;
  const form = document.getElementById('token-form') as HTMLFormElement;
  input.value = adminToken();
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setAdminToken(input.value.trim());
    show();
  });
}

const nav = document.querySelector('nav')!;
for (const [name, page] of Object.entries(PAGES)) {
  nav.append(el('a', { href: `#${name}`, 'data-page': name, 'data-testid': `nav-${name}` }, page.title));
}
setUpToken();
window.addEventListener('hashchange', show);
show();
