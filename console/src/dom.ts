// A few DOM helpers: elements built from data with textContent only, so nothing the service
// returns (payloads, reasons) is ever parsed as HTML.

type Child = Node | string | number | null | undefined;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(typeof c === 'number' ? String(c) : c);
  }
  return node;
}

export function table(headers: string[], rows: Child[][], testId: string): HTMLTableElement {
  return el(
    'table',
    { 'data-testid': testId },
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))),
  );
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
