// Table tests for GPUs (SPEC S5.5): the machine ad decides, HTCondor's "none" markers mean none,
// CJW_GPU_FLAG exactly once, never a flag the installed runtime lacks.

import { initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { applyGpu, assignedGpus } from '../../../src/decide/rules/gpu';
import { WrapperError } from '../../../src/errors';
import { parseClassAd } from '../../../src/facts/classad';
import { parseConfig } from '../../../src/facts/config/load';
import type { Facts, RuntimeFact } from '../../../src/facts/types';
import { tableFor } from '../../../src/invocation/families/index';
import type { FamilyId } from '../../../src/invocation/flagTable';
import { render } from '../../../src/invocation/model';
import { parseInvocation } from '../../../src/invocation/parse';

const IMG = '/images/cuda.sif';

function facts(ad: string | undefined, o: { cfg?: string; runtime?: Partial<RuntimeFact>; env?: [string, string][] } = {}): Facts {
  return {
    env: new Map(o.env ?? []),
    config: parseConfig(o.cfg === undefined ? [] : [{ path: '/etc/condor-job-wrapper/wrapper.env', text: o.cfg }]),
    cwd: '/x/dir_1',
    runtime: { path: '/usr/bin/apptainer', usable: true, family: 'apptainer', source: 'cache', ...o.runtime },
    ...(ad === undefined ? {} : { machineAd: parseClassAd(ad, '/x/dir_1/.machine.ad', 'machine') }),
    paths: new Map(),
    hooks: [],
    contributions: [],
  };
}

function draft(family: FamilyId, flags: string[] = ['-C'], rt = '/usr/bin/apptainer'): Draft {
  const inv = parseInvocation([rt, 'exec', ...flags, IMG, '/bin/nvidia-smi'], tableFor(family));
  return initialDraft({ dispatch: 'starter-built', command: render(inv), invocation: inv }, facts(undefined));
}

const flagsOf = (d: Draft): string[] => (d.invocation === undefined ? [] : render(d.invocation).slice(2, -2));

describe('assignedGpus: from the machine ad only', () => {
  it.each([
    ['absent', undefined, []],
    ['one string', 'AssignedGPUs = "CUDA0"', ['CUDA0']],
    ['comma and space separated', 'AssignedGPUs = "CUDA0, CUDA1,GPU-3f2a"', ['CUDA0', 'CUDA1', 'GPU-3f2a']],
    ['a ClassAd list', 'AssignedGPUs = { "CUDA0", "CUDA1" }', ['CUDA0', 'CUDA1']],
    ['HTCondor\'s "none" marker 10000', 'AssignedGPUs = "10000"', []],
    ['10000 as an integer', 'AssignedGPUs = 10000', []],
    ['"none"', 'AssignedGPUs = "none"', []],
    ['empty string', 'AssignedGPUs = ""', []],
    ['undefined', 'AssignedGPUs = undefined', []],
    ['an integer id', 'AssignedGPUs = 0', ['0']],
  ])('%s', (_n, line, want) => {
    expect(assignedGpus(line === undefined ? undefined : parseClassAd(`${line}\n`, '/m', 'machine'))).toEqual(want);
  });

  it('a value of another type is a node error (69), not the job\'s', () => {
    try {
      assignedGpus(parseClassAd('AssignedGPUs = true\n', '/m', 'machine'));
      throw new Error('expected a WrapperError');
    } catch (e) {
      expect(e).toBeInstanceOf(WrapperError);
      expect((e as WrapperError).code).toBe(69);
    }
  });
});

describe('applyGpu', () => {
  const GPU = 'AssignedGPUs = "CUDA0,CUDA1"\n';
  it.each([
    ['GPU slot, default --nv', 'apptainer', ['-C'], GPU, undefined, {}, ['-C', '--nv']],
    ['GPU-less slot (starter env says 10000, ad has none): nothing', 'apptainer', ['-C'], 'GPUs = 0\n', undefined, {}, ['-C']],
    ['no machine ad: nothing', 'apptainer', ['-C'], undefined, undefined, {}, ['-C']],
    ['--nv already on the line: exactly once', 'apptainer', ['--nv', '-C'], GPU, undefined, {}, ['--nv', '-C']],
    ['HTCondor 25 --nv --rocm line: --nv not repeated', 'apptainer', ['--nv', '--rocm', '-C'], GPU, undefined, {}, ['--nv', '--rocm', '-C']],
    ['--nv=false does not count', 'apptainer', ['--nv=false'], GPU, undefined, {}, ['--nv=false', '--nv']],
    ['AMD site: --rocm on Apptainer', 'apptainer', ['-C'], GPU, 'CJW_GPU_FLAG=--rocm', {}, ['-C', '--rocm']],
    ['--nv on Singularity 2.6', 'singularity2', ['-C'], GPU, undefined, { family: 'singularity2', version: '2.6.1' }, ['-C', '--nv']],
    ['--nv on Singularity 3.4', 'singularity3', ['-C'], GPU, undefined, { family: 'singularity3', version: '3.4.2' }, ['-C', '--nv']],
    ['--rocm on Singularity 3.4: not added (added in 3.5)', 'singularity3', ['-C'], GPU, 'CJW_GPU_FLAG=--rocm', { family: 'singularity3', version: '3.4.2' }, ['-C']],
    ['--rocm on Singularity 2.6: not added', 'singularity2', ['-C'], GPU, 'CJW_GPU_FLAG=--rocm', { family: 'singularity2', version: '2.6.1' }, ['-C']],
    ['--rocm on SingularityCE 3.11', 'singularity3', ['-C'], GPU, 'CJW_GPU_FLAG=--rocm', { family: 'singularity3', version: '3.11.4' }, ['-C', '--rocm']],
  ] as const)('%s', (_n, family, flags, ad, cfg, rt, want) => {
    const f = facts(ad, { ...(cfg === undefined ? {} : { cfg }), runtime: rt, env: [['_CONDOR_AssignedGPUs', '10000'], ['CUDA_VISIBLE_DEVICES', '10000']] });
    expect(flagsOf(applyGpu(draft(family, [...flags]), f))).toEqual(want);
  });

  it('records why it added the flag', () => {
    const d = applyGpu(draft('apptainer'), facts('AssignedGPUs = "CUDA0"\n'));
    expect(d.changes).toEqual([{ rule: 'gpu', what: 'added --nv', reason: 'the slot was assigned GPUs CUDA0 (machine ad AssignedGPUs); CJW_GPU_FLAG=--nv' }]);
    expect(d.warnings).toEqual([]);
  });

  it('a flag the runtime lacks: one warning and a change saying why (no per-job error: --check reports 78)', () => {
    const d = applyGpu(draft('singularity3'), facts('AssignedGPUs = "GPU-1"\n', { cfg: 'CJW_GPU_FLAG=--rocm', runtime: { family: 'singularity3', version: '3.4.2' } }));
    expect(d.changes[0]?.what).toBe('not added --rocm');
    expect(d.warnings).toEqual(['GPU flag --rocm not added: Singularity 3.4.2 has no --rocm (added in 3.5): the job runs without --rocm; fix CJW_GPU_FLAG (condor-job-wrapper --check reports it)']);
  });

  it('the job environment (CUDA_VISIBLE_DEVICES=0) never adds a flag', () => {
    const d = applyGpu(draft('apptainer'), facts(undefined, { env: [['CUDA_VISIBLE_DEVICES', '0'], ['_CONDOR_AssignedGPUs', 'CUDA0']] }));
    expect(flagsOf(d)).toEqual(['-C']);
  });
});
