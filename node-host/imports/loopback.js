// codex:auth/loopback: the browser sign-in's redirect listener, node:http on
// 127.0.0.1 only, running on the I/O worker so it accepts while the
// component waits.
import { call } from './io.js';

export function bind(port) {
  call('bind', [port], 5_000);
}

export function accept(timeoutMs) {
  return call('accept', [timeoutMs], timeoutMs);
}

export function respond(id, status, contentType, body) {
  call('respond', [id, status, contentType, body], 5_000);
}

export function close() {
  call('close', [], 5_000);
}
