// codex:auth/clock: a fixed clock that moves only when told (or slept on).
import { state } from './state.js';

export function now() {
  return state.nowMs;
}

export function sleep(ms) {
  state.nowMs += BigInt(ms);
}
