// Runs the codex-auth guest, transpiled by jco, under Node with the host
// interfaces above, and prints what it answered as JSON.
import { pathToFileURL } from 'node:url';
import { state } from './host/state.js';

const guest = await import(pathToFileURL(process.argv[2]).href);
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims) => `${b64({ alg: 'none' })}.${b64(claims)}.sig`;
const text = (bytes) => Buffer.from(bytes).toString('utf8');
const now = Number(state.nowMs / 1000n);

const out = {};
out.challenge = guest.pkce.challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
const auth = { chatgpt_account_id: 'acct-js', chatgpt_plan_type: 'plus', chatgpt_user_id: 'user-js' };
const idToken = jwt({ exp: now + 3600, email: 'js@example.com', 'https://api.openai.com/auth': auth });
out.accountId = guest.claims.parse(idToken).accountId;
out.authorizeUrl = guest.authorize.authorizeUrl({
  issuer: 'https://auth.openai.com',
  clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
  redirectUri: guest.authorize.redirectUri(1455),
  scope: undefined,
  codeChallenge: out.challenge,
  state: 'js-state~1',
  originator: 'codex_cli_rs',
  allowedWorkspaceId: 'ws 1&2',
});

const config = {
  issuer: 'https://issuer.test',
  clientId: undefined,
  originator: undefined,
  refreshSkewSeconds: undefined,
  lockTimeoutMs: 1000,
  httpTimeoutMs: 1000,
  chatgptBaseUrl: undefined,
  strategy: undefined,
  runtimeKey: undefined,
  file: undefined,
};
const session = new guest.session.Session('default', config);
const firstAccess = jwt({ exp: now + 3600, n: 1 });
session.setCredential({
  tag: 'chatgpt',
  val: { idToken, accessToken: firstAccess, refreshToken: 'rt-1', accountId: undefined },
});
out.firstAccess = firstAccess;
out.headers = session.requestHeaders();

// Two hours later the token has expired: the guest refreshes through http.
state.nowMs += 7200n * 1000n;
const secondAccess = jwt({ exp: now + 3 * 3600, n: 2 });
state.responses.push({
  status: 200,
  headers: [],
  body: new TextEncoder().encode(JSON.stringify({ access_token: secondAccess, refresh_token: 'rt-2' })),
});
out.secondAccess = secondAccess;
out.refreshedToken = session.accessToken();
out.refreshUrl = state.requests[0].url;
out.refreshBody = JSON.parse(text(state.requests[0].body));
out.stored = JSON.parse(text(state.file));
const status = session.status();
out.status = { kind: status.kind, plan: status.plan, email: status.email, expiresAt: Number(status.expiresAt) };
out.lockReleased = !state.locked;

// A second account beside it: the vault lists both and pins one.
const work = new guest.session.Session('work', config);
work.setCredential({ tag: 'api-key', val: 'sk-js-work-account-0000' });
const vault = new guest.vault.Vault(config);
out.accounts = vault.accounts().map((a) => a.name);
vault.pin('work');
out.selected = vault.select(undefined);
out.defaultAccount = guest.vault.defaults().defaultAccount;

console.log(JSON.stringify(out));
