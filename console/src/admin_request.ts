// Starting an admin request (rebuild, verify) without holding a connection open, and following
// it: POST with ?wait=0 answers 202 and the request at once (or its outcome, if it was already
// finished), then GET /v1/admin/requests/{id} is polled until it is done or failed, each poll
// handed to `onUpdate` so a page can show the progress as it goes.
import { getJson, post, type AdminRequest } from './api';

const POLL_MS = 250;
const GIVE_UP_MS = 30 * 60 * 1000;

export async function runAdminRequest(
  path: string,
  onUpdate: (r: AdminRequest) => void,
): Promise<AdminRequest> {
  const sep = path.includes('?') ? '&' : '?';
  const first = await post<AdminRequest | Record<string, unknown>>(`${path}${sep}wait=0`);
  if (first.status !== 202) {
    // Finished before the answer went out: the body is the outcome itself.
    const done = { state: 'done', result: first.body } as unknown as AdminRequest;
    onUpdate(done);
    return done;
  }
  let request = first.body as AdminRequest;
  onUpdate(request);
  const deadline = performance.now() + GIVE_UP_MS;
  while (request.state !== 'done' && request.state !== 'failed' && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    request = await getJson<AdminRequest>(`/v1/admin/requests/${request.id}`);
    onUpdate(request);
  }
  return request;
}
