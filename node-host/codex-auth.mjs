#!/usr/bin/env node
// A small codex-auth command on Node: the guest component (transpiled by
// jco) makes every decision; the modules in ./imports do the I/O.
//
//   node codex-auth.mjs [--home DIR] [--issuer URL] [--account NAME] COMMAND
//
// See README.md beside this file.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { allow } from './imports/environment.js';
import * as storage from './imports/storage.js';

const USAGE = `usage: node codex-auth.mjs [options] COMMAND

commands:
  login [--device | --browser | --paste] [--no-browser] [--port N]
        [--fallback-port N] [--timeout SECS] [--name NAME]
                       sign in with ChatGPT (browser on the loopback, else device code)
  status [--json]      what is signed in; exit 1 when nothing is
  token                the bearer token, alone on stdout
  headers [--json]     ready request headers
  refresh [--force]    refresh now if due (always with --force)
  unauthorized TOKEN   the API answered 401 to TOKEN: print the token to retry with
  logout               revoke the refresh token and forget the credential
  accounts [--json]    the accounts of the home
  import NAME DIR [--move]
                       add the Codex home DIR as account NAME: linked where it
                       is (its auth.json is refreshed there), or with --move
                       its login moved into the vault (one holder at every
                       instant, crashes included)

options:
  --home DIR           the vault home (CODEX_AUTH_HOME, default ~/.codex-auth)
  --issuer URL         the issuer (CODEX_AUTH_ISSUER, default https://auth.openai.com)
  --account NAME       the account to use (CODEX_AUTH_ACCOUNT)
  --lock-timeout MS    how long to wait for a store lock (default 45000)
  --guest FILE         the transpiled guest (CODEX_AUTH_GUEST_JS, default ./guest/guest.js)
  --help               this text

exit codes: 0 success, 1 not logged in or failed, 2 a wrong command line`;

const options = {
  home: { type: 'string' },
  issuer: { type: 'string' },
  account: { type: 'string' },
  guest: { type: 'string' },
  json: { type: 'boolean' },
  move: { type: 'boolean' },
  force: { type: 'boolean' },
  device: { type: 'boolean' },
  browser: { type: 'boolean' },
  paste: { type: 'boolean' },
  'no-browser': { type: 'boolean' },
  port: { type: 'string' },
  'fallback-port': { type: 'string' },
  timeout: { type: 'string' },
  name: { type: 'string' },
  'lock-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

let args;
try {
  args = parseArgs({ options, allowPositionals: true });
} catch (e) {
  usageError(e.message);
}
const { values: flags, positionals } = args;
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const [command, ...rest] = positionals;
if (!command) usageError('no command given');

const here = path.dirname(fileURLToPath(import.meta.url));
const guestFile = flags.guest ?? process.env.CODEX_AUTH_GUEST_JS ?? path.join(here, 'guest', 'guest.js');
let guest;
try {
  guest = await import(pathToFileURL(path.resolve(guestFile)).href);
} catch (e) {
  fail(`cannot load the guest from ${guestFile}: ${e.message} (build it as README.md says)`);
}

// Defaults and the variables the guest reads are the guest's; ask it.
const defaults = guest.vault.defaults();
allow(defaults.guestVars);
const env = (name) => (process.env[name] ? process.env[name] : undefined);
storage.configure({
  home: flags.home ?? env(defaults.homeVar) ?? path.join(os.homedir(), defaults.homeDir),
  defaultAccount: defaults.defaultAccount,
  layout: defaults.layout,
});
const config = {
  issuer: flags.issuer ?? env(defaults.issuerVar),
  clientId: undefined,
  originator: undefined,
  refreshSkewSeconds: undefined,
  lockTimeoutMs: number(flags['lock-timeout'], '--lock-timeout'),
  httpTimeoutMs: undefined,
  chatgptBaseUrl: env(defaults.chatgptBaseUrlVar),
  strategy: undefined,
  runtimeKey: undefined,
  file: undefined,
};
const explicit = flags.account ?? env(defaults.accountVar);

try {
  process.exitCode = run(command, rest);
} catch (e) {
  fail(describe(e));
}

function run(command, rest) {
  const vault = new guest.vault.Vault(config);
  // Settle the moves a crash left half done before anything reads a store.
  for (const line of vault.finishMoves()) process.stderr.write(`codex-auth: ${line}\n`);
  const session = (name) => new guest.session.Session(name, config);
  const current = () => session(vault.select(explicit));
  switch (command) {
    case 'login': {
      const account = vault.target(flags.name ?? explicit);
      const method = flags.device ? 'device' : flags.browser ? 'browser' : flags.paste ? 'paste' : 'auto';
      const status = session(account).login({
        method,
        openBrowser: !flags['no-browser'],
        port: number(flags.port, '--port'),
        fallbackPort: number(flags['fallback-port'], '--fallback-port'),
        timeoutSeconds: number(flags.timeout, '--timeout'),
        os: { darwin: 'macos', win32: 'windows' }[process.platform] ?? process.platform,
      });
      process.stderr.write(`Signed in with ${sentence(status)}\n`);
      if (flags.json) printJson(statusJson(status));
      return 0;
    }
    case 'status': {
      let status;
      try {
        status = current().status();
      } catch (e) {
        if (e?.payload?.tag !== 'not-logged-in') throw e;
        status = { kind: 'none', source: { tag: 'none' }, tier: 'none', loginRequired: false };
      }
      if (flags.json) printJson(statusJson(status));
      else process.stderr.write(`${status.kind === 'none' ? 'Not logged in' : `Logged in using ${sentence(status)}`}\n`);
      return status.kind === 'none' || status.loginRequired ? 1 : 0;
    }
    case 'token':
      console.log(current().accessToken());
      return 0;
    case 'headers': {
      const headers = current().requestHeaders();
      if (flags.json) printJson(Object.fromEntries(headers));
      else for (const [name, value] of headers) console.log(`${name}: ${value}`);
      return 0;
    }
    case 'refresh': {
      const status = current().refresh(flags.force === true);
      process.stderr.write(`Refreshed: ${sentence(status)}\n`);
      if (flags.json) printJson(statusJson(status));
      return 0;
    }
    case 'unauthorized': {
      if (rest.length !== 1) usageError('unauthorized takes the rejected token');
      console.log(current().unauthorized(rest[0]));
      return 0;
    }
    case 'logout': {
      const report = current().logout();
      const revoked = { 'not-needed': '', revoked: '; refresh token revoked', failed: `; revoking failed: ${report.revocation.val}` };
      process.stderr.write(`${report.removed ? 'Logged out' : 'Nothing to log out'}${revoked[report.revocation.tag]}\n`);
      return 0;
    }
    case 'accounts': {
      const list = vault.accounts();
      if (flags.json) printJson(list.map((a) => ({ name: a.name, state: a.state, email: a.email, plan: a.plan })));
      else for (const a of list) console.log(`${a.name}\t${a.state}\t${a.email ?? ''}`);
      return 0;
    }
    case 'import': {
      if (rest.length !== 2) usageError('import takes an account name and a Codex home');
      const [name, directory] = [rest[0], path.resolve(rest[1])];
      if (flags.move) {
        const status = vault.takeOver(name, directory);
        process.stderr.write(`Moved the login of ${directory} into account \`${name}\`: ${sentence(status)}\n`);
        if (flags.json) printJson(statusJson(status));
      } else {
        const account = vault.link(name, directory);
        process.stderr.write(`Linked account \`${name}\` to ${directory}\n`);
        if (flags.json) printJson({ name: account.name, state: account.state, email: account.email, plan: account.plan });
      }
      return 0;
    }
    default:
      usageError(`unknown command \`${command}\``);
  }
}

function number(text, flag) {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) usageError(`${flag} takes a whole number, not \`${text}\``);
  return n;
}

function sentence(s) {
  if (s.kind === 'subscription') return `ChatGPT: ${[s.plan, s.email].filter(Boolean).join(', ')}`;
  if (s.kind === 'api-key') return `an API key${s.apiKeyHint ? ` - ***${s.apiKeyHint}` : ''}`;
  if (s.kind === 'command') return "a command's token";
  return 'nothing';
}

// The native CLI's field names, so scripts read both alike.
function statusJson(s) {
  const seconds = (t) => (t === undefined ? null : Number(t));
  return {
    account: s.account ?? null,
    kind: s.kind,
    tier: s.tier,
    account_id: s.accountId ?? null,
    plan: s.plan ?? null,
    email: s.email ?? null,
    expires_at: seconds(s.expiresAt),
    last_refresh: seconds(s.lastRefresh),
    login_required: s.loginRequired,
    logged_in: s.kind !== 'none' && !s.loginRequired,
  };
}

function printJson(value) {
  console.log(JSON.stringify(value, null, 2));
}

// A component error arrives as a thrown ComponentError carrying the WIT
// `auth-error` as its payload.
function describe(e) {
  const error = e?.payload;
  if (!error?.tag) return `unexpected failure: ${e?.message ?? e}`;
  const { tag, val } = error;
  switch (tag) {
    case 'not-logged-in':
      return 'not logged in: run `login`';
    case 'unknown-account':
      return `no account \`${val}\``;
    case 'all-blocked':
      return `every account is blocked by a usage limit until ${new Date(Number(val) * 1000).toISOString()}`;
    case 'corrupt-store':
      return `${val.path} cannot be used (left as it is): ${val.reason}`;
    case 'lock-timeout':
      return `another process held the store lock for more than ${val} ms`;
    case 'login-required':
      return `login required: the issuer rejected the refresh token (${val.code}); run \`login\` again`;
    case 'issuer':
      return `the issuer answered ${val.status}: ${val.error?.code ?? ''} ${val.error?.description ?? ''}`.trim();
    case 'internal':
      return `internal error${val ? `: ${val}` : ''}`;
    default:
      // storage, transport, invalid-input, login-failed: the text says it.
      return `${tag}: ${val}`;
  }
}

function fail(message) {
  process.stderr.write(`codex-auth: ${message}\n`);
  process.exit(1);
}

function usageError(message) {
  process.stderr.write(`codex-auth: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}
