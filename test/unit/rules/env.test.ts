// Table tests for the environment rule (SPEC S5.4): runtime behaviour variables, CJW_ENV_DROP,
// HOME/PATH, scratch paths by whole components through the real bind, CJW_ENV_SET last, and
// hostile names and values.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { applyEnv, dropEntry, isRuntimeBehaviourVar, retargetValue } from '../../../src/decide/rules/env';
import { RULES } from '../../../src/decide/rules/index';
import { parseConfig } from '../../../src/facts/config/load';
import type { Facts, HookContribution } from '../../../src/facts/types';
import type { FamilyId } from '../../../src/invocation/flagTable';
import { tableFor } from '../../../src/invocation/families/index';
import { render } from '../../../src/invocation/model';
import { parseInvocation } from '../../../src/invocation/parse';

const ROOT = join(__dirname, '../../..');
const SCRATCH = '/x/dir_1';

function facts(env: Record<string, string>, cfg = '', contributions: HookContribution[] = []): Facts {
  return {
    env: new Map(Object.entries(env)),
    config: parseConfig(cfg === '' ? [] : [{ path: '/etc/condor-job-wrapper/wrapper.env', text: cfg }]),
    cwd: SCRATCH,
    paths: new Map(),
    hooks: [],
    contributions,
  };
}

/** HTCondor 24's line with a target dir (observed container-singularity-3.4.2). */
function line24(family: FamilyId = 'singularity3', extra: string[] = []): string[] {
  const rt = family === 'apptainer' ? '/usr/bin/apptainer' : '/opt/singularity-3.4.2/bin/singularity';
  return [rt, '-s', 'exec', '-W', SCRATCH, '--pwd', '/srv', '-B', `${SCRATCH}:/srv`, '--home', SCRATCH, ...extra, '-C', '/img/busybox.sif', '/bin/env'];
}

function run(argv: string[], f: Facts, family: FamilyId = 'singularity3'): Draft {
  const invocation = parseInvocation(argv, tableFor(family));
  return applyEnv(initialDraft({ dispatch: 'starter-built', invocation, command: argv }, f), f);
}

const get = (d: Draft, k: string): string | undefined => d.env.get(k);
const reasons = (d: Draft): string[] => d.changes.map((c) => `${c.what} | ${c.reason}`);

describe('env rule: registration', () => {
  it('runs after compat and binds, before the hooks and the launcher', () => {
    const names = RULES.map((r) => r.name);
    expect(names.indexOf('env')).toBeGreaterThan(names.indexOf('compat'));
    expect(names.indexOf('env')).toBeGreaterThan(names.indexOf('binds'));
    expect(names.indexOf('env')).toBeLessThan(names.indexOf('launcher'));
  });

  it('leaves an uncontained draft alone', () => {
    const f = facts({ LD_PRELOAD: '/x.so' });
    const d = initialDraft({ dispatch: 'wrapper-built', command: ['/bin/true'] }, f);
    expect(applyEnv(d, f)).toBe(d);
  });
});

describe('runtime behaviour variables', () => {
  it.each([
    ['SINGULARITY_BINDPATH', true],
    ['APPTAINER_BINDPATH', true],
    ['SINGULARITY_BIND', true],
    ['APPTAINER_CONTAINALL', true],
    ['SINGULARITY_NO_HOME', true],
    ['APPTAINER_OVERLAY', true],
    ['SINGULARITY_CACHEDIR', false],
    ['APPTAINER_TMPDIR', false],
    ['SINGULARITY_DOCKER_PASSWORD', false],
    ['SINGULARITYENV_FOO', false],
    ['APPTAINERENV_APPTAINER_BINDPATH', false],
    ['MY_SINGULARITY_BINDPATH', false],
    ['SINGULARITY_', true],
    ['SINGULARITY_CACHEDIR\n', true],
  ])('%j is a behaviour variable: %s', (name, expected) => {
    expect(isRuntimeBehaviourVar(name)).toBe(expected);
  });

  it('removes the pilot\'s binds and containment knobs from the runtime\'s environment, and their copies', () => {
    const d = run(line24(), facts({
      SINGULARITY_BINDPATH: '/etc', APPTAINER_BINDPATH: '/root', SINGULARITY_CONTAINALL: 'false', SINGULARITY_CACHEDIR: SCRATCH,
      SINGULARITYENV_SINGULARITY_BINDPATH: '/etc',
    }));
    expect(get(d, 'SINGULARITY_BINDPATH')).toBeUndefined();
    expect(get(d, 'APPTAINER_BINDPATH')).toBeUndefined();
    expect(get(d, 'SINGULARITY_CONTAINALL')).toBeUndefined();
    expect(get(d, 'SINGULARITY_CACHEDIR')).toBe(SCRATCH);
    expect(get(d, 'SINGULARITYENV_SINGULARITY_BINDPATH')).toBeUndefined();
    expect(reasons(d)).toContain(
      'removed SINGULARITY_BINDPATH, APPTAINER_BINDPATH, SINGULARITY_CONTAINALL from the runtime\'s environment | the runtime reads these like flags (binds, containment, home, overlays); they came from the job\'s environment, which must not change the site\'s line behind its back',
    );
  });

  // Issue 16, item 13: a copy is the plain variable inside, where a nested run reads it.
  it.each([
    ['APPTAINERENV_APPTAINER_BINDPATH', 'apptainer'],
    ['APPTAINERENV_SINGULARITY_BIND', 'apptainer'],
    ['SINGULARITYENV_APPTAINER_BIND', 'apptainer'],
    ['SINGULARITYENV_SINGULARITY_BINDPATH', 'singularity3'],
    ['APPTAINERENV_APPTAINER_CONTAINALL', 'apptainer'],
    ['SINGULARITYENV_SINGULARITY_NO_HOME', 'singularity2'],
  ] as const)('drops the copy %s (%s), keeps the cache and tmp copies', (name, family) => {
    const argv = line24(family === 'apptainer' ? 'apptainer' : 'singularity3');
    const d = run(argv, facts({ [name]: '/etc', APPTAINERENV_APPTAINER_CACHEDIR: SCRATCH, SINGULARITYENV_SINGULARITY_TMPDIR: SCRATCH }), family);
    expect(get(d, name)).toBeUndefined();
    expect(get(d, 'APPTAINERENV_APPTAINER_CACHEDIR')).toBe(SCRATCH);
    expect(get(d, 'SINGULARITYENV_SINGULARITY_TMPDIR')).toBe(SCRATCH);
    expect(reasons(d)).toContain(`removed ${name} | copies of the runtime's behaviour variables: the runtime passes each inside as the plain variable (binds, containment, home, overlays), where it would steer a nested run behind the site's back`);
  });
});

describe('CJW_ENV_DROP', () => {
  it.each([
    [['LD_PRELOAD'], 'LD_PRELOAD', 'LD_PRELOAD'],
    [['LD_PRELOAD'], 'LD_PRELOAD_X', undefined],
    [['MY_PILOT_*'], 'MY_PILOT_TOKEN', 'MY_PILOT_*'],
    [['MY_PILOT_*'], 'MY_PILOT', undefined],
    [['*'], 'ANYTHING', '*'],
    [[], 'LD_PRELOAD', undefined],
  ])('%j matches %j: %s', (patterns, name, expected) => {
    expect(dropEntry(patterns, name)).toBe(expected);
  });

  it('drops the default list and every copy of it, with its reason', () => {
    const d = run(line24(), facts({
      LD_PRELOAD: '/evil.so', SINGULARITYENV_LD_PRELOAD: '/evil.so', APPTAINERENV_LD_LIBRARY_PATH: '/lib', PYTHONPATH: '/p', KEEP: '1', SINGULARITYENV_KEEP: '1',
    }));
    expect([...d.env.keys()].sort()).toEqual(['KEEP', 'SINGULARITYENV_KEEP']);
    expect(reasons(d)).toContain('dropped LD_PRELOAD and its SINGULARITYENV_ copies | CJW_ENV_DROP entry LD_PRELOAD (default): never passed into the container');
  });

  it('takes a site list with prefixes, and never drops GPU visibility', () => {
    const cfg = 'CJW_ENV_DROP=MY_PILOT_*,CUDA_*,_CONDOR_Assigned*\n';
    const d = run(line24(), facts({
      MY_PILOT_TOKEN: 's', SINGULARITYENV_MY_PILOT_TOKEN: 's', LD_PRELOAD: '/kept-now.so',
      CUDA_VISIBLE_DEVICES: '0', SINGULARITYENV_CUDA_VISIBLE_DEVICES: '0', CUDA_CACHE: '/c', _CONDOR_AssignedGPUs: 'GPU-1',
    }, cfg));
    expect(get(d, 'MY_PILOT_TOKEN')).toBeUndefined();
    expect(get(d, 'SINGULARITYENV_MY_PILOT_TOKEN')).toBeUndefined();
    expect(get(d, 'LD_PRELOAD')).toBe('/kept-now.so'); // the site's list replaces the default
    expect(get(d, 'CUDA_CACHE')).toBeUndefined();
    expect(get(d, 'SINGULARITYENV_CUDA_VISIBLE_DEVICES')).toBe('0');
    expect(get(d, '_CONDOR_AssignedGPUs')).toBe('GPU-1');
    expect(reasons(d)).toContain('dropped MY_PILOT_TOKEN and its SINGULARITYENV_ copies | CJW_ENV_DROP entry MY_PILOT_* (a prefix) (/etc/condor-job-wrapper/wrapper.env): never passed into the container');
    expect(reasons(d)).toContain('kept CUDA_VISIBLE_DEVICES, _CONDOR_AssignedGPUs | GPU visibility variables are the slot\'s assignment and are never dropped, even when CJW_ENV_DROP matches them');
  });
});

describe('HOME and PATH', () => {
  it('rewrites --home SCRATCH to --home SCRATCH:INSIDE through the bind that carries it (HTCondor 24 and 25)', () => {
    const d24 = run(line24(), facts({}));
    expect(render(d24.invocation ?? fail())).toContain(`${SCRATCH}:/srv`);
    expect(render(d24.invocation ?? fail()).join(' ')).toContain(`--home ${SCRATCH}:/srv -C`);
    expect(reasons(d24)).toContain(`--home ${SCRATCH} → --home ${SCRATCH}:/srv | HOME inside must be the scratch dir as the job sees it (/srv); the runtimes refuse a HOME variable, so --home carries it`);
    // HTCondor 25: the slot dir is bound, the scratch is below it.
    const s25 = `${SCRATCH}/scratch`;
    const v25 = ['/opt/singularity-3.4.2/bin/singularity', '-s', 'exec', '-W', s25, '--pwd', '/srv/scratch', '-B', `${SCRATCH}:/srv`, '--home', s25, '-C', '/img', '/bin/env'];
    const d25 = run(v25, facts({ _CONDOR_SCRATCH_DIR: s25 }));
    expect(render(d25.invocation ?? fail()).join(' ')).toContain(`--home ${s25}:/srv/scratch -C`);
  });

  it('leaves --home alone when the scratch is bound at its own path, or already has a destination', () => {
    const same = ['/s', 'exec', '-B', SCRATCH, '--home', SCRATCH, '-C', '/img', '/bin/env'];
    expect(run(same, facts({})).changes).toEqual([]);
    const given = ['/s', 'exec', '-B', `${SCRATCH}:/srv`, '--home', `${SCRATCH}:/home/job`, '-C', '/img', '/bin/env'];
    expect(render(run(given, facts({})).invocation ?? fail())).toEqual(given);
  });

  // Issue 16, item 13: starters before 23.10 pass --no-home; HOME inside was then the owner's host home.
  it.each([
    // [line, family, expected --home, HOME inside]
    [['/usr/bin/apptainer', '-s', 'exec', '-W', SCRATCH, '--pwd', '/srv', '-B', `${SCRATCH}:/srv`, '--no-home', '-C', '/img', '/bin/env'], 'apptainer', `--home ${SCRATCH}:/srv`, '/srv'],
    [['/opt/singularity-3.4.2/bin/singularity', '-s', 'exec', '-W', SCRATCH, '--pwd', SCRATCH, '-B', SCRATCH, '--no-home', '--contain', '--ipc', '--cleanenv', '/img', '/bin/env'], 'singularity3', `--home ${SCRATCH}`, SCRATCH],
    [['/opt/singularity-2.6.1/bin/singularity', '-s', 'exec', '-W', SCRATCH, '--pwd', '/srv', '-B', `${SCRATCH}:/srv`, '--no-home', '-C', '/img', '/bin/env'], 'singularity2', `--home ${SCRATCH}:/srv`, '/srv'],
  ] as const)('--no-home becomes --home SCRATCH[:INSIDE] (%#, %s)', (argv, family, home, inside) => {
    const d = run([...argv], facts({ _CONDOR_SCRATCH_DIR: SCRATCH }), family);
    const out = render(d.invocation ?? fail()).join(' ');
    expect(out).toContain(`${home} -`);
    expect(out).not.toContain('--no-home');
    expect(reasons(d)).toContain(`--no-home → ${home} | with --no-home the runtime sets HOME to the job owner's host home, which does not exist inside; HOME inside must be the scratch dir as the job sees it (${inside}), and the runtimes refuse a HOME variable, so --home carries it`);
  });

  it('leaves --no-home alone when no bind carries the scratch dir (no starter builds that line)', () => {
    const argv = ['/usr/bin/apptainer', 'exec', '--no-home', '-C', '/img', '/bin/env'];
    const d = run(argv, facts({ _CONDOR_SCRATCH_DIR: SCRATCH }), 'apptainer');
    expect(render(d.invocation ?? fail())).toEqual(argv);
  });

  it('removes HOME and PATH copies of every family', () => {
    const d = run(line24(), facts({ SINGULARITYENV_HOME: '/home/x', APPTAINERENV_PATH: '/evil/bin', SINGULARITYENV_PATH: '/evil/bin', SINGULARITYENV_PREPEND_PATH: '/e', SINGULARITYENV_APPEND_PATH: '/e', PATH: '/host/bin' }));
    expect([...d.env.keys()].sort()).toEqual(['PATH']); // the runtime's own PATH is the host's
    expect(reasons(d)).toContain('removed SINGULARITYENV_HOME | the runtimes refuse to set HOME from the environment; HOME inside is the --home destination');
    expect(reasons(d)).toContain('removed SINGULARITYENV_PATH | PATH inside is reset to the standard system PATH (the runtime\'s default, plus what the image itself sets): the host\'s or the job\'s PATH does not fit the image');
  });
});

describe('scratch paths by whole components', () => {
  it.each([
    ['/x/dir_1', '/srv'],
    ['/x/dir_1/', '/srv'],
    ['/x/dir_1/.job.ad', '/srv/.job.ad'],
    ['//x//dir_1//a', '/srv/a'],
    ['/x/dir_10/a', '/x/dir_10/a'],
    ['/x/dir_1x', '/x/dir_1x'],
    ['/x/dir_1/../dir_10/a', '/x/dir_1/../dir_10/a'],
    ['/x/dir_1/a:/usr/lib:/x/dir_10', '/srv/a:/usr/lib:/x/dir_10'],
    ['relative/x/dir_1', 'relative/x/dir_1'],
    ['not a path', 'not a path'],
    ['', ''],
    ['/x/dir_1/a\nb', '/srv/a\nb'],
  ])('%j → %j', (value, expected) => {
    expect(retargetValue(value, { src: '/x/dir_1', dst: '/srv', opts: '' })).toBe(expected);
  });

  it('recomputes HTCondor\'s substring-replaced copies from the plain variables, adds missing ones', () => {
    const d = run(line24(), facts({
      _CONDOR_SCRATCH_DIR: SCRATCH, SINGULARITYENV__CONDOR_SCRATCH_DIR: '/srv',
      OTHER_JOB: '/x/dir_10/in', SINGULARITYENV_OTHER_JOB: '/srv0/in',
      X509_USER_PROXY: `${SCRATCH}/x509up`,
      _CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER: SCRATCH, SINGULARITYENV__CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER: SCRATCH,
      CUDA_VISIBLE_DEVICES: '10000', SINGULARITYENV_CUDA_VISIBLE_DEVICES: '10000',
    }));
    expect(get(d, 'SINGULARITYENV__CONDOR_SCRATCH_DIR')).toBe('/srv');
    expect(get(d, 'SINGULARITYENV_OTHER_JOB')).toBe('/x/dir_10/in');
    expect(get(d, 'SINGULARITYENV_X509_USER_PROXY')).toBe('/srv/x509up');
    expect(get(d, 'SINGULARITYENV__CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER')).toBe(SCRATCH);
    expect(get(d, 'X509_USER_PROXY')).toBe(`${SCRATCH}/x509up`); // the runtime's own env keeps host paths
    expect(reasons(d)).toContain(`SINGULARITYENV_OTHER_JOB="/x/dir_10/in" | recomputed from OTHER_JOB by whole path components through the bind ${SCRATCH}:/srv; the starter's copy ("/srv0/in") used a substring replace or none`);
    expect(reasons(d)).toContain(`SINGULARITYENV_X509_USER_PROXY="/srv/x509up" | X509_USER_PROXY points into the scratch dir, which is /srv inside (bind ${SCRATCH}); the runtime passes SINGULARITYENV_X509_USER_PROXY inside as X509_USER_PROXY`);
  });

  it('changes nothing in what HTCondor 25 really gave the wrapper except --home (observed v25-container-singularity-3.4.2)', () => {
    const env = Object.fromEntries(
      readFileSync(join(ROOT, 'test/fixtures/observed/v25-container-singularity-3.4.2.wrapper.env.txt'), 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const argv = readFileSync(join(ROOT, 'test/fixtures/observed/v25-container-singularity-3.4.2.wrapper.argv.nul'), 'utf8').split('\0').filter((a) => a !== '');
    const d = run(argv, facts(env));
    expect(d.changes.map((c) => c.what)).toEqual([expect.stringMatching(/^--home \S+\/scratch → --home \S+\/scratch:\/srv\/scratch$/)]);
    expect(d.env).toEqual(new Map(Object.entries(env)));
  });
});

describe('CJW_ENV_SET and hook environment', () => {
  it('applies setup-hook variables, then CJW_ENV_SET last (over a dropped or retargeted variable)', () => {
    const cfg = 'CJW_ENV_SET="OSG_SITE=Mine,LD_PRELOAD=/site.so,X509_USER_PROXY=/site/proxy"\n';
    const hook: HookContribution = { hook: '10-site', binds: [], env: new Map([['OSG_SITE', 'FromHook'], ['HOOK_ONLY', 'h']]) };
    const d = run(line24(), facts({ LD_PRELOAD: '/job.so', X509_USER_PROXY: `${SCRATCH}/p` }, cfg, [hook]));
    expect(get(d, 'SINGULARITYENV_OSG_SITE')).toBe('Mine');
    expect(get(d, 'SINGULARITYENV_HOOK_ONLY')).toBe('h');
    expect(get(d, 'SINGULARITYENV_LD_PRELOAD')).toBe('/site.so');
    expect(get(d, 'LD_PRELOAD')).toBeUndefined();
    expect(get(d, 'SINGULARITYENV_X509_USER_PROXY')).toBe('/site/proxy');
    expect(reasons(d)).toContain('SINGULARITYENV_OSG_SITE="Mine" | CJW_ENV_SET (/etc/condor-job-wrapper/wrapper.env), applied last');
    expect(reasons(d)).toContain('SINGULARITYENV_HOOK_ONLY="h" | inside environment from setup hook 10-site');
  });

  it('applies CJW_ENV_DROP to setup-hook variables too (GPU visibility excepted)', () => {
    const cfg = 'CJW_ENV_DROP="LD_PRELOAD,BAD_*,CUDA_VISIBLE_DEVICES"\n';
    const hook: HookContribution = { hook: '20-evil', binds: [], env: new Map([['LD_PRELOAD', '/tmp/evil.so'], ['BAD_X', '1'], ['GOOD', 'g'], ['CUDA_VISIBLE_DEVICES', '0']]) };
    const d = run(line24(), facts({}, cfg, [hook]));
    expect(get(d, 'SINGULARITYENV_LD_PRELOAD')).toBeUndefined();
    expect(get(d, 'SINGULARITYENV_BAD_X')).toBeUndefined();
    expect(get(d, 'SINGULARITYENV_GOOD')).toBe('g');
    expect(get(d, 'SINGULARITYENV_CUDA_VISIBLE_DEVICES')).toBe('0');
    expect(reasons(d)).toContain('dropped LD_PRELOAD from setup hook 20-evil | CJW_ENV_DROP entry LD_PRELOAD (/etc/condor-job-wrapper/wrapper.env) applies to hook output too');
    expect(reasons(d)).toContain('dropped BAD_X from setup hook 20-evil | CJW_ENV_DROP entry BAD_* (/etc/condor-job-wrapper/wrapper.env) applies to hook output too');
  });

  it('routes HOME (always) and PATH (Singularity 2.6 under -C) through the inside launcher', () => {
    const cfg = 'CJW_ENV_SET="HOME=/srv/home,PATH=/opt/site/bin:/usr/bin:/bin"\n';
    const d3 = run(line24(), facts({}, cfg));
    expect(d3.insideEnv).toEqual(new Map([['HOME', '/srv/home']]));
    expect(get(d3, 'SINGULARITYENV_PATH')).toBe('/opt/site/bin:/usr/bin:/bin');
    const l2 = ['/opt/singularity-2.6.1/bin/singularity', 'exec', '-B', `${SCRATCH}:/srv`, '--home', SCRATCH, '-C', '/img', '/bin/env'];
    const d2 = run(l2, facts({}, cfg), 'singularity2');
    expect(d2.insideEnv).toEqual(new Map([['HOME', '/srv/home'], ['PATH', '/opt/site/bin:/usr/bin:/bin']]));
    expect(get(d2, 'SINGULARITYENV_PATH')).toBeUndefined();
    expect(reasons(d2)).toContain('PATH="/opt/site/bin:/usr/bin:/bin" inside (set by the inside launcher) | CJW_ENV_SET (/etc/condor-job-wrapper/wrapper.env), applied last; the runtime would not pass PATH from a copy');
  });

  it('writes APPTAINERENV_ for Apptainer and keeps an existing SINGULARITYENV_ copy in step', () => {
    const d = run(line24('apptainer'), facts({ X509_USER_PROXY: `${SCRATCH}/p`, SINGULARITYENV_X509_USER_PROXY: '/srvx/p', JOB: '1' }, 'CJW_ENV_SET=JOB=2\n'), 'apptainer');
    expect(get(d, 'APPTAINERENV_X509_USER_PROXY')).toBe('/srv/p');
    expect(get(d, 'SINGULARITYENV_X509_USER_PROXY')).toBe('/srv/p');
    expect(get(d, 'APPTAINERENV_JOB')).toBe('2');
    expect(get(d, 'SINGULARITYENV_JOB')).toBeUndefined();
  });

  it('writes SINGULARITYENV_ for Singularity, leaving inert APPTAINERENV_ copies as they are', () => {
    const d = run(line24(), facts({ X509_USER_PROXY: `${SCRATCH}/p`, APPTAINERENV_X509_USER_PROXY: '/srvx/p' }));
    expect(get(d, 'SINGULARITYENV_X509_USER_PROXY')).toBe('/srv/p');
    expect(get(d, 'APPTAINERENV_X509_USER_PROXY')).toBe('/srvx/p');
  });
});

describe('hostile names and values', () => {
  it('removes copies whose inside name is not a variable name', () => {
    const d = run(line24(), facts({ 'SINGULARITYENV_A\nB': 'x', 'SINGULARITYENV_A B': 'x', 'SINGULARITYENV_1A': 'x', SINGULARITYENV_: 'x', SINGULARITYENV_OK_1: 'x' }));
    expect([...d.env.keys()]).toEqual(['SINGULARITYENV_OK_1']);
    expect(reasons(d)).toContain('removed "SINGULARITYENV_A\\nB", "SINGULARITYENV_A B", SINGULARITYENV_1A, SINGULARITYENV_ | not a valid variable name inside ([A-Za-z_][A-Za-z0-9_]*): Singularity 2.6 handles the copies in shell code');
  });

  it('a plain name with a newline is neither dropped as LD_PRELOAD nor copied', () => {
    const d = run(line24(), facts({ 'LD_PRELOAD\n': `${SCRATCH}/x.so` }));
    expect(get(d, 'LD_PRELOAD\n')).toBe(`${SCRATCH}/x.so`);
    expect([...d.env.keys()]).toEqual(['LD_PRELOAD\n']);
  });

  it('handles 100 KB values and 2000 variables in linear time, shortening them in --explain only', () => {
    const big = `${SCRATCH}/${'a'.repeat(100 * 1024)}`;
    const env: Record<string, string> = { BIG: big, SINGULARITYENV_BIG: big };
    for (let i = 0; i < 2000; i++) env[`V${i}`] = `/x/dir_1/${i}:/x/dir_10/${i}`;
    const t0 = Date.now();
    const d = run(line24(), facts(env));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(get(d, 'SINGULARITYENV_BIG')).toBe(`/srv/${'a'.repeat(100 * 1024)}`);
    expect(get(d, 'SINGULARITYENV_V1999')).toBe('/srv/1999:/x/dir_10/1999');
    const bigChange = d.changes.find((c) => c.what.startsWith('SINGULARITYENV_BIG='));
    expect(bigChange?.what.length).toBeLessThan(200);
    expect(bigChange?.what).toContain(`(${big.length - SCRATCH.length + 4} characters)`);
  });
});

function fail(): never {
  throw new Error('expected an invocation');
}
