// codex:auth/process: this host has no command accounts to run.
export function run(program, _args, _timeoutMs) {
  throw `this host does not run programs (${program})`;
}
