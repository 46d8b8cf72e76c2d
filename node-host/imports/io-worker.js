// The asynchronous side of io.js: `fetch` for http.send, and the loopback
// listener (node:http on 127.0.0.1). Every operation answers exactly once,
// with a value or an error, and is bounded by its own timeout.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { signal, port } = workerData;

/// The largest answer read (the same bound as the native host): no issuer
/// answer comes near it; a larger one is a transport error.
const MAX_BODY_BYTES = 1 << 20;

parentPort.on('message', async ({ op, args }) => {
  let reply;
  try {
    reply = { value: await ops[op](...args) };
  } catch (error) {
    reply = { error: cloneable(error) };
  }
  port.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});

// Component errors are plain objects ({tag, val}) or strings; anything else
// (a bug) travels as its message.
function cloneable(error) {
  if (typeof error === 'string' || (error && typeof error === 'object' && 'tag' in error)) return error;
  return String(error?.stack ?? error);
}

const ops = {
  async send({ method, url, headers, body, timeoutMs }) {
    let answer;
    try {
      answer = await fetch(url, {
        method: method.toUpperCase(),
        headers,
        body: body.length > 0 ? body : undefined,
        // Redirects are the guest's business; TLS is always verified.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw transportError(e);
    }
    const chunks = [];
    let size = 0;
    try {
      for await (const chunk of answer.body ?? []) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          await answer.body.cancel();
          throw { tag: 'other', val: `the answer is larger than ${MAX_BODY_BYTES} bytes; it was not read` };
        }
        chunks.push(chunk);
      }
    } catch (e) {
      throw e?.tag ? e : transportError(e);
    }
    return {
      status: answer.status,
      headers: [...answer.headers].map(([name, value]) => [name.toLowerCase(), value]),
      body: new Uint8Array(Buffer.concat(chunks)),
    };
  },

  bind(portNumber) {
    closeListener();
    return new Promise((resolve, reject) => {
      const server = http.createServer((req, res) => listener.arrived(req, res));
      server.once('error', (e) =>
        reject(
          e.code === 'EADDRINUSE'
            ? { tag: 'in-use' }
            : { tag: 'other', val: `cannot listen on 127.0.0.1:${portNumber}: ${e.message}` },
        ),
      );
      // Loopback only: the redirect carries an authorization code.
      server.listen({ port: portNumber, host: '127.0.0.1', exclusive: true }, () => {
        listener = new Listener(server);
        resolve();
      });
    });
  },

  accept(timeoutMs) {
    if (!listener) throw 'no loopback listener is bound';
    return listener.next(timeoutMs);
  },

  respond(id, status, contentType, body) {
    listener?.respond(id, status, contentType, body);
  },

  close() {
    closeListener();
  },
};

let listener;

function closeListener() {
  listener?.close();
  listener = undefined;
}

/// A bound listener: requests queue until `accept` takes them, and wait for
/// `respond`; those never answered get a 500 when it closes.
class Listener {
  constructor(server) {
    this.server = server;
    this.queue = [];
    this.waiter = undefined;
    this.pending = new Map();
    this.nextId = 0n;
  }

  arrived(req, res) {
    this.nextId += 1n;
    const id = this.nextId;
    this.pending.set(id, res);
    // The body is not needed; drain it so the connection stays usable.
    req.resume();
    const incoming = { id, method: req.method, target: req.url };
    if (this.waiter) {
      const { resolve, timer } = this.waiter;
      this.waiter = undefined;
      clearTimeout(timer);
      resolve(incoming);
    } else {
      this.queue.push(incoming);
    }
  }

  next(timeoutMs) {
    if (this.queue.length > 0) return this.queue.shift();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = { resolve, timer };
    });
  }

  respond(id, status, contentType, body) {
    const res = this.pending.get(id);
    if (!res) return;
    this.pending.delete(id);
    res.writeHead(status, { 'content-type': contentType, connection: 'close' });
    res.end(Buffer.from(body));
  }

  close() {
    for (const res of this.pending.values()) {
      res.writeHead(500, { connection: 'close' });
      res.end();
    }
    this.pending.clear();
    if (this.waiter) {
      clearTimeout(this.waiter.timer);
      this.waiter.resolve(undefined);
      this.waiter = undefined;
    }
    this.server.close();
    this.server.closeAllConnections?.();
  }
}

function transportError(e) {
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { tag: 'timeout' };
  // undici says "fetch failed" and puts the reason (ECONNREFUSED...) in the cause chain.
  const parts = [];
  for (let cause = e; cause; cause = cause.cause) parts.push(cause.message ?? String(cause));
  const why = parts.join(': ');
  const code = e?.cause?.code ?? '';
  const connect = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT)/.test(code)
    || /certificate|TLS|SSL/i.test(why);
  return connect ? { tag: 'connect', val: why } : { tag: 'other', val: why };
}
