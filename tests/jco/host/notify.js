// codex:auth/notify: events are recorded; there is no browser and no terminal.
import { state } from './state.js';

export function emit(event) {
  state.events.push(event);
}

export function openBrowser(_url) {
  throw 'no browser in this host';
}

export function ask(_prompt) {
  throw 'no terminal in this host';
}
