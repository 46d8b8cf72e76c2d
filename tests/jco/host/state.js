// Shared state of the JavaScript host: what the Rust host keeps in files,
// sockets and the system clock, kept here in memory.
export const state = {
  nowMs: 1795381200000n,
  file: undefined,
  locked: false,
  accounts: {},
  settings: undefined,
  pool: {},
  poolLocks: new Set(),
  requests: [],
  responses: [],
  events: [],
};
