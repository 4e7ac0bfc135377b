// Every line a real starter recorded (test/fixtures/observed: Debian's HTCondor 25.14.1 and 23.9.6
// with Apptainer 1.4.5; the source-built 24.0.23 / 25.13.2) through the bundle with --explain:
//  1. as recorded (only the runtime is this test's stand-in): the recorded scratch dirs, ads and
//     images do not exist here, so a contained job must stop with the specific image error,
//     never run uncontained, never exit 70;
//  2. re-rooted into a temp dir where the scratch, ads, IWD and images exist: the starter
//     simulation (test/starterSim.ts) must produce exactly the re-rooted recorded line, and the
//     wrapper must accept it and keep the payload.

import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseClassAd } from '../../src/facts/classad';
import { jobFromAd, simulateStarter, siteFromScratch, type StarterVersion } from '../starterSim';
import { describeBundle, installWrapper, ROOT, runWrapper, standin, tempDir } from './harness';

const OBS = join(ROOT, 'test/fixtures/observed');
const ADS = join(ROOT, 'test/fixtures/ads');
const VERSIONS: readonly [string, StarterVersion][] = [['v25.14-', '25.14.1'], ['v23.9-', '23.9.6']];

const nul = (f: string): string[] => readFileSync(join(OBS, f), 'utf8').replace(/\0$/, '').split('\0');
const envOf = (f: string): Map<string, string> =>
  new Map(readFileSync(join(OBS, f), 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

const all = readdirSync(OBS).filter((f) => f.endsWith('.wrapper.argv.nul')).map((f) => f.replace(/\.wrapper\.argv\.nul$/, '')).sort();
const containerLines = all.filter((n) => !n.includes('vanilla'));
const debianContainer = containerLines.filter((n) => VERSIONS.some(([p]) => n.startsWith(p)));

interface Explained {
  readonly status: number | null;
  readonly stderr: string;
  readonly json: { dispatch: string; contained: boolean; argv: string[]; outcome: { kind: string; errorId?: string; exitCode?: number; line?: string }; warnings: string[] };
}

function explain(wrapper: string, config: string, argv: readonly string[], env: Map<string, string>, cwd: string): Explained {
  const r = runWrapper(['--explain', '--json', '--config', config, '--', ...argv], { wrapper, env: { PATH: '/usr/bin:/bin', ...Object.fromEntries(env) }, cwd });
  if (r.stdout === '') throw new Error(`--explain printed nothing (exit ${String(r.status)}): ${r.stderr}`);
  return { status: r.status, stderr: r.stderr, json: JSON.parse(r.stdout) as Explained['json'] };
}

describeBundle('recorded starter lines through the bundle with --explain, on $label', ({ path: nodePath }) => {
  const wrapper = installWrapper(nodePath);
  const rt = standin('apptainer');
  const base = tempDir('cjw-recorded-');
  const config = join(base, 'wrapper.env');
  writeFileSync(config, 'CJW_MODE=REQUIRED\nCJW_NESTED=no\n');

  it('has the Debian recordings of both versions', () => {
    for (const [p] of VERSIONS) expect(debianContainer.filter((n) => n.startsWith(p))).toHaveLength(14);
  });

  it.each(containerLines)('as recorded: %s stops on the absent image with its specific error, contained', (name) => {
    const recorded = nul(`${name}.wrapper.argv.nul`);
    const envFile = `${name}.wrapper.env.txt`;
    const env = all.includes(name) && readdirSync(OBS).includes(envFile) ? envOf(envFile) : new Map<string, string>();
    const scratch = env.get('_CONDOR_SCRATCH_DIR') ?? recorded[recorded.indexOf('-W') + 1] ?? '';
    env.set('_CONDOR_SCRATCH_DIR', scratch);
    // The recorded ads are gone with their scratch dirs (the wrapper stops on an unreadable ad, 65/69).
    env.delete('_CONDOR_JOB_AD');
    env.delete('_CONDOR_MACHINE_AD');
    const line = [rt.path, ...recorded.slice(1)];
    const r = explain(wrapper, config, line, env, base);
    expect(r.status).toBe(0);
    expect(r.json.dispatch).toBe('starter-built');
    expect(r.json.contained).toBe(true);
    const image = /image (\S+): /.exec(r.json.outcome.line ?? '')?.[1] ?? '';
    // The image it names is the recorded one, the element before the payload.
    expect(recorded.indexOf(image)).toBeGreaterThan(recorded.indexOf('exec'));
    // An image under an unmounted /cvmfs repository is the node's fault (69), any other the job's (66).
    const want = image.startsWith('/cvmfs/') ? { errorId: 'image.repository-unreachable', exitCode: 69 } : { errorId: 'image.missing', exitCode: 66 };
    expect(r.json.outcome).toMatchObject({ kind: 'error', ...want });
  });

  describe.each(VERSIONS)('re-rooted %s lines', (prefix, version) => {
    const names = debianContainer.filter((n) => n.startsWith(prefix));
    it.each(names)('%s: the simulated line is the recorded one, and the wrapper runs it contained', (name) => {
      const root = tempDir('cjw-rerooted-');
      // Every recorded absolute path lives under the pool's state dir or /img.
      const map = (s: string): string => s.split('/tmp/cjw-pool-rec').join(`${root}/pool`).replace(/^\/img\//, `${root}/img/`);
      const recorded = nul(`${name}.wrapper.argv.nul`).map(map);
      const env = new Map([...envOf(`${name}.wrapper.env.txt`)].map(([k, v]) => [k, map(v)]));
      const scratch = env.get('_CONDOR_SCRATCH_DIR') ?? '';
      const adText = readFileSync(join(ADS, `${name}.job.ad.txt`), 'utf8').split('/tmp/cjw-pool-rec').join(`${root}/pool`).replace(/"\/img\//g, `"${root}/img/`);
      const job = jobFromAd(parseClassAd(adText, name));
      // The node: slot and scratch dir, the ads, the job's IWD, the images (also the transferred copy).
      mkdirSync(scratch, { recursive: true });
      mkdirSync(job.submitDir, { recursive: true });
      writeFileSync(env.get('_CONDOR_JOB_AD') ?? join(scratch, '.job.ad'), adText);
      // One slot ad per version is kept (they differ only in counters and ports).
      cpSync(join(ADS, `${prefix}container-sif-transfer-srv.machine.ad.txt`), env.get('_CONDOR_MACHINE_AD') ?? join(scratch, '.machine.ad'));
      for (const img of [`${root}/img/busybox-sandbox`, join(scratch, 'busybox-sandbox')]) mkdirSync(join(img, '.singularity.d'), { recursive: true });
      for (const img of [`${root}/img/busybox.sif`, join(scratch, 'busybox.sif')]) writeFileSync(img, 'SIF');
      writeFileSync(join(scratch, 'job.sh'), '#!/bin/sh\necho script "$@"\n', { mode: 0o755 });
      mkdirSync(dirname(env.get('_CONDOR_CHIRP_CONFIG') ?? join(scratch, 'x')), { recursive: true });

      const sim = simulateStarter(version, { runtime: '/usr/bin/apptainer', ...(name.endsWith('-srv') ? { targetDir: '/srv' } : {}) }, job, siteFromScratch(scratch, version.startsWith('25.')));
      expect(sim.argv).toEqual(recorded);

      const cwd = /^cwd: (.*)$/m.exec(readFileSync(join(OBS, `${name}.wrapper.cwd-id.txt`), 'utf8'))?.[1] ?? '';
      const r = explain(wrapper, config, [rt.path, ...sim.argv.slice(1)], env, map(cwd));
      expect(r.status).toBe(0);
      expect(r.json.dispatch).toBe('starter-built');
      expect(r.json.contained).toBe(true);
      expect(r.json.outcome).toEqual({ kind: 'exec-runtime' });
      const payload = sim.argv.slice(sim.argv.length - job.args.length - 1);
      expect(r.json.argv.slice(-payload.length)).toEqual(payload);
    });
  });

});
