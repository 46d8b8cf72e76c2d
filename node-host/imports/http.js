// codex:auth/http: one request with `fetch`, sent as given (no redirects
// followed, TLS verified), its whole answer returned.
import { call } from './io.js';

export function send(request) {
  const { method, url, headers, body, timeoutMs } = request;
  return call('send', [{ method, url, headers, body, timeoutMs }], timeoutMs);
}
