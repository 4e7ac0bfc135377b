// The job's scratch dir for wrapper-built mode: `_CONDOR_SCRATCH_DIR`, which the starter sets
// over any value the job asked for, probed once (stat) so the pure rules can check it.

import { statSync } from 'node:fs';
import type { PathFact, ScratchFact } from './types';

export function pathKind(path: string): PathFact['kind'] {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * Undefined when the starter did not set the variable, except under --explain, which assumes the
 * current directory (the starter starts the job there) and says so.
 */
export function scratchFact(env: ReadonlyMap<string, string>, cwd: string, explain: boolean): ScratchFact | undefined {
  const path = env.get('_CONDOR_SCRATCH_DIR');
  if (path === undefined || path === '') {
    if (!explain) return undefined;
    return { path: cwd, kind: pathKind(cwd), assumed: `no _CONDOR_SCRATCH_DIR (not started by a starter): --explain assumed the current directory ${cwd} is the scratch dir` };
  }
  // A relative path is refused by the rule; probing it relative to our cwd would mean nothing.
  return { path, kind: path.startsWith('/') ? pathKind(path) : 'other' };
}

/**
 * --explain of a starter-built line (SPEC S9: a line copied from a StarterLog, on a node where
 * the job is gone): the starter's variable if set, else the line's `-W` (the starter's scratch
 * dir on 24 and 25), else the current directory; the last two say they were assumed.
 */
export function explainScratchFact(env: ReadonlyMap<string, string>, workdir: string | undefined, cwd: string): ScratchFact {
  const path = env.get('_CONDOR_SCRATCH_DIR');
  if (path !== undefined && path !== '') return { path, kind: path.startsWith('/') ? pathKind(path) : 'other' };
  if (workdir !== undefined && workdir.startsWith('/')) {
    return { path: workdir, kind: pathKind(workdir), assumed: `no _CONDOR_SCRATCH_DIR (not started by a starter): --explain took the line's -W ${workdir} as the scratch dir` };
  }
  return { path: cwd, kind: pathKind(cwd), assumed: `no _CONDOR_SCRATCH_DIR and no -W on the line: --explain assumed the current directory ${cwd} is the scratch dir` };
}
