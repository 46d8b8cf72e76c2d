// codex:auth/notify: sign-in progress on stderr, the browser through
// $BROWSER (else the platform's opener), and one line from the terminal.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { sleep } from './io.js';

const say = (line) => process.stderr.write(`${line}\n`);
const interactive = process.stderr.isTTY === true;

export function emit(event) {
  const { tag, val } = event;
  switch (tag) {
    case 'open-url':
      say('Open this URL in a browser to sign in:');
      say(`  ${val}`);
      break;
    case 'device-code':
      say(`Go to ${val.verificationUrl} and enter the code ${val.userCode}`);
      say(`(the code expires in ${Math.ceil(val.expiresIn / 60)} minutes)`);
      break;
    case 'waiting':
      if (interactive) process.stderr.write(`\rwaiting, ${val} s left `);
      break;
    case 'account-disabled':
      say(`account ${val.account} is disabled: ${val.reason}; sign in again to enable it`);
      break;
    case 'peer-refreshed':
      say(`account ${val} was refreshed by another program (the Codex CLI?) first; using the login it stored`);
      break;
    case 'refreshed':
      // For counting, not for showing.
      break;
    case 'account-blocked':
      say(`account ${val.account} is blocked by a usage limit until ${new Date(Number(val.until) * 1000).toISOString()}`);
      break;
    default:
      // method-chosen, rejected, info: a line of text each.
      say(val);
  }
}

export function openBrowser(url) {
  // $BROWSER may list several, separated by ':'; the first is used.
  const browser = process.env.BROWSER?.split(':')[0];
  const opener = browser || { darwin: 'open', win32: 'explorer' }[process.platform] || 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch (e) {
    throw `cannot start ${opener}: ${e.message}`;
  }
}

export function ask(prompt) {
  process.stderr.write(prompt);
  const bytes = [];
  const buffer = Buffer.alloc(1);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buffer, 0, 1, null);
    } catch (e) {
      // A terminal in non-blocking mode: wait for the person to type.
      if (e.code === 'EAGAIN') {
        sleep(20);
        continue;
      }
      throw `cannot read the terminal: ${e.message}`;
    }
    if (n === 0) {
      if (bytes.length === 0) throw 'end of input before a line was entered';
      break;
    }
    if (buffer[0] === 0x0a) break;
    bytes.push(buffer[0]);
  }
  return Buffer.from(bytes).toString('utf8').replace(/\r$/, '');
}
