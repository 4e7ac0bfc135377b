// Wrapper-built mode end to end through the bundle (SPEC S2, S4): the starter hands the wrapper
// the job's own executable; policy decides; the recording stand-in runtime receives the line
// HTCondor would have built, or the payload runs directly, or the job stops with 69.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBundle, installWrapper, runWrapper, standin, tempDir } from './harness';

interface Job {
  readonly scratch: string;
  readonly image: string;
  readonly config: string;
  readonly env: Record<string, string>;
}

/** A scratch dir as the starter makes it, an image file, and the site config. */
function job(config: string): Job {
  const base = tempDir('cjw-wb-');
  const scratch = join(base, 'execute', 'dir_7');
  mkdirSync(scratch, { recursive: true });
  const image = join(base, 'el9.sif');
  writeFileSync(image, 'image');
  writeFileSync(join(scratch, '.job.ad'), 'Owner = "condoruser"\nClusterId = 7\nProcId = 0\n');
  const cfg = join(base, 'wrapper.env');
  writeFileSync(cfg, `CJW_NESTED=no\nCJW_DEFAULT_IMAGE=${image}\n${config}\n`);
  const env = { _CONDOR_SCRATCH_DIR: scratch, _CONDOR_JOB_AD: join(scratch, '.job.ad'), _CONDOR_WRAPPER_ERROR_FILE: join(scratch, '.job_wrapper_failure'), JOB_VAR: 'from submit', HOME: '/home/condoruser', PATH: '/usr/bin:/bin' };
  return { scratch, image, config: cfg, env };
}

describeBundle('wrapper-built mode, bundle on $label', ({ path: nodePath }) => {
  const wrapper = installWrapper(nodePath);

  it('REQUIRED: the stand-in runtime receives the line HTCondor 24 builds, and runs the job', () => {
    const rt = standin('apptainer');
    const j = job(`CJW_MODE=REQUIRED\nCJW_RUNTIME=${rt.path}`);
    const r = runWrapper(['--config', j.config, '--', '/bin/echo', 'hello', 'two words', ''], { wrapper, env: j.env, cwd: j.scratch });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(rt.argv()).toEqual([
      rt.path, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', j.scratch, '--pwd', '/srv',
      '-B', `${j.scratch}:/srv`, '--home', `${j.scratch}:/srv`, '-C', j.image, '/bin/echo', 'hello', 'two words', '',
    ]);
    expect(r.stdout).toBe('hello two words \n');
    // The environment the starter would have given the runtime: copies for the cleaned env.
    const env = rt.env();
    expect(env.get('APPTAINERENV_JOB_VAR')).toBe('from submit');
    expect(env.get('APPTAINERENV__CONDOR_SCRATCH_DIR')).toBe('/srv');
    expect(env.get('APPTAINERENV__CONDOR_JOB_AD')).toBe('/srv/.job.ad');
    expect(env.get('_CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER')).toBe(j.scratch);
    expect(env.has('HOME')).toBe(false);
    expect(env.has('APPTAINERENV_HOME')).toBe(false);
    expect(existsSync(j.env._CONDOR_WRAPPER_ERROR_FILE ?? '')).toBe(false);
  });

  it('a transferred executable in the scratch dir is retargeted to /srv; a Singularity runtime gets SINGULARITYENV_ copies', () => {
    const rt = standin('singularity');
    const j = job(`CJW_MODE=PREFERRED\nCJW_RUNTIME=${rt.path}`);
    const exe = join(j.scratch, 'run.sh');
    writeFileSync(exe, '#!/bin/sh\necho ran "$@"\n', { mode: 0o755 });
    const r = runWrapper(['--config', j.config, exe, 'x'], { wrapper, env: j.env, cwd: j.scratch });
    // The stand-in runs the payload on the host, where /srv/run.sh does not exist: only the wrapper's part is checked.
    expect(r.stderr).not.toContain('condor-job-wrapper');
    const argv = rt.argv();
    expect(argv.slice(-3)).toEqual([j.image, '/srv/run.sh', 'x']);
    expect(rt.env().get('SINGULARITYENV_JOB_VAR')).toBe('from submit');
    expect(rt.env().has('APPTAINERENV_JOB_VAR')).toBe(false);
  });

  it('the job ad names the image: SingularityImage wins over CJW_DEFAULT_IMAGE', () => {
    const rt = standin('apptainer');
    const j = job(`CJW_RUNTIME=${rt.path}`);
    const mine = join(j.scratch, '..', 'mine.sif');
    writeFileSync(mine, 'image');
    writeFileSync(j.env._CONDOR_JOB_AD ?? '', `Owner = "condoruser"\nSingularityImage = "${mine}"\n`);
    // Site and VO both OPTIONAL (defaults): the image raises the request to PREFERRED.
    const r = runWrapper(['--config', j.config, '/bin/true'], { wrapper, env: j.env, cwd: j.scratch });
    expect(r.status).toBe(0);
    expect(rt.argv().slice(-2)).toEqual([mine, '/bin/true']);
  });

  it('defaults (OPTIONAL x OPTIONAL), no image asked: the job runs directly, the runtime never starts', () => {
    const rt = standin('apptainer');
    const j = job(`CJW_RUNTIME=${rt.path}`);
    const r = runWrapper(['--config', j.config, '/bin/echo', 'plain'], { wrapper, env: j.env, cwd: j.scratch });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('plain\n');
    expect(r.stderr).toBe('');
    expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
  });

  it('PREFERRED with the runtime missing: the job runs uncontained with exactly one warning', () => {
    const j = job('CJW_MODE=PREFERRED\nCJW_RUNTIME=/nonexistent/apptainer');
    const r = runWrapper(['--config', j.config, '/bin/echo', 'fallback'], { wrapper, env: j.env, cwd: j.scratch });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('fallback\n');
    expect(r.stderr).toBe('condor-job-wrapper: warning: container runtime /nonexistent/apptainer is missing or not executable; policy PREFERRED (site CJW_MODE=PREFERRED and request CJW_VO_MODE=OPTIONAL) allows running without a container, so the job runs uncontained\n');
  });

  it('REQUIRED with the runtime missing: exit 69, the payload never runs', () => {
    const j = job('CJW_MODE=REQUIRED\nCJW_RUNTIME=/nonexistent/apptainer');
    const marker = join(j.scratch, 'payload-ran');
    const r = runWrapper(['--config', j.config, '/bin/sh', '-c', `touch ${marker}`], { wrapper, env: j.env, cwd: j.scratch });
    expect(r.status).toBe(69);
    expect(r.stderr).toBe('condor-job-wrapper: node error: container runtime /nonexistent/apptainer: missing or not executable, and policy REQUIRED (site CJW_MODE=REQUIRED and request CJW_VO_MODE=OPTIONAL) forbids running the job without a container\n');
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    ['REQUIRED_GWMS', 'DISABLE_GWMS', 'REQUIRED', 'DISABLE'],
    ['NEVER', 'REQUIRED', 'NEVER', 'REQUIRED'],
  ])('FAIL (CJW_MODE=%s x CJW_VO_MODE=%s): exit 69 naming both keys and values, nothing runs', (site, vo, siteN, voN) => {
    const rt = standin('apptainer');
    const j = job(`CJW_MODE=${site}\nCJW_VO_MODE=${vo}\nCJW_RUNTIME=${rt.path}`);
    const r = runWrapper(['--config', j.config, '/bin/echo', 'x'], { wrapper, env: j.env, cwd: j.scratch });
    expect(r.status).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`condor-job-wrapper: node error: container policy: site CJW_MODE=${siteN} and request CJW_VO_MODE=${voN} cannot both hold (negotiation table: FAIL)\n`);
    expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
  });

  it.each([
    ['the job\'s image is missing', 66, (j: Job) => {
      writeFileSync(j.env._CONDOR_JOB_AD ?? '', `SingularityImage = "${j.image}.gone"\n`);
      return { cfg: '', env: j.env };
    }],
    ['the site\'s default image is missing (the site\'s fault)', 78, (j: Job) => ({ cfg: `CJW_DEFAULT_IMAGE=${j.image}.gone`, env: j.env })],
    ['the scratch dir is missing', 69, (j: Job) => ({ cfg: '', env: { ...j.env, _CONDOR_SCRATCH_DIR: `${j.scratch}.gone` } })],
    ['no image anywhere', 65, () => ({ cfg: 'CJW_DEFAULT_IMAGE=', env: undefined })],
  ] as [string, number, (j: Job) => { cfg: string; env: Record<string, string> | undefined }][])('REQUIRED, %s: exit %d, nothing runs', (_n, code, vary) => {
    const rt = standin('apptainer');
    const j = job(`CJW_MODE=REQUIRED\nCJW_RUNTIME=${rt.path}`);
    const v = vary(j);
    writeFileSync(j.config, `${v.cfg}\n`, { flag: 'a' });
    const r = runWrapper(['--config', j.config, '/bin/echo', 'x'], { wrapper, env: v.env ?? j.env, cwd: j.scratch });
    expect(r.status).toBe(code);
    expect(r.stdout).toBe('');
    expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
  });

  it('execs: the runtime has the pid the starter started', () => {
    const rt = standin('apptainer');
    const j = job(`CJW_MODE=REQUIRED\nCJW_RUNTIME=${rt.path}`);
    const pidFile = join(rt.dir, 'wpid');
    const sh = spawnSync('/bin/sh', ['-c', `"$0" "$@" & echo $! > ${pidFile}; wait`, wrapper, '--config', j.config, '/bin/true'], { env: j.env, cwd: j.scratch, encoding: 'utf8' });
    expect(sh.status).toBe(0);
    expect(rt.pid()).toBe(Number(spawnSync('cat', [pidFile], { encoding: 'utf8' }).stdout.trim()));
  });

  // SPEC S7: under REQUIRED no error path (hook crash, timeout, bad config, bad job ad, missing
  // image or bind) ever runs the payload outside a container — nor inside one: nothing runs.
  describe.each(['wrapper-built', 'starter-built'])('REQUIRED, %s: whatever fails, nothing runs', (mode) => {
    const hook = (dir: string, name: string, body: string, exec = true): void => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: exec ? 0o755 : 0o644 });
    };
    it.each([
      ['a setup hook fails', 69, (b: string) => { hook(join(b, 'setup'), '10-fail', 'exit 1'); return `CJW_SETUP_DIR=${join(b, 'setup')}`; }],
      ['a test hook fails', 69, (b: string) => { hook(join(b, 'test'), '10-fail', 'exit 3'); return `CJW_TEST_DIR=${join(b, 'test')}`; }],
      ['a setup hook is killed by a signal', 69, (b: string) => { hook(join(b, 'setup'), '10-kill', 'kill -9 $$'); return `CJW_SETUP_DIR=${join(b, 'setup')}`; }],
      ['a setup hook times out', 69, (b: string) => { hook(join(b, 'setup'), '10-slow', 'sleep 30'); return `CJW_SETUP_DIR=${join(b, 'setup')}\nCJW_HOOK_TIMEOUT=1`; }],
      ['a hook is not executable', 78, (b: string) => { hook(join(b, 'setup'), '10-noexec', 'true', false); return `CJW_SETUP_DIR=${join(b, 'setup')}`; }],
      ['the config has an unknown key', 78, () => 'CJW_MODEE=NEVER'],
      ['the config has a bad value', 78, () => 'CJW_HOOK_TIMEOUT=soon'],
      ['a required site bind is missing', 66, (b: string) => `CJW_BINDS=${join(b, 'no-such-dir')}!`],
    ] as [string, number, (base: string) => string][])('%s: exit %d', (_name, code, extra) => {
      const rt = standin('apptainer');
      const j = job(`CJW_MODE=REQUIRED\nCJW_RUNTIME=${rt.path}`);
      const base = join(j.scratch, '..', '..');
      writeFileSync(j.config, `${extra(base)}\n`, { flag: 'a' });
      const marker = join(base, 'payload-ran');
      const payload = ['/bin/sh', '-c', `touch ${marker}`];
      const argv = mode === 'wrapper-built' ? payload : [rt.path, '-s', 'exec', '-W', j.scratch, '--pwd', '/srv', '-B', `${j.scratch}:/srv`, '-C', j.image, ...payload];
      const r = runWrapper(['--config', j.config, ...argv], { wrapper, env: j.env, cwd: j.scratch });
      expect(r.stderr).toMatch(/^condor-job-wrapper: (job|node) error: [^\n]+\n$/);
      expect(r.status).toBe(code);
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
    });
    it('the job ad is malformed: exit 65', () => {
      const rt = standin('apptainer');
      const j = job(`CJW_MODE=REQUIRED\nCJW_RUNTIME=${rt.path}`);
      writeFileSync(j.env._CONDOR_JOB_AD ?? '', 'Owner "no equals sign"\n');
      const argv = mode === 'wrapper-built' ? ['/bin/true'] : [rt.path, 'exec', '-C', j.image, '/bin/true'];
      const r = runWrapper(['--config', j.config, ...argv], { wrapper, env: j.env, cwd: j.scratch });
      expect(r.status).toBe(65);
      expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
    });
  });
});
