// The installed runtime's family and version (SPEC S5.7) without a subprocess per job: `--check`,
// run as root, stores `RUNTIME --version` in a root-owned cache keyed on the runtime file's path,
// inode, size and mtime. A job cannot write the cache; a stale or forged entry is ignored.

import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { familyFromBasename, familyFromVersionText } from '../invocation/families/index';
import type { FamilyId } from '../invocation/flagTable';
import type { Invocation } from '../invocation/model';
import { parseForRuntime } from '../decide/rules/compat';

export const CACHE_DIR = '/var/cache/condor-job-wrapper';
export const PROBE_TIMEOUT_MS = 5000;

export interface RuntimeVersion {
  readonly family: FamilyId;
  readonly version?: string;
  readonly source: 'cache' | 'probe' | 'basename';
}

/** What identifies one build of the runtime file: a reinstall changes at least one of these. */
export interface RuntimeKey {
  readonly path: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

interface CacheEntry extends RuntimeKey {
  readonly versionText: string;
  readonly family: FamilyId;
  readonly version: string;
}

export function runtimeKey(path: string): RuntimeKey | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  return { path, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}

/**
 * FNV-1a over the path, twice with different offsets: a safe file name for any path without
 * loading node:crypto on every job. A collision is only a miss: the entry names its path.
 */
function pathHash(path: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (const byte of Buffer.from(path)) {
    a = Math.imul(a ^ byte, 0x01000193) >>> 0;
    b = Math.imul(b ^ byte, 0x01000193) >>> 0;
  }
  return `${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}

/** One file per runtime path, named by its basename (for admins) and a hash of the path. */
export function cacheFile(path: string, dir = CACHE_DIR): string {
  const base = basename(path).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return join(dir, `${base}-${pathHash(path)}.json`);
}

/** Root-owned (or `owner`, for tests) and writable by it only: anything else a job could have written. */
function trustworthy(st: Stats, owner = 0): boolean {
  return st.uid === owner && (st.mode & 0o022) === 0;
}

function isCacheEntry(v: unknown): v is CacheEntry {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.path === 'string' && typeof o.ino === 'number' && typeof o.size === 'number' && typeof o.mtimeMs === 'number'
    && typeof o.versionText === 'string' && typeof o.family === 'string' && ['apptainer', 'singularity3', 'singularity2'].includes(o.family) && typeof o.version === 'string';
}

/** The cached version for the runtime at `key`, or undefined on a miss (or an untrusted cache). */
export function readCache(key: RuntimeKey, dir = CACHE_DIR, owner = 0): RuntimeVersion | undefined {
  const file = cacheFile(key.path, dir);
  try {
    if (!trustworthy(lstatSync(dir), owner)) return undefined;
    const st = lstatSync(file);
    if (!st.isFile() || !trustworthy(st, owner) || st.size > 64 * 1024) return undefined;
    const entry: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isCacheEntry(entry)) return undefined;
    if (entry.path !== key.path || entry.ino !== key.ino || entry.size !== key.size || entry.mtimeMs !== key.mtimeMs) return undefined;
    return { family: entry.family, version: entry.version, source: 'cache' };
  } catch {
    return undefined;
  }
}

/** Both runtimes colour their output even when it is not a terminal. */
const ESC = String.fromCharCode(27);
const COLOUR = new RegExp(`${ESC}\\[[0-9;]*m|${ESC}\\(B`, 'g');

function stripColour(s: string): string {
  return s.replace(COLOUR, '');
}

/**
 * Runs `RUNTIME --version` once: argv array, fixed clean environment (the job's environment must
 * not steer it), 5 s timeout. Undefined when it fails or prints something we do not recognise.
 */
export function probeVersionText(path: string, timeoutMs = PROBE_TIMEOUT_MS): string | undefined {
  // Loaded only here: child_process costs start-up time on every job otherwise.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  try {
    const out = execFileSync(path, ['--version'], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' },
      timeout: timeoutMs,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024,
    });
    return stripColour(out).trim();
  } catch {
    return undefined;
  }
}

export interface LookupOptions {
  /** Spend one `--version` subprocess on a miss (only when a rule needs the version). */
  readonly probe: boolean;
  readonly dir?: string;
  /** The uid the cache must belong to: root, except in tests. */
  readonly owner?: number;
}

/** Cache, then (if allowed) one probe without writing, then the basename. */
export function lookupRuntimeVersion(path: string, opts: LookupOptions): RuntimeVersion {
  const fallback: RuntimeVersion = { family: familyFromBasename(basename(path)), source: 'basename' };
  const key = runtimeKey(path);
  if (key === undefined) return fallback;
  const cached = readCache(key, opts.dir, opts.owner);
  if (cached !== undefined || !opts.probe) return cached ?? fallback;
  const text = probeVersionText(path);
  const parsed = text === undefined ? undefined : familyFromVersionText(text);
  return parsed === undefined ? fallback : { ...parsed, source: 'probe' };
}

export interface RefreshResult {
  readonly version?: RuntimeVersion;
  readonly versionText?: string;
  /** Why the cache was not written (not root, probe failed, write failed); undefined when written. */
  readonly notWritten?: string;
  readonly file: string;
  /** Entries removed because their runtime no longer exists (written only when the cache was). */
  readonly pruned?: readonly string[];
}

/** Writes the entry atomically (temp file + rename), mode 0644 in a 0755 dir, root only. */
function writeEntry(entry: CacheEntry, dir: string, owner: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || !trustworthy(st, owner)) throw new Error(`${dir} is not a root-owned directory writable only by root`);
  const file = cacheFile(entry.path, dir);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** `--check`: probe the runtime and, when running as root, store the answer for the jobs. */
export function refreshCache(path: string, opts: { dir?: string; uid?: number; owner?: number } = {}): RefreshResult {
  const dir = opts.dir ?? CACHE_DIR;
  const file = cacheFile(path, dir);
  const key = runtimeKey(path);
  if (key === undefined) return { file, notWritten: 'the runtime does not exist' };
  const versionText = probeVersionText(path);
  const parsed = versionText === undefined ? undefined : familyFromVersionText(versionText);
  if (versionText === undefined || parsed === undefined) {
    return { file, notWritten: versionText === undefined ? `${path} --version failed` : `unrecognised --version output "${versionText}"`, ...(versionText === undefined ? {} : { versionText }) };
  }
  const version: RuntimeVersion = { ...parsed, source: 'probe' };
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  const owner = opts.owner ?? 0;
  if (uid !== owner) return { file, version, versionText, notWritten: 'not running as root (jobs trust only a cache root wrote)' };
  try {
    writeEntry({ ...key, versionText, family: parsed.family, version: parsed.version }, dir, owner);
  } catch (e) {
    return { file, version, versionText, notWritten: `cannot write ${file}: ${e instanceof Error ? e.message : String(e)}` };
  }
  const pruned = pruneGone(dir);
  return { file, version, versionText, ...(pruned.length === 0 ? {} : { pruned }) };
}

const ENTRY_NAME = /^[A-Za-z0-9._-]+-[0-9a-f]{16}\.json$/;

/**
 * Removes the entries whose runtime no longer exists (a runtime moved or uninstalled, a test's
 * stand-in): without it the directory only grows. An entry for a runtime that is still there but
 * was reinstalled is left alone; the next --check that names it replaces it. Returns the removed files.
 */
export function pruneGone(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!ENTRY_NAME.test(name)) continue;
    const file = join(dir, name);
    let entry: unknown;
    try {
      entry = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // unreadable or half-written: not ours to judge
    }
    if (!isCacheEntry(entry) || cacheFile(entry.path, dir) !== file) continue;
    try {
      statSync(entry.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') continue;
      rmSync(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}

/** `RUNTIME --version` once, without writing the cache (a job must not fill it). */
export function probeRuntimeVersion(path: string): RuntimeVersion | undefined {
  const text = probeVersionText(path);
  const parsed = text === undefined ? undefined : familyFromVersionText(text);
  return parsed === undefined ? undefined : { ...parsed, source: 'probe' };
}

/**
 * The starter's line parsed with the installed runtime's flag table. Family and version come
 * from the root-written cache, else from one `--version` probe (SPEC S2: never from the basename
 * alone: `singularity` is Apptainer's compatibility name as well as SingularityCE's and 2.6's).
 * Only a runtime that cannot answer falls back to its name. `mayProbe` is false for --explain,
 * which runs nothing.
 */
export function parseStarterLine(command: readonly string[], mayProbe: boolean): { invocation: Invocation; runtimeVersion: RuntimeVersion } {
  const program = command[0] ?? '';
  const cached = lookupRuntimeVersion(program, { probe: false });
  const known = cached.source === 'basename' && mayProbe ? (probeRuntimeVersion(program) ?? cached) : cached;
  let invocation: Invocation;
  try {
    invocation = parseForRuntime(command, known.family);
  } catch (e) {
    // --explain without a cache: a spelling only another family has (2.6's --wdir) names it.
    if (known.source !== 'basename' || mayProbe) throw e;
    const other = (['singularity2', 'apptainer', 'singularity3'] as const).find((fam) => fam !== known.family && parsesAs(command, fam));
    if (other === undefined) throw e;
    return { invocation: parseForRuntime(command, other), runtimeVersion: { family: other, source: 'basename' } };
  }
  return { invocation, runtimeVersion: known };
}

function parsesAs(command: readonly string[], family: FamilyId): boolean {
  try {
    parseForRuntime(command, family);
    return true;
  } catch {
    return false;
  }
}
