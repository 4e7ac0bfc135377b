// The binds, image and environment rules end to end: the bundled wrapper in front of the real
// Singularity 3.4.2 (setuid install), with HTCondor 24's line and a job run as the unprivileged
// condoruser. The payload prints what it sees inside: environment, mounts, files.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IN_CI, ROOT, installWrapper, tempDir } from '../e2e/harness';

const SING = '/opt/singularity-3.4.2/bin/singularity';
const SING26U = '/opt/singularity-2.6.1-userns/bin/singularity';
const MAKE_IMAGES = join(ROOT, '../shared/runtimes/make-images.sh');
const USER = 'condoruser';
const NODE = '/usr/bin/node';

function uidOf(user: string): number | undefined {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

function missingFixture(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (to run the job as condoruser)';
  if (!existsSync(SING)) return `${SING} is not installed (../shared/runtimes/install.sh)`;
  if (!existsSync(MAKE_IMAGES)) return `${MAKE_IMAGES} is missing`;
  if (uidOf(USER) === undefined) return `user ${USER} does not exist`;
  return undefined;
}

function describeRuntime(name: string, fn: () => void): void {
  const why = missingFixture();
  if (why === undefined) {
    describe(name, fn);
    return;
  }
  if (IN_CI) throw new Error(`runtime suite "${name}": ${why} (CI=true: the fixtures must be installed)`);
  console.log(`skipping runtime suite "${name}": ${why}`);
  describe.skip(name, fn);
}

interface Job {
  /** wrapper.env text (passed with --config). */
  readonly config?: string;
  /** The job ad's SingularityBind (also written as one -B each on the starter's line). */
  readonly jobBinds?: readonly string[];
  readonly image?: string;
  /** The job's environment (the starter's), besides the _CONDOR_* the test sets; given the scratch dir. */
  readonly env?: Record<string, string> | ((scratch: string) => Record<string, string>);
  readonly script: string;
  /** The scratch dir's name (dir_1 by default). */
  readonly dirName?: string;
  readonly explain?: boolean;
  /** The runtime on the starter's line (Singularity 3.4.2 by default). */
  readonly runtime?: string;
}

interface Result extends SpawnSyncReturns<string> {
  readonly scratch: string;
  readonly errorFile?: string;
}

describeRuntime('rules for binds, image and environment on Singularity 3.4.2 (job as condoruser)', () => {
  let root = '';
  let images = '';
  let wrapper = '';
  let n = 0;
  const uid = uidOf(USER) ?? -1;

  beforeAll(() => {
    root = tempDir('cjw-rules-rt-');
    images = join(root, 'images');
    mkdirSync(images, { mode: 0o755 });
    const made = spawnSync('bash', [MAKE_IMAGES, images], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make-images.sh failed: ${made.stderr}`);
    wrapper = installWrapper(NODE, root);
    for (const d of ['allowed/in', 'allowed/v2', 'site', 'outside', 'jobs', 'imgs']) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
    writeFileSync(join(root, 'allowed/in/file'), 'jobdata\n', { mode: 0o644 });
    writeFileSync(join(root, 'site/file'), 'sitedata\n', { mode: 0o644 });
    writeFileSync(join(root, 'outside/secret'), 'secret\n', { mode: 0o644 });
    // Both writable by the job's user on the host: only the bind's :ro can make /site read-only.
    chownSync(join(root, 'allowed/in'), uid, uid);
    chownSync(join(root, 'site'), uid, uid);
    symlinkSync(join(root, 'outside'), join(root, 'allowed/escape'));
    // An allowed image behind a symlink (as /cvmfs/…:latest), and one outside the allowed tree.
    symlinkSync(join(images, 'busybox-sandbox'), join(root, 'imgs/latest'));
    symlinkSync(join(root, 'imgs/latest'), join(root, 'imgs/el9:latest'));
  });
  afterAll(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  function runJob(job: Job): Result {
    n += 1;
    const jobs = join(root, 'jobs', String(n));
    mkdirSync(jobs, { mode: 0o755 });
    const scratch = join(jobs, job.dirName ?? 'dir_1');
    mkdirSync(scratch, { mode: 0o700 });
    chownSync(scratch, uid, uid);
    const jobAd = join(scratch, '.job.ad');
    const binds = job.jobBinds ?? [];
    writeFileSync(jobAd, `Owner = "${USER}"\n${binds.length > 0 ? `SingularityBind = "${binds.join(',')}"\n` : ''}`, { mode: 0o644 });
    chownSync(jobAd, uid, uid);
    const cfg = join(jobs, 'wrapper.env');
    writeFileSync(cfg, job.config ?? '', { mode: 0o644 });
    const errorFile = join(scratch, '.job_wrapper_failure');
    const env: Record<string, string> = {
      _CONDOR_SCRATCH_DIR: scratch,
      _CONDOR_JOB_IWD: scratch,
      _CONDOR_JOB_AD: jobAd,
      _CONDOR_WRAPPER_ERROR_FILE: errorFile,
      SINGULARITYENV__CONDOR_SCRATCH_DIR: '/srv',
      ...(typeof job.env === 'function' ? job.env(scratch) : job.env),
    };
    const line = [
      job.runtime ?? SING, '-s', 'exec', '-W', scratch, '--pwd', '/srv', '-B', `${scratch}:/srv`,
      ...binds.flatMap((b) => ['-B', b]),
      '--home', scratch, '-C', job.image ?? join(images, 'busybox-sandbox'), '/bin/sh', '-c', job.script,
    ];
    const own = ['--config', cfg, ...(job.explain === true ? ['--explain', '--job-ad', jobAd] : [])];
    const r = spawnSync('runuser', ['-u', USER, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), wrapper, ...own, '--', ...line], {
      cwd: scratch, encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024,
    });
    return { ...r, scratch, ...(existsSync(errorFile) ? { errorFile: readFileSync(errorFile, 'utf8') } : {}) };
  }

  /** `env` output of the payload between the first two `---` markers. */
  function insideEnv(stdout: string): Map<string, string> {
    const part = stdout.split('---\n')[1] ?? '';
    const out = new Map<string, string>();
    for (const rec of part.split('\0')) {
      const i = rec.indexOf('=');
      if (i > 0) out.set(rec.slice(0, i).replace(/^\n/, ''), rec.slice(i + 1));
    }
    return out;
  }

  /** The one line the wrapper printed, with the class and exit code SPEC S7 asks for. */
  function expectJobError(r: Result, code: number, line: string): void {
    expect(r.status).toBe(code);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.errorFile?.trim()).toBe(line);
    expect(r.stdout).toBe('');
  }

  it('an allowed job bind works, a site bind with :ro is really read-only, a pilot\'s SINGULARITY_BINDPATH does not leak', () => {
    const r = runJob({
      config: `CJW_BINDS=${root}/site:/site:ro\nCJW_BIND_ALLOW=${root}/allowed/**\n`,
      jobBinds: [`${root}/allowed/in:/in`],
      env: { SINGULARITY_BINDPATH: '/etc:/hostetc', APPTAINER_BINDPATH: '/etc:/hostetc2' },
      script: 'cat /in/file /site/file; touch /site/x 2>/dev/null && echo SITE-WRITABLE || echo SITE-READONLY; touch /in/new && echo IN-WRITABLE; ls -d /hostetc /hostetc2 2>&1; grep -E " /(in|site) " /proc/self/mountinfo | cut -d" " -f5,6',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['jobdata', 'sitedata', 'SITE-READONLY', 'IN-WRITABLE']);
    expect(r.stdout).toContain('ls: /hostetc: No such file or directory');
    expect(r.stdout).toContain('ls: /hostetc2: No such file or directory');
    expect(r.stdout).toMatch(/^\/in rw,/m);
    expect(r.stdout).toMatch(/^\/site ro,/m);
    expect(existsSync(join(root, 'allowed/in/new'))).toBe(true);
  });

  it('a job bind outside CJW_BIND_ALLOW stops the job with 65 and one line naming the path', () => {
    const r = runJob({ config: `CJW_BIND_ALLOW=${root}/allowed/**\n`, jobBinds: ['/etc/ssl:/ssl'], script: 'echo RAN' });
    expectJobError(r, 65, `condor-job-wrapper: job error: job bind /etc/ssl:/ssl (SingularityBind): /etc/ssl matches no CJW_BIND_ALLOW glob (${root}/allowed/**)`);
  });

  it('a job bind through a symlink out of the allowed tree is 65, naming what it resolves to', () => {
    const r = runJob({ config: `CJW_BIND_ALLOW=${root}/allowed/**\n`, jobBinds: [`${root}/allowed/escape:/in`], script: 'cat /in/secret' });
    expectJobError(r, 65, `condor-job-wrapper: job error: job bind ${root}/allowed/escape:/in (SingularityBind): ${root}/allowed/escape (it resolves to ${root}/outside) matches no CJW_BIND_ALLOW glob (${root}/allowed/**)`);
  });

  it('a job bind matching CJW_BIND_DENY through ".." is 65', () => {
    const r = runJob({ config: `CJW_BIND_DENY=${root}/outside/**\n`, jobBinds: [`${root}/allowed/../outside/secret:/s`], script: 'cat /s' });
    expectJobError(r, 65, `condor-job-wrapper: job error: job bind ${root}/allowed/../outside/secret:/s (SingularityBind): ${root}/allowed/../outside/secret (it resolves to ${root}/outside/secret) matches the CJW_BIND_DENY glob ${root}/outside/**`);
  });

  it('a required site bind whose source is missing is 66; an optional one is skipped with a warning', () => {
    const r = runJob({ config: `CJW_BINDS=${root}/nope!\n`, script: 'echo RAN' });
    expectJobError(r, 66, `condor-job-wrapper: job error: site bind ${root}/nope! (CJW_BINDS): the source ${root}/nope does not exist (or this user cannot reach it); it is marked required with "!"`);
    const ok = runJob({ config: `CJW_BINDS=${root}/nope\n`, script: 'echo RAN' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe('RAN\n');
    expect(ok.stderr).toBe(`condor-job-wrapper: warning: site bind ${root}/nope (CJW_BINDS): source ${root}/nope does not exist, skipped\n`);
  });

  it('image policy: a symlinked allowed image runs as its realpath; others are 65, a missing one 66', () => {
    const allow = `CJW_IMAGE_ALLOW=${images}/**\n`;
    const ok = runJob({ config: allow, image: join(root, 'imgs/el9:latest'), script: 'echo "$SINGULARITY_CONTAINER"' });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe(`${images}/busybox-sandbox\n`);
    const outside = runJob({ config: `CJW_IMAGE_ALLOW=${root}/imgs/*\n`, image: join(root, 'imgs/latest'), script: 'echo RAN' });
    expectJobError(outside, 65, `condor-job-wrapper: job error: image ${root}/imgs/latest: ${root}/imgs/latest (it resolves to ${images}/busybox-sandbox) matches no CJW_IMAGE_ALLOW glob (${root}/imgs/*)`);
    const uri = runJob({ config: '', image: 'docker://alpine:3', script: 'echo RAN' });
    expectJobError(uri, 65, 'condor-job-wrapper: job error: image docker://alpine:3: a URI image is fetched from the network and is allowed only when CJW_IMAGE_ALLOW lists it (it is empty)');
    const missing = runJob({ config: '', image: join(images, 'gone.sif'), script: 'echo RAN' });
    expectJobError(missing, 66, `condor-job-wrapper: job error: image ${images}/gone.sif: does not exist`);
  });

  it('the environment inside: dropped, reset, retargeted by whole components, GPU kept, CJW_ENV_SET last, hostile values intact', () => {
    const big = 'v'.repeat(100 * 1024);
    const nl = 'line1\nline2 $(id) `id`';
    const r = runJob({
      config: 'CJW_ENV_SET="SITE_VAR=hello,JOB_VAR=site-wins"\n',
      env: {
        LD_LIBRARY_PATH: '/pilot/lib', SINGULARITYENV_LD_LIBRARY_PATH: '/pilot/lib', PYTHONPATH: '/pilot/py', SINGULARITYENV_PYTHONPATH: '/pilot/py',
        SINGULARITYENV_PATH: '/evil/bin', SINGULARITYENV_PREPEND_PATH: '/evil/pre', SINGULARITYENV_HOME: '/evil/home',
        JOB_VAR: 'from_submit', SINGULARITYENV_JOB_VAR: 'from_submit',
        CUDA_VISIBLE_DEVICES: '10000', SINGULARITYENV_CUDA_VISIBLE_DEVICES: '10000',
        BIG: big, SINGULARITYENV_BIG: big, NL: nl, SINGULARITYENV_NL: nl,
        SINGULARITY_CONTAINALL: 'false', SINGULARITY_NO_HOME: '1',
      },
      // X509_USER_PROXY is set after the scratch is known (below): it needs the path.
      script: 'echo ---; env -0; echo; echo ---; pwd; echo "HOME=$HOME"',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const env = insideEnv(r.stdout);
    expect(env.get('LD_LIBRARY_PATH')).toBe('/.singularity.d/libs'); // the runtime's own, not the pilot's
    expect(env.has('PYTHONPATH')).toBe(false);
    expect(env.get('PATH')).toBe('/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin:/usr/local/sbin');
    expect(env.get('HOME')).toBe('/srv');
    expect(env.get('JOB_VAR')).toBe('site-wins');
    expect(env.get('SITE_VAR')).toBe('hello');
    expect(env.get('CUDA_VISIBLE_DEVICES')).toBe('10000');
    expect(env.get('_CONDOR_SCRATCH_DIR')).toBe('/srv');
    expect(env.get('_CONDOR_JOB_AD')).toBe('/srv/.job.ad');
    expect(env.get('BIG')).toBe(big);
    expect(env.get('NL')).toBe(nl);
    expect(r.stdout.split('---\n')[2]).toBe(`/srv\nHOME=/srv\n`);
  });

  it('scratch paths are retargeted by whole components: dir_1 is /srv, dir_10 next to it is not', () => {
    const r = runJob({
      dirName: 'dir_1',
      env: (scratch) => ({
        // HTCondor's substring replace would turn the sibling into /srv0/x.
        OTHER: `${dirname(scratch)}/dir_10/x`, SINGULARITYENV_OTHER: '/srv0/x',
        X509_USER_PROXY: `${scratch}/x509up`,
        PATHS: `${scratch}/bin:/usr/bin:${dirname(scratch)}/dir_10/bin`,
      }),
      script: 'echo ---; env -0; echo; echo ---',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const env = insideEnv(r.stdout);
    expect(env.get('OTHER')).toBe(`${dirname(r.scratch)}/dir_10/x`);
    expect(env.get('X509_USER_PROXY')).toBe('/srv/x509up');
    expect(env.get('PATHS')).toBe(`/srv/bin:/usr/bin:${dirname(r.scratch)}/dir_10/bin`);
  });

  it('Singularity 2.6.1 (user namespace, which reads SINGULARITY_BINDPATH too): the same scrub, HOME and scratch paths', () => {
    if (!existsSync(SING26U)) {
      if (IN_CI) throw new Error(`${SING26U} is not installed`);
      console.log(`skipping the 2.6.1 case: ${SING26U} is not installed`);
      return;
    }
    const r = runJob({
      runtime: SING26U,
      config: 'CJW_ENV_SET=SITE_VAR=hello\n',
      env: (scratch) => ({
        SINGULARITY_BINDPATH: '/etc:/hostetc', LD_LIBRARY_PATH: '/pilot/lib', SINGULARITYENV_LD_LIBRARY_PATH: '/pilot/lib',
        SINGULARITYENV_PATH: '/evil/bin', X509_USER_PROXY: `${scratch}/x509up`,
      }),
      script: 'echo ---; env -0; echo; echo ---; ls -d /hostetc 2>&1; true',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const env = insideEnv(r.stdout);
    expect(env.get('HOME')).toBe('/srv');
    expect(env.get('PATH')).toBe('/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin:/usr/local/sbin');
    expect(env.get('LD_LIBRARY_PATH')).toBe('/.singularity.d/libs');
    expect(env.get('X509_USER_PROXY')).toBe('/srv/x509up');
    expect(env.get('SITE_VAR')).toBe('hello');
    expect(r.stdout).toContain('ls: /hostetc: No such file or directory');
  });

  it('--explain names each rule\'s change and reason, runs nothing', () => {
    const r = runJob({
      config: `CJW_BINDS=${root}/site:/site:ro\nCJW_IMAGE_ALLOW=${images}/**\n`,
      image: join(root, 'imgs/el9:latest'),
      env: { SINGULARITY_BINDPATH: '/etc', LD_PRELOAD: '/x.so' },
      explain: true,
      script: 'touch /srv/RAN',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`--bind ${root}/site:/site:ro`);
    expect(r.stdout).toContain('its realpath is used so the job sees one stable image');
    expect(r.stdout).toContain('removed SINGULARITY_BINDPATH from the runtime\'s environment');
    expect(r.stdout).toContain('CJW_ENV_DROP entry LD_PRELOAD');
    expect(r.stdout).toMatch(/--home \S+dir_1 → --home \S+dir_1:\/srv/);
    expect(existsSync(join(r.scratch, 'RAN'))).toBe(false);
  });
});
