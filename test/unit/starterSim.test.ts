// The starter simulation (test/starterSim.ts) against every line a real starter handed a
// recording USER_JOB_WRAPPER (test/fixtures/observed): HTCondor 24.0.23 and 25.13.2 (built from
// source, fake and real runtimes) and Debian's 25.14.1 and 23.9.6 with Apptainer 1.4.5. The job
// comes from the job ad the wrapper got, the site (EXECUTE, starter pid) from its scratch dir, the
// knobs from how each pool was configured (docs/htcondor-versions.md).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseClassAd } from '../../src/facts/classad';
import {
  jobFromAd, simulateStarter, simulateStarterEnv, siteFromScratch, splitArgumentsV2,
  type StarterJob, type StarterKnobs, type StarterSite, type StarterVersion,
} from '../starterSim';

const FIX = join(__dirname, '../fixtures');
const OBS = join(FIX, 'observed');
const nul = (name: string): string[] => readFileSync(join(OBS, name), 'utf8').replace(/\0$/, '').split('\0');
const envOf = (name: string): Map<string, string> =>
  new Map(readFileSync(join(OBS, name), 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const ad = (name: string): ReturnType<typeof parseClassAd> => parseClassAd(readFileSync(join(FIX, 'ads', name), 'utf8'), name);

/** The Debian pools (../shared/pool/pool.sh): SINGULARITY = /usr/bin/apptainer, defaults otherwise. */
const DEBIAN_RUNTIME = '/usr/bin/apptainer';
const RECORDED: readonly [string, StarterVersion][] = [['v25.14-', '25.14.1'], ['v23.9-', '23.9.6']];

const recordings = readdirSync(OBS)
  .filter((f) => f.endsWith('.wrapper.argv.nul') && RECORDED.some(([p]) => f.startsWith(p)))
  .map((f) => f.replace(/\.wrapper\.argv\.nul$/, ''))
  .sort();

describe('the Debian starters (25.14.1, 23.9.6): the simulated line is the recorded one', () => {
  it('has every case recorded for both versions', () => {
    const cases = ['vanilla-transfer', 'vanilla-sharedfs'];
    for (const k of ['sandbox', 'sif']) for (const t of ['transfer', 'notransfer', 'sharedfs']) cases.push(`container-${k}-${t}`, `container-${k}-${t}-srv`);
    cases.push('container-sandbox-exe', 'container-sandbox-exe-srv');
    for (const [p] of RECORDED) expect(recordings.filter((r) => r.startsWith(p)).map((r) => r.slice(p.length)).sort()).toEqual([...cases].sort());
  });

  it.each(recordings)('%s', (name) => {
    const [, version] = RECORDED.find(([p]) => name.startsWith(p)) ?? ['', '25.14.1'];
    const job = jobFromAd(ad(`${name}.job.ad.txt`));
    const env = envOf(`${name}.wrapper.env.txt`);
    const scratch = env.get('_CONDOR_SCRATCH_DIR') ?? '';
    const nested = version.startsWith('25.');
    const knobs: StarterKnobs = { runtime: DEBIAN_RUNTIME, ...(name.endsWith('-srv') ? { targetDir: '/srv' } : {}) };
    const sim = simulateStarter(version, knobs, job, siteFromScratch(scratch, nested));
    expect(sim.argv).toEqual(nul(`${name}.wrapper.argv.nul`));
    expect(sim.scratch).toBe(scratch);
    const cwd = /^cwd: (.*)$/m.exec(readFileSync(join(OBS, `${name}.wrapper.cwd-id.txt`), 'utf8'))?.[1];
    expect(sim.cwd).toBe(cwd);
  });

  it.each(recordings)('%s: the simulated environment is the recorded one, up to the _CONDOR_ANCESTOR_ pids', (name) => {
    const [, version] = RECORDED.find(([p]) => name.startsWith(p)) ?? ['', '25.14.1'];
    const job = jobFromAd(ad(`${name}.job.ad.txt`));
    const recorded = envOf(`${name}.wrapper.env.txt`);
    const scratch = recorded.get('_CONDOR_SCRATCH_DIR') ?? '';
    // Site facts: the slot's name and the host's (PS1), as this run had them.
    const site = { ...siteFromScratch(scratch, version.startsWith('25.')), slot: recorded.get('_CONDOR_SLOT') ?? '', host: 'vm' };
    const knobs: StarterKnobs = { runtime: DEBIAN_RUNTIME, ...(name.endsWith('-srv') ? { targetDir: '/srv' } : {}) };
    const line = simulateStarter(version, knobs, job, site);
    const ancestors = [...recorded.keys()].filter((k) => k.startsWith('_CONDOR_ANCESTOR_'));
    expect(ancestors).toHaveLength(3); // HTCondor's process tracking: master, startd, starter
    const want = Object.fromEntries([...recorded].filter(([k]) => !ancestors.includes(k)).sort());
    expect(Object.fromEntries([...simulateStarterEnv(version, knobs, job, site, line)].sort())).toEqual(want);
  });
});

/** `printf %q` words back into strings (the recording runtime shim logs its argv that way). */
function unq(line: string): string[] {
  return (line.match(/(?:\\.|[^\s\\])+/g) ?? []).map((w) => w.replace(/\\(.)/g, '$1'));
}

describe("the starter's own self-test before every container job", () => {
  // StarterLog (D_FULLDEBUG): "Arguments updated for executing with singularity: LINE" (the
  // wrapper's line), then "Runnning singularity test for job … cmd is TEST". Both lines are joined
  // with blanks there, so only the options are compared (the payload "two words" is quoted oddly).
  it.each(RECORDED)('%sstarterlog.txt: TEST is the line up to the image, with -s -q test', (prefix, version) => {
    const log = readFileSync(join(OBS, `${prefix}starterlog.txt`), 'utf8').split('\n');
    let checked = 0;
    for (const [i, l] of log.entries()) {
      const t = /Runnning singularity test for job \S+ cmd is (.*)$/.exec(l)?.[1];
      if (t === undefined) continue;
      const line = /Arguments updated for executing with singularity: (.*)$/.exec(log.slice(0, i).reverse().find((x) => x.includes('Arguments updated')) ?? '')?.[1] ?? '';
      const words = line.split(' ');
      const scratch = words[words.indexOf('-W') + 1] ?? '';
      const shared = !words.includes('--home');
      const image = words[words.indexOf('-C') + 1] ?? '';
      const job: StarterJob = {
        executable: '/bin/echo', args: ['hello', 'two words'], image: image.startsWith('/') ? image : `/img/${image}`,
        containerUniverse: true, transferContainer: !image.startsWith('/'), transferFiles: !shared, transferExecutable: false, submitDir: '/unused',
      };
      const knobs: StarterKnobs = { runtime: DEBIAN_RUNTIME, ...(line.includes(':/srv') ? { targetDir: '/srv' } : {}) };
      const sim = simulateStarter(version, knobs, job, siteFromScratch(scratch, version.startsWith('25.')));
      expect(sim.selfTest?.join(' ')).toBe(t);
      expect(sim.argv.slice(0, -2).join(' ')).toBe(line.slice(0, line.lastIndexOf(' hello two')));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });

  const callFiles = readdirSync(OBS).filter((f) => f.endsWith('-srv.runtime-calls.txt') && RECORDED.some(([p]) => f.startsWith(p))).sort();
  it.each(callFiles)('%s: --version, then the self-test as the job user with the job environment, then the wrapper\'s exec', (file) => {
    const [prefix, version] = RECORDED.find(([p]) => file.startsWith(p)) ?? ['', '25.14.1'];
    const name = file.replace(/\.runtime-calls\.txt$/, '');
    const calls = readFileSync(join(OBS, file), 'utf8').split(/^== /m).slice(1).map((c) => {
      const [id = '', argv = '', , ...env] = c.split('\n');
      return { id, argv: unq(argv.replace(/^argv: /, '')), env: new Map(env.filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) };
    });
    expect(calls.map((c) => c.argv.slice(1, 4).join(' '))).toEqual(['--version', '-s -q test', '-s exec -S']);
    const [version0, test, exec] = calls;
    const runtime = exec?.argv[0] ?? '';
    const scratch = exec?.argv[(exec.argv.indexOf('-W')) + 1] ?? '';
    const job = jobFromAd(ad(`${name}.job.ad.txt`));
    const sim = simulateStarter(version, { runtime, targetDir: '/srv' }, job, siteFromScratch(scratch, version.startsWith('25.')));
    expect(exec?.argv).toEqual(sim.argv);
    expect(test?.argv).toEqual(sim.selfTest);
    expect(version0?.id).toMatch(/^uid=0\(root\)/);
    expect(test?.id).toMatch(/^uid=4242\(condoruser\)/);
    // The self-test gets the environment the wrapper gets (the job's, with the APPTAINERENV_ copies),
    // except the _CONDOR_ANCESTOR_<pid> process-tracking variables, which only the wrapper has.
    const wrapperEnv = envOf(`${name}.wrapper.env.txt`);
    const ancestors = [...wrapperEnv.keys()].filter((k) => k.startsWith('_CONDOR_ANCESTOR_'));
    expect(ancestors.length).toBeGreaterThan(0);
    expect([...(test?.env.keys() ?? [])].sort()).toEqual([...wrapperEnv.keys()].filter((k) => !ancestors.includes(k)).sort());
    expect(test?.env.get('_CONDOR_SCRATCH_DIR')).toBe(scratch);
    expect(test?.env.get('APPTAINERENV__CONDOR_SCRATCH_DIR')).toBe(version.startsWith('25.') ? '/srv/scratch' : '/srv');
    expect(prefix).not.toBe('');
  });
});

/** 24.0.23 / 25.13.2 (test/fixtures/observed, unprefixed and v25-): how each pool was configured (../shared/htcondor/observed/RESULTS.md). */
const SHARED = '<shared>/htcondor/tools';
const EL9 = '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest';
const SH_JOB = { executable: '/bin/sh', args: ['-c', 'echo in-container; id; pwd; ls -a; env | sort'], image: '<images>/busybox.sif', transferFiles: true, transferExecutable: false, submitDir: '/unused' };
const SHAREDFS_KNOBS: StarterKnobs = { runtime: `${SHARED}/fake-singularity`, mountUnderScratch: [], binds: ['/etc/hosts', '/usr/share:/opt/share:ro'] };
const OLD: readonly (readonly [string, StarterVersion, StarterKnobs, StarterJob | string])[] = [
  ['vanilla-transfer', '24.0.23', { runtime: '' }, { executable: '/bin/echo', args: ['hello', 'two words', 'tab"quote', 'x*y'], transferFiles: true, submitDir: '/unused' }],
  ['container-apptainer-srv', '24.0.23', { runtime: `${SHARED}/fake-apptainer`, targetDir: '/srv', binds: ['/etc/hosts:/etc/hosts:ro', '/usr/share'], extraArgs: ['--writable-tmpfs'] }, 'container-apptainer-srv.job.ad.txt'],
  ['container-singularity-3.4.2', '24.0.23', { runtime: '/opt/singularity-3.4.2/bin/singularity', targetDir: '/srv' }, SH_JOB],
  ['container-singularity-sharedfs', '24.0.23', SHAREDFS_KNOBS, 'container-singularity-sharedfs.job.ad.txt'],
  ['container-universe-nopidns', '24.0.23', { runtime: `${SHARED}/fake-apptainer`, pidNamespaces: false }, 'v25-container-universe-nopidns.job.ad.txt'],
  ['v25-container-apptainer-launcher', '25.13.2', { runtime: `${SHARED}/fake-apptainer`, launcher: '/opt/htcondor/libexec/condor_container_launcher.sh' }, { executable: '/bin/echo', args: ['launcher'], image: EL9, transferFiles: true, transferExecutable: false, submitDir: '/unused' }],
  ['v25-container-singularity-3.4.2', '25.13.2', { runtime: '/opt/singularity-3.4.2/bin/singularity', targetDir: '/srv' }, 'v25-container-singularity-3.4.2.job.ad.txt'],
  ['v25-container-singularity-sharedfs', '25.13.2', SHAREDFS_KNOBS, 'container-singularity-sharedfs.job.ad.txt'],
];

describe('the source-built starters (24.0.23, 25.13.2): the simulated line is the recorded one', () => {
  it('covers every recorded 24.0.23 / 25.13.2 line in the fixtures', () => {
    const old = readdirSync(OBS).filter((f) => f.endsWith('.wrapper.argv.nul') && !RECORDED.some(([p]) => f.startsWith(p))).map((f) => f.replace(/\.wrapper\.argv\.nul$/, ''));
    expect(old.sort()).toEqual(OLD.map(([n]) => n).sort());
  });

  it.each(OLD)('%s (%s)', (name, version, knobs, jobOrAd) => {
    const recorded = nul(`${name}.wrapper.argv.nul`);
    const job = typeof jobOrAd === 'string' ? jobFromAd(ad(jobOrAd)) : jobOrAd;
    // The site (EXECUTE, starter pid) of that run: from its environment where kept, else its -W.
    const envFile = `${name}.wrapper.env.txt`;
    const scratch = existsSync(join(OBS, envFile)) ? envOf(envFile).get('_CONDOR_SCRATCH_DIR') ?? '' : recorded[recorded.indexOf('-W') + 1] ?? '';
    const site: StarterSite = siteFromScratch(scratch, version.startsWith('25.'));
    expect(simulateStarter(version, knobs, job, site).argv).toEqual(recorded);
  });

  it('24.0.23 ignores SINGULARITY_USE_LAUNCHER; 25.13.2 binds the launcher and puts it before the payload, in the self-test too', () => {
    const job: StarterJob = { executable: '/bin/echo', args: ['x'], image: '/i.sif', transferFiles: true, transferExecutable: false, submitDir: '/s' };
    const site = { executeDir: '/e', starterPid: 7 };
    const knobs = { runtime: '/rt', launcher: '/l.sh' };
    expect(simulateStarter('24.0.23', knobs, job, site).argv).toEqual(simulateStarter('24.0.23', { runtime: '/rt' }, job, site).argv);
    const v25 = simulateStarter('25.13.2', knobs, job, site);
    expect(v25.argv.slice(-4)).toEqual(['/i.sif', '/condor_container_launcher.sh', '/bin/echo', 'x']);
    expect(v25.selfTest?.slice(-2)).toEqual(['/i.sif', '/condor_container_launcher.sh']);
  });

  it('STARTER_NESTED_SCRATCH = False brings back the 24.0 layout on 25.x', () => {
    const job: StarterJob = { executable: '/bin/echo', args: [], image: '/i.sif', transferFiles: true, transferExecutable: false, submitDir: '/s' };
    const site = { executeDir: '/e', starterPid: 7 };
    const flat = simulateStarter('25.14.1', { runtime: '/rt', targetDir: '/srv', nestedScratch: false }, job, site);
    expect(flat.argv).toEqual(simulateStarter('24.0.23', { runtime: '/rt', targetDir: '/srv' }, job, site).argv);
    expect(flat.scratch).toBe('/e/dir_7');
  });
});

describe('the helpers', () => {
  it.each([
    ["hello two' 'words tab\"quote x*y", ['hello', 'two words', 'tab"quote', 'x*y']],
    ["'it''s' '' a", ["it's", '', 'a']],
    ['  spaced   out ', ['spaced', 'out']],
  ])('splitArgumentsV2(%j)', (s, want) => {
    expect(splitArgumentsV2(s)).toEqual(want);
  });

  it('rejects an unterminated quote and a path that is no starter scratch dir', () => {
    expect(() => splitArgumentsV2("'open")).toThrow(/unterminated/);
    expect(() => siteFromScratch('/e/dir_7/other', true)).toThrow(/not a starter/);
    expect(siteFromScratch('/e/x/dir_7/scratch', true)).toEqual({ executeDir: '/e/x', starterPid: 7 });
  });
});
