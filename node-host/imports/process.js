// codex:auth/process: a command account's program, run directly (no
// shell), with no standard input, killed after its timeout.
import { spawnSync } from 'node:child_process';

/// Output beyond this is not kept (a token is a few kilobytes).
const MAX_OUTPUT = 1 << 20;

export function run(program, args, timeoutMs) {
  const child = spawnSync(program, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT,
  });
  if (child.error && child.error.code !== 'ETIMEDOUT' && child.error.code !== 'ENOBUFS') {
    throw `cannot run ${program}: ${child.error.message}`;
  }
  return {
    status: child.status ?? undefined,
    stdout: new Uint8Array(child.stdout ?? []),
    stderr: new Uint8Array(child.stderr ?? []),
  };
}
