// Table tests for wrapper-built mode (SPEC S2, S4): the line HTCondor 24 would build, for
// HTCondor 24 and 25 scratch layouts, image selection, scratch checks, and the rule's plan fragment.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyRules, initialDraft } from '../../../src/decide/decide';
import { negotiateRule } from '../../../src/decide/rules/negotiate';
import { buildLine, checkedScratch, chooseImage, envCopyPrefix, starterEnv, wrapperBuiltRule } from '../../../src/decide/rules/wrapperBuilt';
import { parseClassAd } from '../../../src/facts/classad';
import { parseConfig } from '../../../src/facts/config/load';
import type { FamilyId } from '../../../src/invocation/flagTable';
import type { Facts, RuntimeFact, ScratchFact } from '../../../src/facts/types';
import { render } from '../../../src/invocation/model';
import { thrown } from './thrown';

const ROOT = join(__dirname, '../../..');

function config(text: string) {
  return parseConfig(text === '' ? [] : [{ path: '/etc/condor-job-wrapper/wrapper.env', text }]);
}

const line = (scratch: string, pwd: string, image: string, payload: string[], pre: string[] = [], target = '/srv'): string[] => [
  '/usr/bin/apptainer', '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', ...pre, '-W', scratch, '--pwd', pwd,
  '-B', `${scratch}:${target}`, '--home', `${scratch}:${target}`, '-C', image, ...payload,
];

describe('buildLine: the line HTCondor 24 builds with a target dir', () => {
  const V24 = '/x/dir_1';
  const V25 = '/x/dir_1/scratch';
  it.each([
    ['HTCondor 24 scratch, transferred executable', V24, V24, [`${V24}/echo`, 'hello', 'two words'], line(V24, '/srv', '/img', ['/srv/echo', 'hello', 'two words'])],
    ['HTCondor 25 nested scratch, transferred executable', V25, V25, [`${V25}/echo`, 'a'], line(V25, '/srv', '/img', ['/srv/echo', 'a'])],
    ['HTCondor 24, system executable stays', V24, V24, ['/bin/echo', ''], line(V24, '/srv', '/img', ['/bin/echo', ''])],
    ['HTCondor 25, a file of the slot dir above the scratch is not in the scratch', V25, V25, ['/x/dir_1/user/tool'], line(V25, '/srv', '/img', ['/x/dir_1/user/tool'])],
    ['by whole components: dir_10 is not in dir_1', V24, V24, ['/x/dir_10/echo'], line(V24, '/srv', '/img', ['/x/dir_10/echo'])],
    ['doubled slashes are normalized', '/x//dir_1/', V24, ['/x/dir_1//sub/run.sh'], line(V24, '/srv', '/img', ['/srv/sub/run.sh'])],
    ['relative executable is left to the runtime (cwd is the target dir)', V24, V24, ['./run.sh', '-x'], line(V24, '/srv', '/img', ['./run.sh', '-x'])],
    ['shared filesystem: the working dir is bound as is and is the pwd', V24, '/home/u/job', ['/home/u/job/run.sh'], line(V24, '/home/u/job', '/img', ['/home/u/job/run.sh'], ['-B', '/home/u/job'])],
  ])('%s', (_name, scratch, cwd, command, want) => {
    expect(buildLine({ runtime: '/usr/bin/apptainer', scratch, target: '/srv', cwd, image: '/img', command }).argv).toEqual(want);
  });

  it('records the retarget and the binds it made', () => {
    const b = buildLine({ runtime: '/r/apptainer', scratch: '/x/dir_1', target: '/srv', cwd: '/x/dir_1', image: '/img', command: ['/x/dir_1/echo'] });
    expect(b.retargeted).toEqual({ from: '/x/dir_1/echo', to: '/srv/echo' });
    expect(b.binds).toEqual([{ src: '/x/dir_1', dst: '/srv', opts: '' }]);
    expect(b.sharedCwd).toBeUndefined();
  });

  it('a site target dir other than /srv', () => {
    const b = buildLine({ runtime: '/usr/bin/apptainer', scratch: '/x/dir_1', target: '/scratch/', cwd: '/x/dir_1', image: '/img', command: ['/x/dir_1/a'] });
    expect(b.argv).toEqual(line('/x/dir_1', '/scratch', '/img', ['/scratch/a'], [], '/scratch'));
  });

  it('payload arguments are opaque: flags, newlines, unicode pass byte for byte', () => {
    const args = ['-C', '--bind=/etc', 'a\nb', 'ünï', '', ' '];
    const b = buildLine({ runtime: '/usr/bin/apptainer', scratch: '/x/dir_1', target: '/srv', cwd: '/x/dir_1', image: '/img', command: ['/bin/echo', ...args] });
    expect(b.argv.slice(-args.length)).toEqual(args);
  });

  it.each([
    ['/x/a:b', 'scratch dir /x/a:b'],
    ['/x/a,b', 'scratch dir /x/a,b'],
  ])('a scratch %s cannot be a -B bind: 78', (scratch, what) => {
    const e = thrown(() => buildLine({ runtime: '/r', scratch, target: '/srv', cwd: scratch, image: '/img', command: ['/bin/true'] }));
    expect(e.code).toBe(78);
    expect(e.line).toBe(`condor-job-wrapper: node error: ${what}: contains "," or ":", which a -B bind cannot carry`);
  });

  it('matches what HTCondor 24.0.23 really built (observed container-apptainer-srv) up to the scratch bind', () => {
    const observed = readFileSync(join(ROOT, 'test/fixtures/observed/container-apptainer-srv.wrapper.argv.nul'), 'utf8').replace(/\0$/, '').split('\0');
    const scratch = observed[8] ?? '';
    const built = buildLine({ runtime: observed[0] ?? '', scratch, target: '/srv', cwd: scratch, image: '/img', command: ['/bin/echo'] }).argv;
    expect(built.slice(0, 13)).toEqual(observed.slice(0, 13));
    expect(observed.slice(0, 13)).toEqual([observed[0], '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', scratch, '--pwd', '/srv', '-B', `${scratch}:/srv`]);
  });
});

describe('chooseImage (S4): SingularityImage / ContainerImage -> REQUIRED_OS via CJW_IMAGES -> CJW_DEFAULT_IMAGE', () => {
  const cfg = config('CJW_IMAGES=rhel8=/cvmfs/el8,rhel9=/cvmfs/el9\nCJW_DEFAULT_IMAGE=/cvmfs/default');
  const ad = (t: string) => parseClassAd(t, '/x/.job.ad');
  it.each([
    ['SingularityImage', 'SingularityImage = "/cvmfs/mine"', '/cvmfs/mine', "the job's SingularityImage"],
    ['ContainerImage', 'ContainerImage = "/images/el9.sif"', '/images/el9.sif', "the job's ContainerImage"],
    ['both: SingularityImage wins', 'ContainerImage = "/b"\nSingularityImage = "/a"', '/a', "the job's SingularityImage"],
    ['an empty SingularityImage does not count', 'SingularityImage = ""\nContainerImage = "/b"', '/b', "the job's ContainerImage"],
    ['relative image: relative to the working dir', 'SingularityImage = "img.sif"', '/x/dir_1/img.sif', "the job's SingularityImage"],
    ['URI kept', 'SingularityImage = "docker://busybox"', 'docker://busybox', "the job's SingularityImage"],
    ['REQUIRED_OS', 'REQUIRED_OS = "rhel9"', '/cvmfs/el9', "the job's REQUIRED_OS rhel9 through CJW_IMAGES (/etc/condor-job-wrapper/wrapper.env)"],
    ['REQUIRED_OS list: first with an entry', 'REQUIRED_OS = "rhel7,RHEL8,rhel9"', '/cvmfs/el8', "the job's REQUIRED_OS RHEL8 through CJW_IMAGES (/etc/condor-job-wrapper/wrapper.env)"],
    ['DesiredOS', 'DesiredOS = "rhel8"', '/cvmfs/el8', "the job's DesiredOS rhel8 through CJW_IMAGES (/etc/condor-job-wrapper/wrapper.env)"],
    ['unknown OS: default', 'REQUIRED_OS = "sl6"', '/cvmfs/default', 'CJW_DEFAULT_IMAGE (/etc/condor-job-wrapper/wrapper.env)'],
    ['nothing: default', 'Owner = "u"', '/cvmfs/default', 'CJW_DEFAULT_IMAGE (/etc/condor-job-wrapper/wrapper.env)'],
  ])('%s', (_n, text, image, source) => {
    expect(chooseImage(ad(text), cfg, '/x/dir_1')).toEqual({ image, source });
  });

  it('no image anywhere: exit 65 image.none', () => {
    const e = thrown(() => chooseImage(undefined, config(''), '/x'));
    expect(e.id).toBe('image.none');
    expect(e.code).toBe(65);
  });

  it('an image starting with "-" would be read as a flag: 65', () => {
    const e = thrown(() => chooseImage(ad('SingularityImage = "--bind=/etc:/x"'), cfg, '/x'));
    expect(e.line).toBe('condor-job-wrapper: job error: job attribute SingularityImage: "--bind=/etc:/x" starts with "-", which the runtime would read as a flag');
  });

  it('a wrong type is the job\'s error', () => { expect(thrown(() => chooseImage(ad('SingularityImage = 3'), cfg, '/x')).code).toBe(65); });
});

describe('checkedScratch: the starter\'s _CONDOR_SCRATCH_DIR, absolute, an existing dir', () => {
  it.each([
    [undefined, 'condor-job-wrapper: node error: scratch dir _CONDOR_SCRATCH_DIR: not set: the wrapper was not started by an HTCondor starter (use --explain to try a job line by hand)'],
    [{ path: 'dir_1', kind: 'other' }, 'condor-job-wrapper: node error: scratch dir _CONDOR_SCRATCH_DIR=dir_1: not an absolute path'],
    [{ path: '/x/dir_1', kind: 'missing' }, 'condor-job-wrapper: node error: scratch dir _CONDOR_SCRATCH_DIR=/x/dir_1: not a directory (missing)'],
    [{ path: '/x/f', kind: 'file' }, 'condor-job-wrapper: node error: scratch dir _CONDOR_SCRATCH_DIR=/x/f: not a directory (file)'],
  ] as [ScratchFact | undefined, string][])('%j', (s, msg) => {
    const e = thrown(() => checkedScratch(s));
    expect(e.code).toBe(69);
    expect(e.line).toBe(msg);
  });
  it('ok', () => { expect(checkedScratch({ path: '/x/dir_1/', kind: 'dir' })).toBe('/x/dir_1'); });
});

describe('the wrapperBuilt rule: a normal Invocation in draft.invocation', () => {
  const rt = (family: FamilyId, path = '/usr/bin/apptainer'): RuntimeFact => ({ path, usable: true, family, source: 'basename' });
  function facts(cfg: string, o: { runtime?: RuntimeFact; jobAd?: string; scratch?: ScratchFact; cwd?: string } = {}): Facts {
    return {
      env: new Map([['PATH', '/usr/bin:/bin'], ['_CONDOR_SCRATCH_DIR', '/x/dir_1']]),
      config: config(cfg),
      cwd: o.cwd ?? '/x/dir_1',
      runtime: o.runtime ?? rt('apptainer'),
      ...(o.jobAd === undefined ? {} : { jobAd: parseClassAd(o.jobAd, '/x/dir_1/.job.ad') }),
      ...(o.scratch === undefined ? { scratch: { path: '/x/dir_1', kind: 'dir' as const } } : { scratch: o.scratch }),
      paths: new Map(),
      hooks: [],
      contributions: [],
    };
  }
  const decideWith = (f: Facts, command = ['/x/dir_1/echo', 'hi']) => applyRules(initialDraft({ dispatch: 'wrapper-built', command }, f), f, [negotiateRule, wrapperBuiltRule]);

  it('REQUIRED + image: the built line, the binds with origin wrapper, each change with its reason', () => {
    const f = facts('CJW_MODE=REQUIRED', { jobAd: 'SingularityImage = "/cvmfs/img"' });
    const d = decideWith(f);
    expect(d.uncontained).toBeUndefined();
    expect(d.invocation?.family).toBe('apptainer');
    expect(d.invocation?.image).toBe('/cvmfs/img');
    expect(d.invocation?.payload).toEqual(['/srv/echo', 'hi']);
    const argv = line('/x/dir_1', '/srv', '/cvmfs/img', ['/srv/echo', 'hi']);
    expect(d.invocation && render(d.invocation)).toEqual(argv);
    expect(d.binds).toEqual([{ src: '/x/dir_1', dst: '/srv', opts: '', origin: 'wrapper' }]);
    // The starter's copies (-C cleans the environment); refining them is the env rule's job.
    expect(Object.fromEntries(d.env)).toEqual({
      PATH: '/usr/bin:/bin', _CONDOR_SCRATCH_DIR: '/x/dir_1', _CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER: '/x/dir_1',
      APPTAINERENV_PATH: '/usr/bin:/bin', APPTAINERENV__CONDOR_SCRATCH_DIR: '/srv', APPTAINERENV__CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER: '/x/dir_1',
      APPTAINER_TMPDIR: '/x/dir_1', APPTAINERENV_APPTAINER_TMPDIR: '/x/dir_1',
    });
    expect(d.warnings).toEqual([]);
    expect(d.changes).toEqual([
      { rule: 'wrapperBuilt', what: `built the container line ${argv.join(' ')}`, reason: 'policy REQUIRED asks for a container; the line is the one HTCondor 24 builds (scratch /x/dir_1 at /srv, -C)' },
      { rule: 'wrapperBuilt', what: 'image /cvmfs/img', reason: "from the job's SingularityImage" },
      {
        rule: 'wrapperBuilt',
        what: 'environment: every variable also as APPTAINERENV_NAME, scratch paths as seen inside, HOME dropped, _CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER and APPTAINER_TMPDIR = /x/dir_1',
        reason: "-C cleans the environment; the runtime passes APPTAINERENV_NAME inside as NAME, which is how HTCondor's starter hands the job its environment",
      },
      { rule: 'wrapperBuilt', what: 'payload /x/dir_1/echo -> /srv/echo', reason: 'the executable lies in the scratch dir, which is /srv inside' },
    ]);
  });

  it.each([
    ['apptainer', '/usr/bin/apptainer'],
    ['singularity3', '/opt/singularity-3.4.2/bin/singularity'],
    ['singularity2', '/opt/singularity-2.6.1/bin/singularity'],
  ] as [FamilyId, string][])('parses with the %s table', (family, path) => {
    const f = facts('CJW_MODE=PREFERRED\nCJW_DEFAULT_IMAGE=/img', { runtime: rt(family, path) });
    const d = decideWith(f);
    expect(d.invocation?.family).toBe(family);
    expect(d.invocation?.runtime).toBe(path);
    expect(d.invocation?.flags.map((g) => g.flags[0]?.def.meaning)).toEqual(['scratch', 'scratch', 'workdir', 'pwd', 'bind', 'home', 'containall']);
  });

  it('shared filesystem: the working dir bind is recorded', () => {
    const f = facts('CJW_MODE=REQUIRED\nCJW_DEFAULT_IMAGE=/img', { cwd: '/home/u/job' });
    const d = decideWith(f, ['/home/u/job/run.sh']);
    expect(d.binds.map((b) => `${b.src}:${b.dst}:${b.origin}`)).toEqual(['/home/u/job:/home/u/job:wrapper', '/x/dir_1:/srv:wrapper']);
    expect(d.changes.at(-1)).toEqual({ rule: 'wrapperBuilt', what: 'bind /home/u/job (the job\'s working dir)', reason: 'it lies outside the scratch dir (no file transfer): HTCondor binds it at the same path and starts there' });
  });

  it('--explain without _CONDOR_SCRATCH_DIR: builds with the assumed scratch and says so', () => {
    const f = facts('CJW_MODE=REQUIRED\nCJW_DEFAULT_IMAGE=/img', { scratch: { path: '/x/dir_1', kind: 'dir', assumed: 'assumed the current directory' } });
    expect(decideWith(f).warnings).toEqual(['assumed the current directory']);
  });

  it.each([
    ['NEVER', 'CJW_MODE=NEVER\nCJW_DEFAULT_IMAGE=/img'],
    ['OPTIONAL without an image', 'CJW_DEFAULT_IMAGE=/img'],
    ['DISABLE', 'CJW_VO_MODE=DISABLE\nCJW_DEFAULT_IMAGE=/img'],
  ])('%s: no container, the job runs as given', (_n, cfg) => {
    const d = decideWith(facts(cfg));
    expect(d.invocation).toBeUndefined();
    expect(d.uncontained).toEqual(['/x/dir_1/echo', 'hi']);
  });

  it('no image: 65; no scratch: 69', () => {
    expect(thrown(() => decideWith(facts('CJW_MODE=REQUIRED'))).id).toBe('image.none');
    const noScratch: Facts = { ...facts('CJW_MODE=REQUIRED\nCJW_DEFAULT_IMAGE=/img') };
    const { scratch, ...rest } = noScratch;
    expect(scratch).toBeDefined();
    expect(thrown(() => decideWith(rest)).id).toBe('scratch.invalid');
  });

  it('starter-built drafts are left alone', () => {
    const f = facts('CJW_MODE=REQUIRED\nCJW_DEFAULT_IMAGE=/img');
    const d = initialDraft({ dispatch: 'starter-built', command: ['/x'] }, f);
    expect(wrapperBuiltRule.apply(d, f)).toBe(d);
  });
});

// What HTCondor really built (test/fixtures/observed, recorded from HTCondor 24.0.23 / 25.13.2).
const observed = (name: string): string[] => readFileSync(join(ROOT, 'test/fixtures/observed', name), 'utf8').replace(/\0$/, '').split('\0');
const envFile = (name: string): Map<string, string> =>
  new Map(readFileSync(join(ROOT, 'test/fixtures/observed', name), 'utf8').split('\n').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('the built line against the lines HTCondor really built', () => {
  it('real Singularity 3.4.2, HTCondor 24.0.23 (container-singularity-3.4.2): identical except --home SCRATCH:/srv', () => {
    const o = observed('container-singularity-3.4.2.wrapper.argv.nul');
    const scratch = o[8] ?? '';
    const imageAt = o.indexOf('-C') + 1;
    const built = buildLine({ runtime: o[0] ?? '', scratch, target: '/srv', cwd: scratch, image: o[imageAt] ?? '', command: o.slice(imageAt + 1) }).argv;
    // HTCondor passes --home SCRATCH (the outside path even with a target dir); the runtimes
    // then make HOME a path the job cannot see, so the wrapper names the inside path (S5.4).
    const want = o.map((a, i) => (o[i - 1] === '--home' ? `${a}:/srv` : a));
    expect(built).toEqual(want);
    expect(o[o.indexOf('--home') + 1]).toBe(scratch);
  });

  it('fake apptainer with site binds and extra args (container-apptainer-srv): the same line without the site parts', () => {
    const o = observed('container-apptainer-srv.wrapper.argv.nul');
    const scratch = o[8] ?? '';
    // Site additions the wrapper adds through its own rules (CJW_BINDS, CJW_EXTRA_ARGS), not here.
    const siteParts = ['-B', '/etc/hosts:/etc/hosts:ro', '-B', '/usr/share', '--writable-tmpfs'];
    const withoutSite = o.filter((_a, i) => !(i >= 13 && i <= 16) && o[i] !== '--writable-tmpfs');
    expect(o.slice(13, 17)).toEqual(siteParts.slice(0, 4));
    const imageAt = withoutSite.indexOf('-C') + 1;
    const built = buildLine({ runtime: o[0] ?? '', scratch, target: '/srv', cwd: scratch, image: withoutSite[imageAt] ?? '', command: withoutSite.slice(imageAt + 1) }).argv;
    expect(built).toEqual(withoutSite.map((a, i) => (withoutSite[i - 1] === '--home' ? `${a}:/srv` : a)));
  });

  it('HTCondor 25 nested scratch (v25-container-singularity-3.4.2): the wrapper binds the scratch itself, as 24 does', () => {
    const o = observed('v25-container-singularity-3.4.2.wrapper.argv.nul');
    const scratch = o[8] ?? '';
    expect(scratch).toMatch(/\/dir_\d+\/scratch$/);
    const slot = scratch.replace(/\/scratch$/, '');
    const imageAt = o.indexOf('-C') + 1;
    const built = buildLine({ runtime: o[0] ?? '', scratch, target: '/srv', cwd: scratch, image: o[imageAt] ?? '', command: o.slice(imageAt + 1) }).argv;
    // 25 binds the slot dir (0755, condor's) at /srv and starts in /srv/scratch; the wrapper binds
    // only the job's own scratch, so the job sees the same layout on both versions.
    expect(o.slice(9, 13)).toEqual(['--pwd', '/srv/scratch', '-B', `${slot}:/srv`]);
    expect(built.slice(9, 13)).toEqual(['--pwd', '/srv', '-B', `${scratch}:/srv`]);
    expect([...built.slice(0, 9), ...built.slice(13)]).toEqual([...o.slice(0, 9), ...o.slice(13)].map((a, i, arr) => (arr[i - 1] === '--home' ? `${a}:/srv` : a)));
  });

  it('shared filesystem (container-singularity-sharedfs): -B IWD before -W and --pwd IWD, as HTCondor does', () => {
    const o = observed('container-singularity-sharedfs.wrapper.argv.nul');
    const iwd = o[4] ?? '';
    const scratch = o[6] ?? '';
    const built = buildLine({ runtime: o[0] ?? '', scratch, target: '/srv', cwd: iwd, image: '/img', command: ['/bin/echo', 'shared-fs'] }).argv;
    // The observing pool had MOUNT_UNDER_SCRATCH empty and no target dir; the wrapper keeps the
    // default -S /tmp -S /var/tmp and the target dir, and adds --home (HTCondor 24 has none without transfer).
    expect(o.slice(1, 9)).toEqual(['-s', 'exec', '-B', iwd, '-W', scratch, '--pwd', iwd]);
    expect(built.slice(1, 13)).toEqual(['-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-B', iwd, '-W', scratch, '--pwd', iwd]);
  });
});

describe('starterEnv: the environment HTCondor hands a container job', () => {
  it('vanilla environment (vanilla-transfer) -> the copies HTCondor made (container-apptainer-srv), up to PS1', () => {
    const container = envFile('container-apptainer-srv.wrapper.env.txt');
    const scratch = container.get('_CONDOR_SCRATCH_DIR') ?? '';
    const vanillaRaw = envFile('vanilla-transfer.wrapper.env.txt');
    const oldScratch = vanillaRaw.get('_CONDOR_SCRATCH_DIR') ?? '';
    const vanilla = new Map([...vanillaRaw].map(([k, v]) => [k, v.split(oldScratch).join(scratch)]));
    const got = starterEnv(vanilla, envCopyPrefix('apptainer'), scratch, [{ src: scratch, dst: '/srv', opts: '' }]);
    const want = new Map([...container].filter(([k]) => k !== 'APPTAINERENV_PS1'));
    expect(Object.fromEntries([...got].sort())).toEqual(Object.fromEntries([...want].sort()));
  });

  it.each([
    ['apptainer', 'APPTAINERENV_', 'APPTAINER_TMPDIR'],
    ['singularity3', 'SINGULARITYENV_', 'SINGULARITY_TMPDIR'],
    ['singularity2', 'SINGULARITYENV_', 'SINGULARITY_TMPDIR'],
  ] as [FamilyId, string, string][])('%s: copies as %sNAME, %s', (family, prefix, tmpdir) => {
    const env = new Map([['HOME', '/home/u'], ['A', 'x y'], ['P', '/x/dir_1/sub'], ['Q', '/x/dir_10/sub'], [`${prefix}OWN`, 'kept'], [tmpdir, '/var/big']]);
    const got = starterEnv(env, envCopyPrefix(family), '/x/dir_1', [{ src: '/x/dir_1', dst: '/srv', opts: '' }]);
    expect(envCopyPrefix(family)).toBe(prefix);
    expect(got.has('HOME')).toBe(false);
    expect(got.has(`${prefix}HOME`)).toBe(false);
    expect(got.get(`${prefix}A`)).toBe('x y');
    expect(got.get(`${prefix}P`)).toBe('/srv/sub');
    expect(got.get(`${prefix}Q`)).toBe('/x/dir_10/sub'); // whole components: dir_10 is not in dir_1
    expect(got.get(`${prefix}OWN`)).toBe('kept');
    expect(got.has(`${prefix}${prefix}OWN`)).toBe(false);
    expect(got.get(tmpdir)).toBe('/var/big'); // the job's own value is kept
  });
});
