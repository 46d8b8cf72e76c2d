// wasi:cli/environment: only the variables the guest names (its
// `vault.defaults().guestVars`), never the whole environment. Until the
// host calls `allow`, the guest sees none.
let allowed = [];

/// Lets the guest see these variables of `env` (and only these).
export function allow(names, env = process.env) {
  allowed = names.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]);
}

export function getEnvironment() {
  return allowed;
}

export function getArguments() {
  return [];
}

export function initialCwd() {
  return undefined;
}
