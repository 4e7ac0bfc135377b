// The flag table for a runtime family.

import type { FamilyId, FamilyTable } from '../flagTable';

// Each table is built the first time its family is asked for: a job meets one runtime, and
// building all three at start-up cost every job the other two (~0.05 ms, docs/benchmarks.md).
/* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose (see above) */
const LOADERS: Readonly<Record<FamilyId, () => FamilyTable>> = {
  apptainer: () => (require('./apptainer') as typeof import('./apptainer')).apptainerTable,
  singularity3: () => (require('./singularity3') as typeof import('./singularity3')).singularity3Table,
  singularity2: () => (require('./singularity2') as typeof import('./singularity2')).singularity2Table,
};
/* eslint-enable @typescript-eslint/no-require-imports */
const built = new Map<FamilyId, FamilyTable>();

export function tableFor(family: FamilyId): FamilyTable {
  let t = built.get(family);
  if (t === undefined) {
    t = LOADERS[family]();
    built.set(family, t);
  }
  return t;
}

/**
 * The family from a `--version` text: "apptainer version 1.3.4", "singularity-ce version 3.11.4",
 * "singularity version 3.4.2", "2.6.1-dist". Undefined when the text is none of these.
 */
export function familyFromVersionText(text: string): { family: FamilyId; version: string } | undefined {
  const line = text.split('\n')[0]?.trim() ?? '';
  const m = /^(apptainer|singularity-ce|singularity)(?: version)? v?(\d+\.\d+(?:\.\d+)?)\S*$/i.exec(line);
  if (m !== null) {
    const name = (m[1] ?? '').toLowerCase();
    const version = m[2] ?? '';
    if (name === 'apptainer') return { family: 'apptainer', version };
    return { family: version.startsWith('2.') ? 'singularity2' : 'singularity3', version };
  }
  const bare = /^v?(\d+\.\d+(?:\.\d+)?)(?:[-+.~]\S*)?$/.exec(line);
  if (bare !== null) {
    const version = bare[1] ?? '';
    return { family: version.startsWith('2.') ? 'singularity2' : 'singularity3', version };
  }
  return undefined;
}

/** Without a version: apptainer by name, else the Singularity 3.x+/SingularityCE table. */
export function familyFromBasename(base: string): FamilyId {
  return base.includes('apptainer') ? 'apptainer' : 'singularity3';
}
