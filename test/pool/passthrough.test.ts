// Real pool: a vanilla job (no container) goes through the wrapper untouched and its exit status
// (a code or a signal) reaches HTCondor's history.

import { existsSync } from 'node:fs';
import { IN_CI, STATIC_BASH } from '../e2e/harness';
import { Pool, STATIC_FRONT_ATTR, describePool, record, submitFile, type WaitResult, SETUP_TIMEOUT_MS } from './pool';

describePool('pool: vanilla jobs pass through the wrapper', () => {
  const pool = new Pool('passthrough');
  let exit37: Promise<WaitResult>;
  let args: Promise<WaitResult>;
  let signal: Promise<WaitResult>;
  let preloadDynamic: Promise<WaitResult>;
  let preloadStatic: Promise<WaitResult> | undefined;

  beforeAll(async () => {
    await pool.prepare();
    pool.start({ accessPoint: true, wrapperEnv: '# pool suite: defaults only\n' });
    exit37 = pool.launch('vanilla', submitFile(['executable = /bin/sh', 'arguments = "-c \'echo vanilla-ran; test -e /.singularity.d && echo CONTAINED; exit 37\'"', 'transfer_executable = false']));
    args = pool.launch('vanilla-args', submitFile(['executable = /bin/echo', 'arguments = "hello \'two words\' tab""quote x*y"']));
    signal = pool.launch('vanilla-signal', submitFile(['executable = /bin/sh', 'arguments = "-c \'kill -KILL $$\'"', 'transfer_executable = false']));
    // A job that names a library in LD_PRELOAD: which processes load it? (docs/deployment.md, "Hardening")
    const preload = ['executable = /bin/echo', 'arguments = payload-ran', 'transfer_executable = false', 'environment = "LD_PRELOAD=/nonexistent/cjw-preload.so"'];
    preloadDynamic = pool.launch('preload-dynamic', submitFile(preload));
    if (existsSync(STATIC_BASH)) preloadStatic = pool.launch('preload-static', submitFile([...preload, `+${STATIC_FRONT_ATTR} = true`]));
  }, SETUP_TIMEOUT_MS);
  afterAll(() => {
    pool.finish();
  }, 60_000);

  it('runs the payload uncontained and HTCondor records its exit code 37', async () => {
    const r = await exit37;
    pool.explain(r, () => {
      expect(r.status).toBe(0);
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=37`);
      expect(pool.read(r.dir, 'out')).toBe('vanilla-ran\n');
      expect(pool.read(r.dir, 'err')).toBe('');
      const h = pool.ad(r.cluster, ['ExitCode', 'NumJobStarts', 'JobStatus']);
      expect(h.ExitCode).toBe('37');
      expect(h.JobStatus).toBe('4');
      record('passthrough', 'vanilla exit 37', { version: pool.version, ExitCode: h.ExitCode, NumJobStarts: h.NumJobStarts, seconds: r.seconds.toFixed(1) });
    });
  }, 120_000);

  it('passes a transferred executable and its arguments byte for byte', async () => {
    const r = await args;
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=0`);
      expect(pool.read(r.dir, 'out')).toBe('hello two words tab"quote x*y\n');
    });
  }, 120_000);

  it('records a payload killed by a signal as killed by that signal', async () => {
    const r = await signal;
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed killed_by_signal=9`);
      const h = pool.ad(r.cluster, ['ExitBySignal', 'ExitSignal']);
      expect(h.ExitBySignal).toBe('true');
      expect(h.ExitSignal).toBe('9');
      record('passthrough', 'vanilla killed by SIGKILL', { version: pool.version, ExitBySignal: h.ExitBySignal, ExitSignal: h.ExitSignal });
    });
  }, 120_000);

  /**
   * The job ran, and the dynamic linker said `loads` times that it could not load the job's
   * LD_PRELOAD library: one line per process that tried.
   */
  function expectPreloadLoads(r: WaitResult, loads: number, front: string): void {
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=0`);
      expect(pool.read(r.dir, 'out')).toBe('payload-ran\n');
      const seen = (pool.read(r.dir, 'err').match(/ERROR: ld\.so: object '\/nonexistent\/cjw-preload\.so' from LD_PRELOAD cannot be preloaded/g) ?? []).length;
      expect(seen).toBe(loads);
      record('passthrough', `LD_PRELOAD, ${front} front`, { version: pool.version, loads: seen });
    });
  }

  it('a job\'s LD_PRELOAD reaches the front\'s dynamically linked bash (and the uncontained payload, its own)', async () => {
    expectPreloadLoads(await preloadDynamic, 2, '/bin/bash');
  }, 120_000);

  if (IN_CI || existsSync(STATIC_BASH)) {
    it('with the static bash on the first line, only the payload itself loads it', async () => {
      if (preloadStatic === undefined) throw new Error(`${STATIC_BASH} is missing (CI installs bash-static)`);
      expectPreloadLoads(await preloadStatic, 1, STATIC_BASH);
    }, 120_000);
  } else {
    it.skip(`static bash front: needs ${STATIC_BASH} (Debian: apt install bash-static)`, () => undefined);
  }
});
