// codex:auth/storage: auth.json in memory.
import { state } from './state.js';

export function location() {
  return 'memory:auth.json';
}

export function load() {
  return state.file;
}

export function save(contents) {
  if (!state.locked) {
    throw { tag: 'io', val: 'saved without the lock' };
  }
  state.file = contents;
}

export function remove() {
  const had = state.file !== undefined;
  state.file = undefined;
  return had;
}

export function lock(_timeoutMs) {
  if (state.locked) {
    throw { tag: 'io', val: 'the lock is already held' };
  }
  state.locked = true;
}

export function unlock() {
  state.locked = false;
}
