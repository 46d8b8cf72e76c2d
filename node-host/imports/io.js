// Blocking calls into asynchronous Node I/O.
//
// The component's imports are synchronous (`http.send` returns the answer,
// `loopback.accept` waits for a request), while `fetch` and `node:http` are
// asynchronous. This bridge runs them on a worker thread with its own event
// loop: the main thread posts the call, sleeps in `Atomics.wait` until the
// worker signals, then takes the answer with `receiveMessageOnPort`. The
// worker's loop keeps running meanwhile, so a listener bound there accepts
// connections while the component sleeps or polls. (This is the method of
// the `synckit` package; it needs no JSPI and works on Node 20.)
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';

let bridge;

function start() {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./io-worker.js', import.meta.url), {
    workerData: { signal, port: port2 },
    transferList: [port2],
  });
  // Neither keeps the process alive once the component is done.
  worker.unref();
  port1.unref();
  return { signal, port: port1, worker };
}

/// Runs `op(...args)` on the worker and returns its value (or throws its
/// error). `boundMs` is how long the operation itself may take; the wait
/// gives up a little after it, so a dead worker cannot hang the process.
export function call(op, args, boundMs) {
  bridge ??= start();
  const { signal, port, worker } = bridge;
  Atomics.store(signal, 0, 0);
  worker.postMessage({ op, args });
  const limit = boundMs + 10_000;
  if (Atomics.wait(signal, 0, 0, limit) === 'timed-out') {
    throw new Error(`the I/O worker did not answer ${op} within ${limit} ms`);
  }
  const reply = receiveMessageOnPort(port)?.message;
  if (reply === undefined) throw new Error(`the I/O worker signalled ${op} without an answer`);
  if ('error' in reply) throw reply.error;
  return reply.value;
}

/// Blocks the calling thread for `ms` milliseconds (the worker goes on).
export function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, Number(ms)));
}
