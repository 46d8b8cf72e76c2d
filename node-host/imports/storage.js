// codex:auth/storage: the vault on disk, in the native host's layout, so
// both hosts (and the Codex CLI) share one home:
//
//   <home>/auth.json, auth.lock          the account `default`
//   <home>/accounts/<name>/auth.json     an account of the vault's own
//   <home>/accounts/<name> -> <dir>      an account linked to a Codex home
//   <home>/vault.json                    settings (the pinned account)
//   <home>/pool/<name>.json, .lock       an account's pool state
//
// Writes are atomic (temp file, fsync, rename, directory fsync), 0600 in a
// 0700 directory. Locks are real `flock(2)` locks on `auth.lock`, the ones
// the native host and the Codex CLI take: Node has no flock call, so
// `flock(1)` (util-linux) locks a descriptor this process opened and passes
// down. flock locks belong to the open file description, which the child
// shares, so the lock stays with this process after the child exits, until
// `unlock` closes the descriptor (or the process dies).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const AUTH_FILE = 'auth.json';
const LOCK_FILE = 'auth.lock';
/// Larger files are refused unread: no credential comes near this size.
const MAX_FILE_SIZE = 16 << 20;
/// flock(1)'s exit status when the lock was not had in time.
const CONFLICT = 75;

let home;
let defaultAccount;
/// The names inside the home (the guest's `defaults().layout`).
let layout;
const held = new Map();
const heldPool = new Map();

/// Where the vault lives, the name of its home's own account and the names
/// inside it (the guest's `defaults().defaultAccount` and `.layout`). Call
/// before the first import.
export function configure(options) {
  home = path.resolve(options.home);
  defaultAccount = options.defaultAccount;
  layout = options.layout;
}

const io = (why) => ({ tag: 'io', val: why });
const failure = (what, file, e) => io(`${what} ${file}: ${e.message ?? e}`);

function accountDir(name) {
  if (name === defaultAccount) return home;
  if (!name || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw io(`\`${name}\` is not an account name`);
  }
  return path.join(home, layout.accountsDir, name);
}

/// One file of the vault: read, written atomically, locked by a file of its own.
class VaultFile {
  constructor(dir, name, lock) {
    this.dir = dir;
    this.file = path.join(dir, name);
    this.lockFile = path.join(dir, lock);
  }

  load() {
    let stat;
    try {
      stat = fs.statSync(this.file);
    } catch (e) {
      if (e.code === 'ENOENT') return undefined;
      throw failure('cannot read', this.file, e);
    }
    if (stat.isDirectory()) throw io(`cannot read ${this.file}: it is a directory, not a file`);
    if (stat.size > MAX_FILE_SIZE) {
      throw io(`refusing to read ${this.file}: it is ${stat.size} bytes; a credential file is at most ${MAX_FILE_SIZE}`);
    }
    try {
      return new Uint8Array(fs.readFileSync(this.file));
    } catch (e) {
      if (e.code === 'ENOENT') return undefined;
      throw failure('cannot read', this.file, e);
    }
  }

  save(contents) {
    this.ensureDir();
    if (isDirectory(this.file)) throw io(`cannot write ${this.file}: it is a directory, not a file`);
    const temp = path.join(this.dir, `.auth-${randomBytes(6).toString('hex')}`);
    let fd;
    try {
      fd = fs.openSync(temp, 'wx', 0o600);
      fs.writeFileSync(fd, contents);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = undefined;
      fs.renameSync(temp, this.file);
    } catch (e) {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(temp, { force: true });
      throw failure('cannot write', this.file, e);
    }
    // The rename is durable only once the directory entry is.
    try {
      syncDirectory(this.dir);
    } catch (e) {
      throw failure('cannot sync the directory of', this.file, e);
    }
  }

  remove() {
    try {
      fs.unlinkSync(this.file);
      return true;
    } catch (e) {
      if (e.code === 'ENOENT') return false;
      throw failure('cannot remove', this.file, e);
    }
  }

  /// Takes the exclusive lock within `timeoutMs` (`0` tries once) and
  /// returns its descriptor; closing it releases the lock.
  lock(timeoutMs) {
    this.ensureDir();
    let fd;
    try {
      fd = fs.openSync(this.lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    } catch (e) {
      throw failure('cannot open the lock file', this.lockFile, e);
    }
    const wait = timeoutMs > 0 ? ['-w', String(timeoutMs / 1000)] : ['-n'];
    const child = spawnSync('flock', ['-x', ...wait, '-E', String(CONFLICT), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    if (child.status === 0) return fd;
    fs.closeSync(fd);
    if (child.status === CONFLICT) throw { tag: 'lock-timeout', val: timeoutMs };
    const why = child.error?.message ?? (child.stderr.toString().trim() || `flock exited with ${child.status}`);
    throw io(`cannot lock ${this.lockFile}: ${why} (flock(1) from util-linux is needed)`);
  }

  /// Creates the directory 0700 when missing; an existing one keeps its
  /// mode (it may be a shared ~/.codex).
  ensureDir() {
    if (isDirectory(this.dir)) return;
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw failure('cannot create the directory', this.dir, e);
    }
  }
}

/// Makes the entries of directory `dir` durable (fsync of the directory).
function syncDirectory(dir) {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function isDirectory(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const store = (account) => new VaultFile(accountDir(account), AUTH_FILE, LOCK_FILE);
const settings = () => new VaultFile(home, layout.settingsFile, layout.settingsLock);
const pool = (account) => {
  accountDir(account);
  return new VaultFile(path.join(home, layout.poolDir), `${account}.json`, `${account}.lock`);
};

function symlinkTarget(account) {
  try {
    const link = accountDir(account);
    return fs.lstatSync(link).isSymbolicLink() ? fs.readlinkSync(link) : undefined;
  } catch {
    return undefined;
  }
}

export function accounts() {
  const names = [];
  try {
    fs.lstatSync(path.join(home, AUTH_FILE));
    names.push(defaultAccount);
  } catch {}
  const dir = path.join(home, layout.accountsDir);
  try {
    // Strays are not accounts; the guest drops any name it would not accept.
    names.push(...fs.readdirSync(dir));
  } catch (e) {
    if (e.code !== 'ENOENT') throw failure('cannot list', dir, e);
  }
  return names;
}

export function location(account) {
  const target = symlinkTarget(account);
  if (target !== undefined) return path.join(target, AUTH_FILE);
  try {
    return store(account).file;
  } catch {
    return `<no store for ${account}>`;
  }
}

export function linkedTo(account) {
  return symlinkTarget(account);
}

// What the account's directory shows of the Codex CLI: whether it is the
// Codex CLI's own home (links resolved), and which of `names` it holds.
export function homeSigns(account, codexHome, names) {
  let dir;
  try {
    dir = accountDir(account);
  } catch {
    return { isCodexHome: false, present: [] };
  }
  const real = (p) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const resolved = real(dir);
  const isCodexHome = codexHome !== undefined && resolved !== undefined && real(codexHome) === resolved;
  const present = names.filter((name) => {
    if (name.includes('/')) return false;
    try {
      fs.lstatSync(path.join(dir, name));
      return true;
    } catch {
      return false;
    }
  });
  return { isCodexHome, present };
}

// The Codex CLI's config.toml of a Codex home: this host has no TOML
// parser, so it reports none, and every account stays in its auth.json (it
// has no keyring either).
export function codexConfig(_account, _file) {
  return undefined;
}

export function useStore(_account, _store) {}

export function load(account) {
  return store(account).load();
}

export function save(account, contents) {
  store(account).save(contents);
}

export function remove(account) {
  return store(account).remove();
}

/// Takes `file`'s lock for `account` into `locks` (not re-entrant).
function take(locks, account, file, timeoutMs, what) {
  if (locks.has(account)) throw io(`the ${what} of \`${account}\` is already held here`);
  locks.set(account, file.lock(timeoutMs));
}

/// Releases it (closing the descriptor drops the flock); nothing when not held.
function release(locks, account) {
  const fd = locks.get(account);
  locks.delete(account);
  if (fd !== undefined) fs.closeSync(fd);
}

export function lock(account, timeoutMs) {
  take(held, account, store(account), timeoutMs, 'lock of account');
}

export function unlock(account) {
  release(held, account);
}

export function link(account, directory) {
  const linkPath = accountDir(account);
  let target;
  try {
    target = fs.realpathSync(directory);
  } catch (e) {
    throw failure('cannot use', directory, e);
  }
  if (!isDirectory(target)) throw io(`${target} is not a directory`);
  for (const existing of accounts()) {
    let dir;
    try {
      dir = fs.realpathSync(accountDir(existing));
    } catch {
      continue;
    }
    if (dir === target) throw io(`${target} is already the account \`${existing}\``);
  }
  const parent = path.dirname(linkPath);
  try {
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    fs.symlinkSync(target, linkPath);
  } catch (e) {
    throw failure('cannot create the link', linkPath, e);
  }
}

export function forget(account) {
  // What the pool knew of it goes with it.
  pool(account).remove();
  if (account === defaultAccount) return;
  const dir = accountDir(account);
  let stat;
  try {
    stat = fs.lstatSync(dir);
  } catch (e) {
    if (e.code === 'ENOENT') return;
    throw failure('cannot read', dir, e);
  }
  if (stat.isSymbolicLink()) {
    try {
      fs.unlinkSync(dir);
    } catch (e) {
      throw failure('cannot remove the link', dir, e);
    }
    return;
  }
  if (fs.existsSync(path.join(dir, AUTH_FILE))) throw io(`${dir} still holds a credential`);
  fs.rmSync(path.join(dir, LOCK_FILE), { force: true });
  try {
    fs.rmdirSync(dir);
  } catch (e) {
    throw failure('cannot remove', dir, e);
  }
}

export function loadSettings() {
  return settings().load();
}

export function saveSettings(contents) {
  // Settings are rewritten whole and read leniently: no lock needed.
  settings().save(contents);
}

export function loadPool(account) {
  return pool(account).load();
}

export function savePool(account, contents) {
  pool(account).save(contents);
}

export function lockPool(account, timeoutMs) {
  take(heldPool, account, pool(account), timeoutMs, 'pool lock');
}

export function unlockPool(account) {
  release(heldPool, account);
}

// A take-over's places (the guest sequences the move; see the native host's
// `places.rs`): a Codex home's login, in its auth.json (this host reaches no
// keyring), and a move's journal entry in `moves/`.
const heldPlaces = new Map();

function placeFile(place) {
  if (place.tag === 'journal') {
    accountDir(place.val);
    return new VaultFile(path.join(home, layout.movesDir), `${place.val}.json`, `${place.val}.lock`);
  }
  const { directory, keptIn } = place.val;
  if (keptIn !== 'file') throw io(`${directory} keeps its login in the ${keptIn} store, which this host cannot reach`);
  return new VaultFile(path.resolve(directory), AUTH_FILE, LOCK_FILE);
}

const placeKey = (place) =>
  place.tag === 'journal' ? `journal:${place.val}` : `home:${place.val.keptIn}:${place.val.directory}`;

export function journals() {
  const dir = path.join(home, layout.movesDir);
  let files;
  try {
    files = fs.readdirSync(dir);
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw failure('cannot list', dir, e);
  }
  // `NAME.json`, and `.NAME.json-XXXXXX` (a journal a crash left half written).
  return files.flatMap((file) => {
    const half = /^\.(.+)\.json-[^/]*$/.exec(file);
    if (half) return [half[1]];
    return file.endsWith('.json') ? [file.slice(0, -'.json'.length)] : [];
  });
}

// As `codexConfig`: this host reads no TOML, so every home keeps its auth.json.
export function homeConfig(_directory, _file) {
  return undefined;
}

export function loadPlace(place) {
  return placeFile(place).load();
}

export function savePlace(place, contents) {
  placeFile(place).save(contents);
}

export function removePlace(place) {
  return placeFile(place).remove();
}

export function lockPlace(place, timeoutMs) {
  take(heldPlaces, placeKey(place), placeFile(place), timeoutMs, 'lock');
}

export function unlockPlace(place) {
  release(heldPlaces, placeKey(place));
}

/// Renames the home's auth.json over the account's, durably; `false` across
/// file systems, with nothing moved.
export function renameInto(directory, account) {
  const from = path.join(path.resolve(directory), AUTH_FILE);
  const to = store(account);
  try {
    // The mode first: the file is never in the vault with another one, crashes included.
    fs.chmodSync(from, 0o600);
    fs.renameSync(from, to.file);
    for (const dir of [to.dir, path.dirname(from)]) syncDirectory(dir);
  } catch (e) {
    if (e.code === 'EXDEV') return false;
    throw failure('cannot move', from, e);
  }
  return true;
}
