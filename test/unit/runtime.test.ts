// Which runtime wrapper-built mode uses (SPEC S2): CJW_RUNTIME, else HTCondor's SINGULARITY as
// --check stored it in a root-only file, else the default locations.

import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseRuntime, storedCondorRuntime, storeCondorRuntime } from '../../src/facts/runtime';

const ME = process.getuid?.() ?? 0;

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cjw-rtc-'));
  chmodSync(d, 0o755);
  return d;
}

describe('the stored HTCondor SINGULARITY', () => {
  it('round-trips through --check\'s store, and is removed when HTCondor names none', () => {
    const f = join(dir(), 'cache', 'htcondor-singularity');
    storeCondorRuntime('/cvmfs/oasis.opensciencegrid.org/mis/apptainer/bin/apptainer', f);
    expect(storedCondorRuntime(f, ME)).toBe('/cvmfs/oasis.opensciencegrid.org/mis/apptainer/bin/apptainer');
    storeCondorRuntime(undefined, f);
    expect(storedCondorRuntime(f, ME)).toBeUndefined();
  });

  it.each([
    ['group-writable file', (_d: string, f: string) => { writeFileSync(f, '/usr/bin/apptainer\n'); chmodSync(f, 0o664); }],
    ['other-writable directory', (d: string, f: string) => { writeFileSync(f, '/usr/bin/apptainer\n', { mode: 0o644 }); chmodSync(d, 0o777); }],
    ['relative path', (_d: string, f: string) => { writeFileSync(f, 'apptainer\n', { mode: 0o644 }); }],
    ['two lines', (_d: string, f: string) => { writeFileSync(f, '/a\n/b\n', { mode: 0o644 }); }],
  ])('ignores a %s (a job could have written it, or it is not a path)', (_n, make) => {
    const d = join(dir(), 'c');
    mkdirSync(d, { mode: 0o755 });
    const f = join(d, 'htcondor-singularity');
    make(d, f);
    expect(storedCondorRuntime(f, ME)).toBeUndefined();
  });

  it('chooseRuntime: CJW_RUNTIME first, then the stored SINGULARITY, then the defaults', () => {
    expect(chooseRuntime('/site/apptainer', () => '/condor/apptainer').path).toBe('/site/apptainer');
    expect(chooseRuntime('', () => '/condor/apptainer').path).toBe('/condor/apptainer');
    expect(chooseRuntime('', () => undefined).path).toMatch(/\/(apptainer|singularity)$/);
  });
});
