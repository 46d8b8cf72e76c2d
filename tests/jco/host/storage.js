// codex:auth/storage: the vault in memory. `state.file` is the home's own
// account (`default`); other accounts live in `state.accounts`.
import { state } from './state.js';

const files = (account) => (account === 'default' ? state : (state.accounts[account] ??= {}));

export function accounts() {
  const names = Object.keys(state.accounts);
  return state.file === undefined ? names : ['default', ...names];
}

export function location(account) {
  return `memory:${account}/auth.json`;
}

export function linkedTo(_account) {
  return undefined;
}

// An in-memory store has no directory: nothing of the Codex CLI is there.
export function homeSigns(_account, _codexHome, _names) {
  return { isCodexHome: false, present: [] };
}

export function codexConfig(_account, _file) {
  return undefined;
}

export function useStore(_account, _store) {}

export function load(account) {
  return files(account).file;
}

export function save(account, contents) {
  if (!files(account).locked) {
    throw { tag: 'io', val: 'saved without the lock' };
  }
  files(account).file = contents;
}

export function remove(account) {
  const had = files(account).file !== undefined;
  files(account).file = undefined;
  return had;
}

export function lock(account, _timeoutMs) {
  if (files(account).locked) {
    throw { tag: 'io', val: 'the lock is already held' };
  }
  files(account).locked = true;
}

export function unlock(account) {
  files(account).locked = false;
}

export function link(_account, _directory) {
  throw { tag: 'io', val: 'this host has no Codex homes to link' };
}

export function forget(account) {
  if (account !== 'default') delete state.accounts[account];
}

export function loadSettings() {
  return state.settings;
}

export function saveSettings(contents) {
  state.settings = contents;
}

export function loadPool(account) {
  return state.pool[account];
}

export function savePool(account, contents) {
  state.pool[account] = contents;
}

export function lockPool(account, _timeoutMs) {
  if (state.poolLocks.has(account)) {
    throw { tag: 'lock-timeout', val: 0 };
  }
  state.poolLocks.add(account);
}

export function unlockPool(account) {
  state.poolLocks.delete(account);
}

// This host has no Codex homes and no journal: nothing to take over.
export function journals() {
  return [];
}

export function homeConfig(_directory, _file) {
  return undefined;
}

const noHomes = () => {
  throw { tag: 'io', val: 'this host has no Codex homes to take over' };
};
export const loadPlace = noHomes;
export const savePlace = noHomes;
export const removePlace = noHomes;
export const lockPlace = noHomes;
export function unlockPlace(_place) {}
export const renameInto = noHomes;
