// The flag table for a runtime family.

import type { FamilyId, FamilyTable } from '../flagTable';
import { apptainerTable } from './apptainer';
import { singularity2Table } from './singularity2';
import { singularity3Table } from './singularity3';

const TABLES: Readonly<Record<FamilyId, FamilyTable>> = {
  apptainer: apptainerTable,
  singularity3: singularity3Table,
  singularity2: singularity2Table,
};

export function tableFor(family: FamilyId): FamilyTable {
  return TABLES[family];
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
