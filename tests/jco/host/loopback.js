// codex:auth/loopback: this host has no listener.
export function bind(_port) {
  throw { tag: 'other', val: 'no loopback listener in this host' };
}

export function accept(_timeoutMs) {
  return undefined;
}

export function respond(_id, _status, _contentType, _body) {}

export function close() {}
