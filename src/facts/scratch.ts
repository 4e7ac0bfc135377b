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
