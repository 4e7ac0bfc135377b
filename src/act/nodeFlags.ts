// The V8 flags the front starts the wrapper's Node with (scripts/front.sh). `--jitless`: no JIT,
// no executable memory allocated at run time. A job start is ~10 ms of code that runs once, which
// the interpreter does as well as the compilers (regular expressions are interpreted rather than
// compiled); measured 1.2 ms less per start on Node 20 (docs/benchmarks.md). It also takes
// writable-and-executable memory out of a process that reads the job's input.
//
// Which spelling a Node takes differs, and V8 flags carry no stability promise: Node 20 and 22
// print "Warning: disabling flag --expose_wasm due to conflicting flags" on stderr (every job's)
// unless `--no-expose-wasm` comes too, and Node 24's V8 has no such flag and refuses to start with
// it. The front cannot ask Node without starting it, so `--check` (as root) tries the sets on its
// Node and leaves a HARD link to that very binary, named for the set, in NODE_FLAGS_DIR. The
// front compares each link with its Node by device and inode (`test -ef`: stat(2) only, no fork).
// A Node replaced since (a package upgrade writes a new file) is another inode: no link matches,
// and Node starts without flags until `--check` runs again. A symbolic link would follow the path
// to the new binary and hand it flags chosen for the old one.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from '../facts/versionCache';

export const NODE_FLAGS_DIR = join(CACHE_DIR, 'node');

export interface FlagSet {
  /** The links' name prefix; scripts/front.sh maps the same names to the same flags. */
  readonly name: string;
  readonly flags: readonly string[];
}

export const FLAG_SETS: readonly FlagSet[] = [
  { name: 'jitless-no-wasm', flags: ['--jitless', '--no-expose-wasm'] },
  { name: 'jitless', flags: ['--jitless'] },
];

export interface FlagChoice {
  readonly ok: boolean;
  readonly text: string;
}

/** Whether `node` starts with `flags` silently: exit 0, nothing on stdout or stderr. */
export type FlagTrial = (node: string, flags: readonly string[]) => boolean;

const tryFlags: FlagTrial = (node, flags) => {
  const r = spawnSync(node, [...flags, '-e', '0'], { env: {}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  return r.status === 0 && r.stdout === '' && r.stderr === '';
};

/** One key per Node binary path: a second Node on the node (another version) keeps its own link. */
export function nodeKey(realNode: string): string {
  return createHash('sha256').update(realNode).digest('hex').slice(0, 16);
}

/**
 * Chooses the flag set for `node` and leaves its hard link (root only: the front trusts the
 * directory as it trusts the code cache's). Atomic: a job starting meanwhile sees the old link or
 * the new one. Links of other Node binaries stay.
 */
export function chooseNodeFlags(isRoot: boolean, node: string = process.execPath, dir: string = NODE_FLAGS_DIR, trial: FlagTrial = tryFlags): FlagChoice {
  if (!isRoot) return { ok: false, text: `not chosen: only root links them in ${dir} (jobs then start Node without them, about 1 ms slower)` };
  let target: string;
  try {
    target = realpathSync(node);
    statSync(target);
  } catch (e) {
    return { ok: false, text: `not chosen: ${node}: ${(e as Error).message}` };
  }
  const key = nodeKey(target);
  const chosen = FLAG_SETS.find((s) => trial(target, s.flags));
  const ours = (f: string): boolean => FLAG_SETS.some((s) => f === `${s.name}.${key}` || f.startsWith(`${s.name}.${key}.`));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    // This Node's old links (another set, or the binary this path held before an upgrade, which
    // the link would keep on disk) and any temporary left by an interrupted run.
    for (const f of readdirSync(dir)) if (ours(f)) rmSync(join(dir, f), { force: true });
    if (chosen !== undefined) {
      const link = join(dir, `${chosen.name}.${key}`);
      const tmp = `${link}.${String(process.pid)}.tmp`;
      linkSync(target, tmp);
      renameSync(tmp, link);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EXDEV' ? `${dir} and ${target} are on different filesystems, and a hard link cannot cross them` : (e as Error).message;
    return { ok: false, text: `not chosen: ${why} (jobs start Node without flags, about 1 ms slower)` };
  }
  if (chosen === undefined) return { ok: false, text: `${target} (${process.version}) starts silently with none of ${FLAG_SETS.map((s) => s.flags.join(' ')).join(' / ')}: jobs start it without flags` };
  return { ok: true, text: `${chosen.flags.join(' ')} for ${target} (${process.version}; hard link ${join(dir, `${chosen.name}.${key}`)})` };
}
