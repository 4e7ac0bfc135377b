// Which runtime will run the container, and whether it is usable: exists and is executable.
// No subprocess here (SPEC S4); family and version come from the root-written cache when there
// is one (facts/versionCache.ts), else from the basename.

import { accessSync, constants, statSync } from 'node:fs';
import { basename } from 'node:path';
import { familyFromBasename } from '../invocation/families/index';
import type { RuntimeFact } from './types';

/** Where wrapper-built mode looks for a runtime when CJW_RUNTIME is empty, in order. */
export const DEFAULT_RUNTIMES = ['/usr/bin/apptainer', '/usr/local/bin/apptainer', '/usr/bin/singularity', '/usr/local/bin/singularity'] as const;

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The runtime fact for a known path (starter-built: argv[1]; wrapper-built: CJW_RUNTIME). */
export function runtimeFact(path: string): RuntimeFact {
  return { path, usable: isExecutableFile(path), family: familyFromBasename(basename(path)), source: 'basename' };
}

/** Wrapper-built mode: CJW_RUNTIME, else the first default location that is usable. */
export function chooseRuntime(configured: string): RuntimeFact {
  if (configured !== '') return runtimeFact(configured);
  for (const p of DEFAULT_RUNTIMES) {
    const f = runtimeFact(p);
    if (f.usable) return f;
  }
  return runtimeFact(DEFAULT_RUNTIMES[0]);
}
