// Real pool with both snippets (worker-node.conf + access-point.conf): a job error (disallowed
// image, denied bind, bad job attribute) is held after its first start with the wrapper's line as
// the hold reason; a node error (failed test hook, failed inside hook) is requeued, then held
// after CJW_NODE_ERROR_MAX_STARTS starts. docs/troubleshooting-htcondor.md has the table.

import { BREAK_INSIDE_FILE, BREAK_NODE_ATTR, NO_NODE_ATTR, Pool, SIF, SITE, containerJob, describePool, record, siteConfig, submitFile, type WaitResult, SETUP_TIMEOUT_MS } from './pool';

/** submit-wait's "held" line, parsed. */
function held(r: WaitResult): { code: string; subcode: string; reason: string } | undefined {
  const m = new RegExp(`^job ${String(r.cluster)}\\.0 held hold_code=(\\d+) hold_subcode=(\\d+) reason="(.*)"$`).exec(r.lines.find((l) => l.includes(' held ')) ?? '');
  return m === null ? undefined : { code: m[1] ?? '', subcode: m[2] ?? '', reason: m[3] ?? '' };
}

describePool('pool: wrapper errors end on hold (worker node + access point configured)', () => {
  const pool = new Pool('holds');
  let image: Promise<WaitResult>;
  let bind: Promise<WaitResult>;
  let attr: Promise<WaitResult>;
  let node: Promise<WaitResult>;
  let inside: Promise<WaitResult>;
  let selfTest: Promise<WaitResult>;
  let noNode: Promise<WaitResult>;

  beforeAll(async () => {
    await pool.prepare();
    pool.start({ accessPoint: true, wrapperEnv: siteConfig() });
    image = pool.launch('image', containerJob(SITE.disallowedImage, 'echo payload-ran\n'), 90, 5);
    bind = pool.launch('bind', containerJob(SIF, 'echo payload-ran\n', ['+SingularityBind = "/var/log"']), 90, 5);
    // Wrapper-built mode (the starter did not containerize: no SingularityImage), a bad image attribute.
    attr = pool.launch('attr', submitFile(['executable = /bin/echo', 'arguments = payload-ran', 'transfer_executable = false', '+ContainerImage = "-x"']), 90, 5);
    node = pool.launch('node', containerJob(SIF, 'echo payload-ran\n', [`+${BREAK_NODE_ATTR} = true`]), 120, 10);
    inside = pool.launch('inside', containerJob(SIF, 'echo payload-ran\n', [], { [BREAK_INSIDE_FILE]: 'x\n' }), 120, 10);
    noNode = pool.launch('no-node', containerJob(SIF, 'echo payload-ran\n', [`+${NO_NODE_ATTR} = true`]), 120, 10);
    // A missing image: the starter's own self test fails before the wrapper runs.
    selfTest = pool.launch('self-test', containerJob(`${SITE.drop}/no-such-image.sif`, 'echo payload-ran\n'), 120, 10);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => { pool.finish(); }, 60_000);

  /** Held for a job error: once started, code 26 subcode 1, the wrapper's line as the reason. */
  function expectJobErrorHold(r: WaitResult, scenario: string, text: RegExp): void {
    pool.explain(r, () => {
      expect(r.status).toBe(2);
      const h = held(r);
      expect(h).toBeDefined();
      expect(h?.code).toBe('26');
      expect(h?.subcode).toBe('1');
      expect(h?.reason).toMatch(/The job wrapper failed to execute the job: condor-job-wrapper: job error: /);
      expect(h?.reason).toMatch(text);
      const ad = pool.ad(r.cluster, ['NumJobStarts', 'HoldReason', 'VacateReasonCode', 'NumJobCoolDowns', 'JobStatus']);
      expect(ad.JobStatus).toBe('5');
      expect(ad.NumJobStarts).toBe('1');
      expect(ad.VacateReasonCode).toBe('1007');
      expect(ad.HoldReason).toBe(h?.reason);
      const log = pool.read(r.dir, 'log');
      expect(log).toMatch(/^021 .*Error from starter/m);
      expect(log).toMatch(/^012 .*Job was held\.\n\s+Error from .*condor-job-wrapper: job error: /m);
      expect(pool.read(r.dir, 'out')).not.toContain('payload-ran');
      record('holds', scenario, { version: pool.version, HoldReasonCode: h?.code, HoldReasonSubCode: h?.subcode, NumJobStarts: ad.NumJobStarts, NumJobCoolDowns: ad.NumJobCoolDowns, seconds: r.seconds.toFixed(1), HoldReason: JSON.stringify(h?.reason) });
    });
  }

  /** Requeued on node errors, then held: code 26 subcode 2, after CJW_NODE_ERROR_MAX_STARTS (3) starts. */
  function expectNodeErrorHold(r: WaitResult, scenario: string, text: RegExp): void {
    pool.explain(r, () => {
      expect(r.status).toBe(2);
      // submit-wait sees a requeue only when one of its polls falls in the short idle spell
      // between two starts (a loaded CI machine misses some); the job log records every one.
      for (const l of r.lines.filter((x) => x.includes(' requeued after start '))) {
        expect(l).toMatch(/vacate_code=1007 vacate_reason=".*condor-job-wrapper: node error: /);
      }
      const log = pool.read(r.dir, 'log');
      const starterErrors = [...log.matchAll(/^021 .*Error from starter.*\n\s+(.*)$/gm)].map((m) => m[1] ?? '');
      expect(starterErrors.length).toBeGreaterThanOrEqual(2);
      for (const e of starterErrors) expect(e).toMatch(/^The job wrapper failed to execute the job: condor-job-wrapper: node error: /);
      // Every start ends in an eviction (HTCondor 25 also writes its VacateReasonCode, 1007).
      const evictions = log.match(/^004 .*Job was evicted\..*$/gm) ?? [];
      expect(evictions.length).toBe(starterErrors.length);
      for (const e of evictions) expect(e).toMatch(/Job was evicted\.(?: Code 1007 Subcode 0)?$/);
      const h = held(r);
      expect(h?.code).toBe('26');
      expect(h?.subcode).toBe('2');
      expect(h?.reason).toMatch(/condor-job-wrapper: node error: /);
      expect(h?.reason).toMatch(text);
      expect(h?.reason).toMatch(/\(held after \d+ starts\)$/);
      // The cool-down parks the job after its third start until the hold: exactly 3 starts.
      const ad = pool.ad(r.cluster, ['NumJobStarts', 'JobStatus', 'VacateReasonCode']);
      expect(ad.NumJobStarts).toBe('3');
      expect(ad.VacateReasonCode).toBe('1007');
      expect(pool.read(r.dir, 'out')).not.toContain('payload-ran');
      record('holds', scenario, { version: pool.version, evictions: evictions.length, HoldReasonCode: h?.code, HoldReasonSubCode: h?.subcode, NumJobStarts: ad.NumJobStarts, seconds: r.seconds.toFixed(1), HoldReason: JSON.stringify(h?.reason) });
    });
  }

  it('holds a job whose image CJW_IMAGE_ALLOW does not list (exit 65, job error)', async () => {
    expectJobErrorHold(await image, 'disallowed image', new RegExp(`image ${SITE.disallowedImage}`));
  }, 150_000);

  it('holds a job whose SingularityBind CJW_BIND_ALLOW does not allow (exit 65, job error)', async () => {
    expectJobErrorHold(await bind, 'denied job bind', /\/var\/log/);
  }, 150_000);

  it('holds a job with a bad image attribute, its quotes intact in the hold reason', async () => {
    expectJobErrorHold(await attr, 'bad ContainerImage (wrapper-built)', /ContainerImage: '-x' starts with '-'/);
  }, 150_000);

  it('requeues a job on a node whose test hook fails, then holds it (exit 69, node error)', async () => {
    expectNodeErrorHold(await node, 'failed test hook', /test hook 10-node-check/);
  }, 180_000);

  it('requeues a job whose inside hook fails, then holds it (exit 69, node error)', async () => {
    expectNodeErrorHold(await inside, 'failed inside hook', /inside hook/);
  }, 180_000);

  it('requeues a job on a node whose wrapper cannot find Node, then holds it (exit 70, node error)', async () => {
    expectNodeErrorHold(await noNode, 'Node.js missing (wrapper front)', /Node\.js not found at \/nonexistent\/bin\/node/);
  }, 180_000);

  it('requeues a job whose image is missing (the starter\'s self test fails, the wrapper never runs), then holds it', async () => {
    const r = await selfTest;
    pool.explain(r, () => {
      expect(r.status).toBe(2);
      const h = held(r);
      expect(h?.code).toBe('26');
      expect(h?.subcode).toBe('3');
      expect(h?.reason).toMatch(/Singularity test failed:.*no-such-image\.sif.*\(held after \d+ starts\)$/);
      const ad = pool.ad(r.cluster, ['NumJobStarts', 'VacateReasonCode']);
      // 24.0 reports the failed self test as a starter error (1007); 25.x has its own code (45).
      expect(ad.VacateReasonCode).toBe(pool.major >= 25 ? '45' : '1007');
      expect(ad.NumJobStarts).toBe('3');
      record('holds', 'missing image (starter self test)', { version: pool.version, HoldReasonCode: h?.code, HoldReasonSubCode: h?.subcode, VacateReasonCode: ad.VacateReasonCode, NumJobStarts: ad.NumJobStarts, seconds: r.seconds.toFixed(1), HoldReason: JSON.stringify(h?.reason) });
    });
  }, 180_000);
});
