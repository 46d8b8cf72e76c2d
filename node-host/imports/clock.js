// codex:auth/clock: the system clock; `sleep` blocks this thread only.
import { sleep as block } from './io.js';

export function now() {
  return BigInt(Date.now());
}

export function sleep(ms) {
  block(ms);
}
