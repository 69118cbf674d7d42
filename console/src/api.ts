// Calls to the service. The admin token lives in this tab's sessionStorage only, and goes out as
// `Authorization: Bearer` on every call.

const TOKEN_KEY = 'ordinal.adminToken';

export function adminToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setAdminToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = adminToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (body !== undefined) init.body = JSON.stringify(body);
  const r = await fetch(path, init);
  if (!r.ok) throw new ApiError(r.status, await r.text());
  return r;
}

// An answer with its status: an admin request answers 202 while it is not finished.
export async function post<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await call('POST', path, body);
  return { status: r.status, body: (await r.json()) as T };
}

export async function getText(path: string): Promise<string> {
  return (await call('GET', path)).text();
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await call('GET', path)).json()) as T;
}

export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  return (await (await call('POST', path, body)).json()) as T;
}

// The shapes of the admin answers the console reads (docs/openapi.json).
export interface StatusReport {
  version: string;
  roles: string[];
  outbox: { pending: number; oldestPendingAgeMs: number; lastSeq: number; publishedSeq: number } | null;
  projection: {
    streams: number;
    positions: { partition: string; offset: number }[];
    deadLetters: number;
    // Messages waiting over every partition whose end is known; null while none is known.
    behind: number | null;
  } | null;
  relayPublishedSeq: number;
  gateWaiting: number;
}

export interface StreamEvent {
  seq: number;
  eventId: string;
  version: number;
  type: string;
  occurredAt: string;
  committedAt: string;
  published: boolean;
  // When the relay batch that carried it was marked published, and when the projection batch
  // that applied it committed (null when not known: docs/console.md#publish-and-apply-times).
  publishedAt: string | null;
  applied: boolean;
  appliedAt: string | null;
}

export interface StreamView {
  stream: string;
  writeVersion: number;
  readVersion: number;
  events: StreamEvent[];
}

export interface TokenCheck {
  passes: boolean;
  streams: { stream: string; wanted: number; readVersion: number; passes: boolean }[];
}

export interface DeadLetter {
  id: number;
  partition: string;
  offset: number;
  stream: string;
  version: number;
  eventType: string;
  payload: string;
  reason: string;
  createdAt: string;
}

export interface RetryResult {
  retried: number;
  applied: number;
  remaining: number;
  advanced: { stream: string; version: number }[];
}

export interface DiscardResult {
  discarded: number;
  reason: string;
}

export interface AdminRequest {
  id: number;
  kind: string;
  target: number | null;
  reason: string | null;
  state: 'queued' | 'running' | 'done' | 'failed';
  requestedBy: string;
  owner: string | null;
  attempts: number;
  requestedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  progress: { eventsReplayed?: number } | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

export interface VerifyReport {
  clean: boolean;
  findings: { kind: string; stream: string | null; detail: string }[];
  findingsTotal: number;
  findingsListed: number;
  eventsChecked: number;
  streams: { orders: number; products: number };
  lag: { streams: number; events: number };
  outbox: { pending: number; oldestPendingAgeMs: number };
  seconds: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  action: string;
  target: string | null;
  reason: string | null;
  outcome: 'done' | 'failed';
  result: Record<string, unknown> | null;
  error: string | null;
  process: string;
  requestedBy: string | null;
  request: number | null;
}

export interface RebuildResult {
  status: string;
  eventsReplayed: number;
  durationMs: number;
}
