// Real pool with only the worker-node snippet (no access-point.conf, as when the site does not run
// the access point): what HTCondor really does with each error class then.
// - job error: the wrapper keeps its error file hidden from the starter (the job ad lacks
//   CJW_HoldJobErrors), so the job completes with the wrapper's exit code (65) and the error file
//   comes back to the submit dir beside the job's stderr, which has the same line;
// - node error: the file is shown, the starter fails the attempt (VacateReasonCode 1007) and the
//   schedd requeues the job, again on every start: nothing on the worker node can hold it.

import { BREAK_NODE_ATTR, Pool, SIF, SITE, containerJob, describePool, record, siteConfig, sleep, submitFile, type WaitResult, SETUP_TIMEOUT_MS } from './pool';

describePool('pool: wrapper errors with only the worker node configured', () => {
  const pool = new Pool('worker-only');
  let attr: Promise<WaitResult>;
  let image: Promise<WaitResult>;
  let node: { cluster: number; dir: string } | undefined;

  beforeAll(async () => {
    await pool.prepare();
    pool.start({ accessPoint: false, wrapperEnv: siteConfig() });
    attr = pool.launch('attr', submitFile(['executable = /bin/echo', 'arguments = payload-ran', 'transfer_executable = false', '+ContainerImage = "-x"']), 60, 3);
    image = pool.launch('image', containerJob(SITE.disallowedImage, 'echo payload-ran\n'), 60, 3);
    // Watched through its job log and removed after the third failed start: HTCondor 23.9 restarts
    // a requeued job on the claim it holds within a second or two, too fast for submit-wait's
    // polls of JobStatus to see it idle, so its requeue count is no bound there.
    node = pool.submit('node', containerJob(SIF, 'echo payload-ran\n', [`+${BREAK_NODE_ATTR} = true`]));
  }, SETUP_TIMEOUT_MS);
  afterAll(() => { pool.finish(); }, 60_000);

  function expectCompletedJobError(r: WaitResult, scenario: string, text: RegExp): void {
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=65`);
      const line = pool.read(r.dir, '.job_wrapper_failure');
      expect(line).toMatch(/^condor-job-wrapper: job error: .*\n$/);
      expect(line).toMatch(text);
      expect(pool.read(r.dir, 'err')).toContain(line.trim());
      expect(pool.read(r.dir, 'out')).not.toContain('payload-ran');
      const ad = pool.ad(r.cluster, ['ExitCode', 'NumJobStarts', 'CJW_HoldJobErrors']);
      expect(ad.ExitCode).toBe('65');
      expect(ad.NumJobStarts).toBe('1');
      expect(ad.CJW_HoldJobErrors).toBe('undefined');
      record('worker-only', scenario, { version: pool.version, ExitCode: ad.ExitCode, NumJobStarts: ad.NumJobStarts, errorFile: JSON.stringify(line.trim()), seconds: r.seconds.toFixed(1) });
    });
  }

  it('a job error completes the job with exit 65 and ships the error file back', async () => {
    expectCompletedJobError(await attr, 'bad ContainerImage (wrapper-built)', /job attribute ContainerImage: "-x" starts with "-"/);
  }, 120_000);

  it('a disallowed image completes the job with exit 65 and ships the error file back', async () => {
    expectCompletedJobError(await image, 'disallowed image', new RegExp(`image ${SITE.disallowedImage}`));
  }, 120_000);

  it('a node error requeues the job on every start (never held without the access point snippet)', async () => {
    if (node === undefined) throw new Error('the node-error job was not submitted');
    const job = node;
    const starterErrors = (): string[] => [...pool.read(job.dir, 'log').matchAll(/^021 .*Error from starter.*\n\s+(.*)$/gm)].map((m) => m[1] ?? '');
    const t0 = Date.now();
    await pool.waitFor('three failed starts in the job log', () => starterErrors().length, (n) => n >= 3, 120_000, job.cluster);
    const seconds = (Date.now() - t0) / 1000;
    // 23.9 restarts the job on its claim within 1-3 s: between two starts the schedd's copy may
    // not carry the vacate attributes yet, so read them once they are there (bounded).
    const attrs = ['JobStatus', 'NumJobStarts', 'VacateReasonCode', 'VacateReason'];
    let ad = pool.ad(job.cluster, attrs);
    for (let i = 0; i < 60 && (ad.VacateReasonCode === undefined || ad.VacateReasonCode === 'undefined'); i++) {
      await sleep(500);
      ad = pool.ad(job.cluster, attrs);
    }
    const removed = pool.asUser(['condor_rm', String(job.cluster)]);
    const explain = `${JSON.stringify(ad)}\n${pool.diagnostics(job.cluster, job.dir)}`;
    try {
      expect(removed.status).toBe(0);
      // Idle or running again, never held: nothing on the worker node can hold it.
      expect(['1', '2']).toContain(ad.JobStatus);
      expect(Number(ad.NumJobStarts)).toBeGreaterThanOrEqual(3);
      expect(ad.VacateReasonCode).toBe('1007');
      expect(ad.VacateReason).toMatch(/^Error from \S+: The job wrapper failed to execute the job: condor-job-wrapper: node error: test hook 10-node-check: exit 1: /);
      const errors = starterErrors();
      for (const e of errors) expect(e).toMatch(/^The job wrapper failed to execute the job: condor-job-wrapper: node error: test hook 10-node-check: exit 1: /);
      const log = pool.read(job.dir, 'log');
      expect(log).not.toMatch(/^012 /m);
      expect((log.match(/^004 .*Job was evicted\./gm) ?? []).length).toBeGreaterThanOrEqual(3);
      expect(pool.read(job.dir, 'out')).not.toContain('payload-ran');
      record('worker-only', 'failed test hook', { version: pool.version, starts: errors.length, held: 'no', secondsToThirdStart: seconds.toFixed(1), VacateReason: JSON.stringify(ad.VacateReason) });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${explain}`);
    }
  }, 150_000);
});
