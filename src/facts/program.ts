// Whether argv[1] can be the job's own file (SPEC S2). HTCondor keeps a transferred executable's
// name, so a job can ship a file called `sshd` or `apptainer`: a name proves nothing. Only a
// program the job cannot have written is taken as the sshd passthrough or the starter's runtime.

import { accessSync, constants, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isWithin, normalize } from '../decide/paths';

export interface ProgramTrust {
  /** argv[1] as given. */
  readonly path: string;
  /** Its realpath, when it exists. */
  readonly real?: string;
  /** False when nothing is there (a starter line whose runtime is gone: no job file can run through it). */
  readonly exists: boolean;
  /** True when the job cannot have written it (or the directory holding it). */
  readonly trusted: boolean;
  /** Why, for --explain and the log: "root-owned, writable by root only", "inside the job's scratch dir …". */
  readonly why: string;
}

/** The job's own directories: where the starter put its sandbox and started it. */
export function jobDirs(env: ReadonlyMap<string, string>, cwd: string | undefined): string[] {
  const dirs = cwd === undefined ? [] : [cwd];
  for (const k of ['_CONDOR_SCRATCH_DIR', '_CONDOR_JOB_IWD']) {
    const v = env.get(k);
    if (v !== undefined && v.startsWith('/')) dirs.push(v);
  }
  return dirs;
}

// realpath(3) itself (`.native`): Node's own realpathSync walks the path in JavaScript, one lstat
// and a cache lookup per component, which the start-up of every job paid several times.
function realOrSelf(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return normalize(p);
  }
}

/**
 * The uid unmapped owners show as, when this process runs in a user namespace that does not map
 * it (a nested job inside an unprivileged Apptainer: the host's root-owned files show as
 * `nobody`). Such an owner is no user of ours, so not the job's. Undefined on the host, where
 * `nobody` is a real user a site may run jobs as. Read only when an owner needs it.
 */
let overflowOwner: number | undefined | null = null;
function unmappedOwnerUid(): number | undefined {
  if (overflowOwner !== null) return overflowOwner;
  overflowOwner = undefined;
  try {
    const overflow = Number(readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim());
    const ranges = readFileSync('/proc/self/uid_map', 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    const mapped = ranges.some(([inside = 0, , count = 0]) => overflow >= inside && overflow < inside + count);
    if (Number.isInteger(overflow) && !mapped) overflowOwner = overflow;
  } catch {
    // no /proc: treat nothing as unmapped
  }
  return overflowOwner;
}

/** Owned by root, or by an owner this user namespace does not map (root outside, seen from inside). */
function rootOwned(uid: number): boolean {
  return uid === 0 || uid === unmappedOwnerUid();
}

/** Writable by root alone; a sticky root directory (/tmp) lets no one else rename root's entries. */
function rootControlled(st: Stats, isDir: boolean): boolean {
  if (!rootOwned(st.uid)) return false;
  if ((st.mode & 0o022) === 0) return true;
  return isDir && (st.mode & 0o1000) !== 0;
}

/** EROFS from access(W_OK) is the kernel's word that the file's mount is read-only (e.g. /cvmfs). */
function onReadOnlyMount(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/**
 * Trusted when it lies outside the job's directories and either it and every directory above it
 * are root-controlled, or it sits on a read-only mount (OSG's Apptainer on /cvmfs can appear owned
 * by the job's user when the client claims ownership).
 */
export function programTrust(path: string, dirs: readonly string[]): ProgramTrust {
  const abs = normalize(resolve(path));
  let real: string;
  let st: Stats;
  try {
    real = realpathSync.native(abs);
    st = statSync(real);
  } catch {
    return { path, exists: false, trusted: false, why: `${path} does not exist` };
  }
  for (const d of dirs) {
    if (normalize(d) === '/') continue; // started from / (an admin's shell): that is no job sandbox
    const rd = realOrSelf(d);
    if (isWithin(real, rd) || isWithin(abs, normalize(d))) return { path, real, exists: true, trusted: false, why: `it lies inside the job's directory ${d}` };
  }
  if (!st.isFile()) return { path, real, exists: true, trusted: false, why: `${real} is not a regular file` };
  if (onReadOnlyMount(real)) return { path, real, exists: true, trusted: true, why: `${real} is on a read-only file system` };
  if (!rootControlled(st, false)) {
    const w = (st.mode & 0o022) !== 0 ? 'writable by its group or others' : `owned by uid ${String(st.uid)}`;
    return { path, real, exists: true, trusted: false, why: `${real} is ${w}: the job's user could have written it` };
  }
  for (let d = dirname(real); ; d = dirname(d)) {
    let ds: Stats;
    try {
      ds = statSync(d);
    } catch {
      return { path, real, exists: true, trusted: false, why: `cannot stat ${d}` };
    }
    // A directory no one can change (a read-only mount: a container's / on a sandbox image) is safe too.
    if (!rootControlled(ds, true) && !onReadOnlyMount(d)) return { path, real, exists: true, trusted: false, why: `its directory ${d} is not controlled by root alone: the job's user could have replaced it` };
    if (d === '/') break;
  }
  return { path, real, exists: true, trusted: true, why: `${real} and its directories are root-owned and writable by root only` };
}
