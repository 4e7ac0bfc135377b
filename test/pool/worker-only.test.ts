// Real pool with only the worker-node snippet (no access-point.conf, as when the site does not run
// the access point): what HTCondor really does with each error class then.
// - job error: the wrapper keeps its error file hidden from the starter (the job ad lacks
//   CJW_HoldJobErrors), so the job completes with the wrapper's exit code (65) and the error file
//   comes back to the submit dir beside the job's stderr, which has the same line;
// - node error: the file is shown, the starter fails the attempt (VacateReasonCode 1007) and the
//   schedd requeues the job, again on every start: nothing on the worker node can hold it.

import { BREAK_NODE_ATTR, Pool, SIF, SITE, containerJob, describePool, record, siteConfig, submitFile, type WaitResult } from './pool';

describePool('pool: wrapper errors with only the worker node configured', () => {
  const pool = new Pool('worker-only');
  let attr: Promise<WaitResult>;
  let image: Promise<WaitResult>;
  let node: Promise<WaitResult>;

  beforeAll(async () => {
    await pool.prepare();
    pool.start({ accessPoint: false, wrapperEnv: siteConfig() });
    attr = pool.launch('attr', submitFile(['executable = /bin/echo', 'arguments = payload-ran', 'transfer_executable = false', '+ContainerImage = "-x"']), 60, 3);
    image = pool.launch('image', containerJob(SITE.disallowedImage, 'echo payload-ran\n'), 60, 3);
    // Bounded by submit-wait: after the third requeue it removes the job (exit 4).
    node = pool.launch('node', containerJob(SIF, 'echo payload-ran\n', [`+${BREAK_NODE_ATTR} = true`]), 90, 2);
  }, 240_000);
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
    const r = await node;
    pool.explain(r, () => {
      expect(r.status).toBe(4);
      // The polled lines can miss a short idle spell between two starts; the job log has every one.
      const requeues = r.lines.filter((l) => l.includes(' requeued after start '));
      expect(requeues.length).toBeGreaterThanOrEqual(1);
      const log = pool.read(r.dir, 'log');
      const starterErrors = [...log.matchAll(/^021 .*Error from starter.*\n\s+(.*)$/gm)].map((m) => m[1] ?? '');
      expect(starterErrors.length).toBeGreaterThanOrEqual(3);
      for (const e of starterErrors) expect(e).toMatch(/^The job wrapper failed to execute the job: condor-job-wrapper: node error: test hook 10-node-check: exit 1: /);
      expect(log).not.toMatch(/^012 /m);
      for (const l of requeues) expect(l).toMatch(/vacate_code=1007 vacate_reason="Error from \S+: The job wrapper failed to execute the job: condor-job-wrapper: node error: test hook 10-node-check: exit 1: /);
      expect(r.lines.some((l) => l.includes(' held '))).toBe(false);
      expect(pool.read(r.dir, 'out')).not.toContain('payload-ran');
      record('worker-only', 'failed test hook', { version: pool.version, starts: starterErrors.length, held: 'no', seconds: r.seconds.toFixed(1), VacateReason: JSON.stringify(/vacate_reason="(.*)"$/.exec(requeues[0] ?? '')?.[1]) });
    });
  }, 150_000);
});
