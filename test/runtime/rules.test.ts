// The binds and image rules end to end (SPEC S5.2, S5.3) on the real Apptainer 1.4 of the pool
// root: the bundle (on the root's Node) in front of HTCondor 25.14's line, the job run as the
// unprivileged condoruser. What apptainer.test.ts does not cover: the refusals (each with its exit
// code and one line), scratch paths retargeted by whole components, and --explain.

import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../e2e/harness';
import { SANDBOX, asJobUser, condor25Env, condor25Line, describeInRoot, insideEnv, installRootWrapper, makeSlot, type Run, type Slot } from './root';

describeInRoot('rules for binds and images on the real Apptainer 1.4 (job as condoruser)', () => {
  let root = '';
  let wrapper = '';

  beforeAll(() => {
    root = tempDir('cjw-rt-rules-');
    wrapper = installRootWrapper(tempDir('cjw-rt-rules-w-'));
    for (const d of ['allowed/in', 'outside', 'imgs']) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
    writeFileSync(join(root, 'outside/secret'), 'secret\n', { mode: 0o644 });
    symlinkSync(join(root, 'outside'), join(root, 'allowed/escape'));
    symlinkSync(SANDBOX, join(root, 'imgs/latest'));
  });

  interface Job {
    readonly config?: string;
    readonly jobBinds?: readonly string[];
    readonly image?: string;
    readonly payload?: readonly string[];
    readonly own?: readonly string[];
    readonly env?: (s: Slot) => Record<string, string>;
  }

  function runJob(job: Job): Run & { slot: Slot; errorFile?: string } {
    const binds = job.jobBinds ?? [];
    const s = makeSlot(`Owner = "condoruser"\n${binds.length > 0 ? `SingularityBind = "${binds.join(',')}"\n` : ''}`);
    const cfg = join(tempDir('cjw-rt-rules-cfg-'), 'wrapper.env');
    writeFileSync(cfg, job.config ?? '', { mode: 0o644 });
    const line = condor25Line(s, job.image ?? SANDBOX, job.payload ?? ['/bin/sh', '-c', 'echo RAN; touch RAN'], binds.flatMap((b) => ['-B', b]));
    const r = asJobUser([wrapper, '--config', cfg, ...(job.own ?? []), ...line], condor25Env(s, job.env?.(s) ?? {}), s.scratch);
    return { ...r, slot: s, ...(existsSync(s.errorFile) ? { errorFile: readFileSync(s.errorFile, 'utf8') } : {}) };
  }

  /** The one line the wrapper printed, in the error file too, and nothing ran. */
  function expectJobError(r: ReturnType<typeof runJob>, code: number, line: string): void {
    expect(r.status).toBe(code);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.errorFile?.trim()).toBe(line);
    expect(r.stdout).toBe('');
    expect(existsSync(join(r.slot.scratch, 'RAN'))).toBe(false);
  }

  it('a job bind through a symlink out of the allowed tree is 65, naming what it resolves to', () => {
    const r = runJob({ config: `CJW_BIND_ALLOW=${root}/allowed/**\n`, jobBinds: [`${root}/allowed/escape:/in`] });
    expectJobError(r, 65, `condor-job-wrapper: job error: job bind ${root}/allowed/escape:/in (SingularityBind): ${root}/allowed/escape (it resolves to ${root}/outside) matches no CJW_BIND_ALLOW glob (${root}/allowed/**)`);
  });

  it('a job bind matching CJW_BIND_DENY through ".." is 65', () => {
    const r = runJob({ config: `CJW_BIND_DENY=${root}/outside/**\n`, jobBinds: [`${root}/allowed/../outside/secret:/s`] });
    expectJobError(r, 65, `condor-job-wrapper: job error: job bind ${root}/allowed/../outside/secret:/s (SingularityBind): ${root}/allowed/../outside/secret (it resolves to ${root}/outside/secret) matches the CJW_BIND_DENY glob ${root}/outside/**`);
  });

  it('a required site bind whose source is missing is 66', () => {
    const r = runJob({ config: `CJW_BINDS=${root}/nope!\n` });
    expectJobError(r, 66, `condor-job-wrapper: job error: site bind ${root}/nope! (CJW_BINDS): the source ${root}/nope does not exist (or this user cannot reach it); it is marked required with "!"`);
  });

  it('image policy: outside CJW_IMAGE_ALLOW (even through a symlink) and a URI are 65', () => {
    const outside = runJob({ config: `CJW_IMAGE_ALLOW=${root}/imgs/*\n`, image: join(root, 'imgs/latest') });
    expectJobError(outside, 65, `condor-job-wrapper: job error: image ${root}/imgs/latest: ${root}/imgs/latest (it resolves to ${SANDBOX}) matches no CJW_IMAGE_ALLOW glob (${root}/imgs/*)`);
    const uri = runJob({ image: 'docker://alpine:3' });
    expectJobError(uri, 65, 'condor-job-wrapper: job error: image docker://alpine:3: a URI image is fetched from the network and is allowed only when CJW_IMAGE_ALLOW lists it (it is empty)');
  });

  it('scratch paths are retargeted by whole components: dir_1 is /srv, dir_10 next to it is not', () => {
    const r = runJob({
      env: (s) => ({
        OTHER: `${dirname(s.slot)}/dir_10/x`, APPTAINERENV_OTHER: '/srv0/x', // HTCondor's substring replace
        X509_USER_PROXY: `${s.scratch}/x509up`,
        PATHS: `${s.scratch}/bin:/usr/bin:${dirname(s.slot)}/dir_10/bin`,
      }),
      payload: ['/bin/sh', '-c', 'echo ---; env -0; echo; echo ---'],
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const env = insideEnv(r.stdout);
    expect(env.get('OTHER')).toBe(`${dirname(r.slot.slot)}/dir_10/x`);
    expect(env.get('X509_USER_PROXY')).toBe('/srv/scratch/x509up');
    expect(env.get('PATHS')).toBe(`/srv/scratch/bin:/usr/bin:${dirname(r.slot.slot)}/dir_10/bin`);
  });

  it('--explain names each rule\'s change and reason, and runs nothing', () => {
    const site = tempDir('cjw-rt-site-');
    const r = runJob({
      config: `CJW_BINDS=${site}:/site:ro\nCJW_IMAGE_ALLOW=/img/**\n`,
      image: join(root, 'imgs/latest'),
      env: () => ({ APPTAINER_BINDPATH: '/etc', LD_PRELOAD: '/x.so' }),
      own: ['--explain'],
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`--bind ${site}:/site:ro`);
    expect(r.stdout).toContain('its realpath is used so the job sees one stable image');
    expect(r.stdout).toContain('removed APPTAINER_BINDPATH from the runtime\'s environment');
    expect(r.stdout).toContain('CJW_ENV_DROP entry LD_PRELOAD');
    expect(r.stdout).toMatch(/--home \S+scratch → --home \S+scratch:\/srv\/scratch/);
    expect(existsSync(join(r.slot.scratch, 'RAN'))).toBe(false);
  });
});
