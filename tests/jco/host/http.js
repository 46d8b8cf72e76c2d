// codex:auth/http: a scripted issuer. Requests are recorded; answers are
// taken from state.responses in order.
import { state } from './state.js';

export function send(request) {
  state.requests.push(request);
  const answer = state.responses.shift();
  if (answer === undefined) {
    throw { tag: 'other', val: `unscripted request to ${request.url}` };
  }
  return answer;
}
