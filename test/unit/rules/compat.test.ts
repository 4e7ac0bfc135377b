// Table tests for runtime compatibility (SPEC S5.7): the starter lines HTCondor 24.0.23 and
// 25.13.2 really wrote (test/fixtures/observed), fitted to the real Singularity 2.6.1 and 3.4.2,
// with the reason for each repair. Only this rules run here (binds/env are tested apart).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyRules, initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { applyCompat, compareVersions, lineNeedsVersion, missingFlagReason, parseForRuntime } from '../../../src/decide/rules/compat';
import { extraArgsRule } from '../../../src/decide/rules/extraArgs';
import { gpuRule } from '../../../src/decide/rules/gpu';
import { nestedRule } from '../../../src/decide/rules/nested';
import { compatRule } from '../../../src/decide/rules/compat';
import { parseClassAd } from '../../../src/facts/classad';
import { parseConfig } from '../../../src/facts/config/load';
import type { Facts, NestedFact } from '../../../src/facts/types';
import type { FamilyId } from '../../../src/invocation/flagTable';
import { render } from '../../../src/invocation/model';
import { thrown } from './thrown';

const ROOT = join(__dirname, '../../..');
const S26 = '/opt/singularity-2.6.1/bin/singularity';
const S34 = '/opt/singularity-3.4.2/bin/singularity';
const MY_RULES = [extraArgsRule, nestedRule, gpuRule, compatRule];

function observed(name: string, runtime: string): string[] {
  const argv = readFileSync(join(ROOT, 'test/fixtures/observed', name), 'utf8').replace(/\0$/, '').split('\0');
  return [runtime, ...argv.slice(1)];
}

interface Setup {
  family: FamilyId;
  version?: string;
  cfg?: string;
  machineAd?: string;
  nested?: NestedFact;
  scratch?: string;
}

function facts(s: Setup): Facts {
  return {
    env: new Map(s.scratch === undefined ? [] : [['_CONDOR_SCRATCH_DIR', s.scratch]]),
    config: parseConfig(s.cfg === undefined ? [] : [{ path: '/etc/condor-job-wrapper/wrapper.env', text: s.cfg }]),
    cwd: s.scratch ?? '/',
    runtime: { path: '/r', usable: true, family: s.family, ...(s.version === undefined ? {} : { version: s.version }), source: 'cache' },
    ...(s.machineAd === undefined ? {} : { machineAd: parseClassAd(s.machineAd, '/m/.machine.ad', 'machine') }),
    ...(s.nested === undefined ? {} : { nested: s.nested }),
    paths: new Map(),
    hooks: [],
    contributions: [],
  };
}

function run(argv: string[], s: Setup): Draft {
  const f = facts(s);
  const inv = parseForRuntime(argv, s.family);
  return applyRules(initialDraft({ dispatch: 'starter-built', command: argv, invocation: inv }, f), f, MY_RULES);
}

const out = (d: Draft): string[] => (d.invocation === undefined ? [] : render(d.invocation));

const V24 = '/tmp/personal-condor-verify/execute/dir_26434';
const V24L = '/tmp/personal-condor-verify/execute/dir_25752';
const V25 = '/tmp/personal-condor-verify/execute/dir_20258';
const V25L = '/tmp/personal-condor-verify/execute/dir_19537';
const PAYLOAD = ['/bin/sh', '-c', 'echo in-container; id; pwd; ls -a; env | sort'];

describe('HTCondor 24.0.23 lines on the real runtimes', () => {
  it('24 default line (no target dir, scratch under /tmp) on 2.6.1: -S dropped, scratch bound at /srv, --pwd/--home follow', () => {
    const d = run(observed('container-singularity-3.4.2.wrapper.argv.nul', S26), { family: 'singularity2', version: '2.6.1', scratch: V24 });
    // The observed 3.4.2 line already has SINGULARITY_TARGET_DIR=/srv: only the -S flags go.
    expect(out(d)).toEqual([S26, '-s', 'exec', '-W', V24, '--pwd', '/srv', '-B', `${V24}:/srv`, '--home', V24, '-C', '<images>/busybox.sif', ...PAYLOAD]);
    expect(d.changes.map((c) => c.what)).toEqual(['dropped -S /tmp', 'dropped -S /var/tmp']);
    expect(d.changes[0]?.reason).toContain('"Not mounting requested scratch directory (already mounted in container)"');
  });

  it('24 line without a target dir (the launcher job\'s line) on 2.6.1', () => {
    // HTCondor 24's line when SINGULARITY_TARGET_DIR is unset (as the launcher job's, on 2.6.1).
    const noTarget = [S26, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', V24L, '--pwd', V24L, '-B', V24L, '--home', V24L, '-C', '<images>/busybox.sif', '/bin/echo', 'launcher'];
    const d = run(noTarget, { family: 'singularity2', version: '2.6.1', scratch: V24L });
    expect(out(d)).toEqual([S26, '-s', 'exec', '-W', V24L, '--pwd', '/srv', '-B', `${V24L}:/srv`, '--home', `${V24L}:/srv`, '-C', '<images>/busybox.sif', '/bin/echo', 'launcher']);
    expect(d.changes.map((c) => c.what)).toEqual([
      'dropped -S /tmp', 'dropped -S /var/tmp', `--pwd ${V24L} → /srv`, `bind ${V24L} at /srv instead of ${V24L}`, `--home ${V24L} → ${V24L}:/srv`,
    ]);
    expect(d.changes[3]?.reason).toBe(`Singularity 2.6.1 mounts its private /tmp and /var/tmp over binds under -C, which would hide the scratch dir ${V24L}`);
  });

  it('a transferred executable in the scratch follows the bind', () => {
    const argv = [S26, '-s', 'exec', '-S', '/tmp', '-W', V24L, '--pwd', V24L, '-B', V24L, '-C', '/img', `${V24L}/echo`, 'x'];
    expect(out(run(argv, { family: 'singularity2', version: '2.6.1', scratch: V24L })).slice(-2)).toEqual(['/srv/echo', 'x']);
  });

  it('CJW_TARGET_DIR taken by another bind: a warning, no move', () => {
    const argv = [S26, 'exec', '-B', V24L, '-B', '/data:/srv', '-C', '/img', '/bin/true'];
    const d = run(argv, { family: 'singularity2', version: '2.6.1', scratch: V24L });
    expect(out(d)).toEqual(argv);
    expect(d.warnings[0]).toContain('CJW_TARGET_DIR /srv is already bound');
  });

  it('a scratch outside /tmp is left alone on 2.6.1 (only the -S flags go)', () => {
    const D = '/var/lib/condor/execute/dir_7';
    const argv = [S26, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', D, '--pwd', D, '-B', D, '--home', D, '-C', '/img', '/bin/true'];
    expect(out(run(argv, { family: 'singularity2', version: '2.6.1', scratch: D }))).toEqual([S26, '-s', 'exec', '-W', D, '--pwd', D, '-B', D, '--home', D, '-C', '/img', '/bin/true']);
  });

  it('without -C / --contain the -S flags stay (2.6 shares /tmp then; nothing private to rely on)', () => {
    const argv = [S26, 'exec', '-S', '/tmp', '/img', '/bin/true'];
    expect(out(run(argv, { family: 'singularity2', version: '2.6.1' }))).toEqual(argv);
  });

  it('a comma form keeps what is not /tmp', () => {
    const argv = [S26, 'exec', '-S', '/tmp,/scratchdir', '-C', '/img', '/bin/true'];
    expect(out(run(argv, { family: 'singularity2', version: '2.6.1' }))).toEqual([S26, 'exec', '-S', '/scratchdir', '-C', '/img', '/bin/true']);
  });

  it('the same 24 line on 3.4.2: unchanged, no change recorded', () => {
    const argv = observed('container-singularity-3.4.2.wrapper.argv.nul', S34);
    const d = run(argv, { family: 'singularity3', version: '3.4.2', scratch: V24 });
    expect(out(d)).toEqual(argv);
    expect(d.changes).toEqual([]);
  });

  it('--writable-tmpfs (the apptainer-srv job) on 2.6.1: dropped with a warning', () => {
    const argv = observed('container-apptainer-srv.wrapper.argv.nul', S26);
    const d = run(argv, { family: 'singularity2', version: '2.6.1' });
    expect(out(d)).not.toContain('--writable-tmpfs');
    expect(d.warnings).toContain('dropped runtime flag --writable-tmpfs: Singularity 2.6.1 has no --writable-tmpfs');
  });
});

describe('HTCondor 25.13.2 lines', () => {
  it('25 line on 3.4.2: unchanged', () => {
    const argv = observed('v25-container-singularity-3.4.2.wrapper.argv.nul', S34);
    expect(out(run(argv, { family: 'singularity3', version: '3.4.2', scratch: `${V25}/scratch` }))).toEqual(argv);
  });

  it('25 launcher line on 2.6.1: the slot-dir bind above the scratch moves to /srv', () => {
    const argv = observed('v25-container-apptainer-launcher.wrapper.argv.nul', S26);
    const d = run(argv, { family: 'singularity2', version: '2.6.1', scratch: `${V25L}/scratch` });
    expect(out(d)).toEqual([
      S26, '-s', 'exec', '-B', '/opt/htcondor/libexec/condor_container_launcher.sh:/condor_container_launcher.sh',
      '-W', `${V25L}/scratch`, '--pwd', '/srv/scratch', '-B', `${V25L}:/srv`, '--home', `${V25L}/scratch:/srv/scratch`, '-C',
      '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest', '/condor_container_launcher.sh', '/bin/echo', 'launcher',
    ]);
  });

  const gpuLine = (rt: string): string[] => {
    const argv = observed('v25-container-singularity-3.4.2.wrapper.argv.nul', rt);
    const at = argv.indexOf('-C');
    return [...argv.slice(0, at), '--nv', '--rocm', ...argv.slice(at)];
  };

  it.each([
    ['3.4.2', 'singularity3' as const, S34, 'Singularity 3.4.2 has no --rocm (added in 3.5)'],
    ['2.6.1', 'singularity2' as const, S26, 'Singularity 2.6.1 has no --rocm'],
  ])('25 GPU slot (--nv --rocm) on %s: --rocm dropped with a warning, --nv kept once', (version, family, rt, why) => {
    const d = run(gpuLine(rt), { family, version, machineAd: 'AssignedGPUs = "CUDA0"\n', scratch: `${V25}/scratch` });
    const argv = out(d);
    expect(argv).not.toContain('--rocm');
    expect(argv.filter((a) => a === '--nv')).toHaveLength(1);
    expect(d.warnings).toContain(`dropped runtime flag --rocm: ${why}`);
    expect(d.changes.find((c) => c.what === 'dropped --rocm')?.reason).toContain('HTCondor 25 adds it after --nv on GPU slots');
  });

  it('25 GPU line on Apptainer: untouched', () => {
    const argv = gpuLine('/usr/bin/apptainer');
    expect(out(run(argv, { family: 'apptainer', version: '1.3.6', machineAd: 'AssignedGPUs = "CUDA0"\n' }))).toEqual(argv);
  });
});

describe('flags that carry policy are refused, not dropped', () => {
  it.each([
    ['--no-eval on 3.4.2', 'singularity3' as const, '3.4.2', ['--no-eval'], /Singularity 3\.4\.2 has no --no-eval \(added in 3\.10\)/],
    ['--env on 3.4.2', 'singularity3' as const, '3.4.2', ['--env', 'A=1'], /has no --env \(added in 3\.6\)/],
    ['--mount on 3.4.2', 'singularity3' as const, '3.4.2', ['--mount', 'type=bind,src=/a,dst=/b'], /has no --mount/],
  ])('%s', (_n, family, version, flags, msg) => {
    const e = thrown(() => run([S34, 'exec', ...flags, '/img', '/bin/true'], { family, version }));
    expect(e.id).toBe('runtime.unsupported-flag');
    expect(e.code).toBe(78);
    expect(e.line).toMatch(msg);
  });
});

describe('Singularity 2.6 spellings', () => {
  it('a pflag spelling (--bind=, cluster) is respelled for 2.6\'s shell parser', () => {
    const d = run([S26, 'exec', '--bind=/a', '-ci', '/img', '/bin/true'], { family: 'singularity2', version: '2.6.1' });
    expect(out(d)).toEqual([S26, 'exec', '--bind', '/a', '-c', '-i', '/img', '/bin/true']);
  });

  it('--rocm under the name singularity parses for 2.6 (3.x table) and is then dropped', () => {
    const inv = parseForRuntime([S26, 'exec', '--rocm', '/img'], 'singularity2');
    expect(inv.family).toBe('singularity2');
    const f = facts({ family: 'singularity2', version: '2.6.1' });
    expect(out(applyCompat(initialDraft({ dispatch: 'starter-built', command: [], invocation: inv }, f), f))).toEqual([S26, 'exec', '/img']);
  });
});

describe('helpers', () => {
  it.each([
    ['3.4.2', '3.5', -1],
    ['3.10', '3.9', 1],
    ['3.5', '3.5.0', 0],
    ['1.3.6', '1.3', 1],
  ])('compareVersions(%s, %s) sign %d', (a, b, sign) => { expect(Math.sign(compareVersions(a, b))).toBe(sign); });

  it.each([
    [{ family: 'singularity3' as const }, '--rocm', undefined],
    [{ family: 'singularity3' as const, version: '3.4.2' }, '--rocm', 'Singularity 3.4.2 has no --rocm (added in 3.5)'],
    [{ family: 'singularity3' as const, version: '3.5.0' }, '--rocm', undefined],
    [{ family: 'apptainer' as const, version: '1.0.0' }, '--no-eval', undefined],
    [{ family: 'singularity2' as const, version: '2.6.1' }, '--nv', undefined],
    [{ family: 'singularity2' as const }, '--rocm', 'Singularity 2.6 has no --rocm'],
  ])('missingFlagReason(%j, %s)', (rt, flag, want) => { expect(missingFlagReason(rt, flag)).toBe(want); });

  it('lineNeedsVersion: never for Apptainer; for -C/-S/--rocm lines under the shared name singularity', () => {
    expect(lineNeedsVersion(parseForRuntime(['/usr/bin/apptainer', 'exec', '-C', '/i'], 'apptainer'), '--nv')).toBe(false);
    expect(lineNeedsVersion(parseForRuntime([S34, 'exec', '-C', '/i'], 'singularity3'), '--nv')).toBe(true);
    expect(lineNeedsVersion(parseForRuntime([S34, 'exec', '-B', '/a', '/i'], 'singularity3'), '--nv')).toBe(false);
    expect(lineNeedsVersion(parseForRuntime([S34, 'exec', '-B', '/a', '/i'], 'singularity3'), '--rocm')).toBe(true);
  });
});
