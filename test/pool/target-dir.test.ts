// Real pool without SINGULARITY_TARGET_DIR (worker-node.conf sets it to /srv): the starter's
// default line binds the slot dir at its own path (`-B SLOT --pwd SLOT/scratch -C IMAGE`), which
// Apptainer 1.4.5 without setuid (user namespace, no overlay) cannot make inside the image:
// "destination ... doesn't exist in container". What that does, with and without HTCondor's own
// per-job `apptainer test`.

import { Pool, SIF, SETUP_TIMEOUT_MS, containerJob, describePool, keyValues, record, siteConfig, type WaitResult } from './pool';

const FACTS = 'echo "contained=$(test -d /.singularity.d && echo yes || echo no)"\necho "pwd=$(pwd)"\n';
const NO_TARGET = 'SINGULARITY_TARGET_DIR =';

/** submit-wait's "held" line, parsed. */
function held(r: WaitResult): { code: string; subcode: string; reason: string } | undefined {
  const m = new RegExp(`^job ${String(r.cluster)}\\.0 held hold_code=(\\d+) hold_subcode=(\\d+) reason="(.*)"$`).exec(r.lines.find((l) => l.includes(' held ')) ?? '');
  return m === null ? undefined : { code: m[1] ?? '', subcode: m[2] ?? '', reason: m[3] ?? '' };
}

describePool('pool: no SINGULARITY_TARGET_DIR (the slot dir at its own path inside)', () => {
  const pool = new Pool('target-dir');
  let selfTest: Promise<WaitResult>;

  beforeAll(async () => {
    await pool.prepare();
    pool.start({ accessPoint: true, wrapperEnv: siteConfig(), set: [NO_TARGET] });
    selfTest = pool.launch('self-test', containerJob(SIF, `${FACTS}exit 0\n`), 120, 10);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => { pool.finish(); }, 60_000);

  it('the starter\'s own apptainer test fails before the wrapper runs; access-point.conf holds the job after 3 starts (26/3)', async () => {
    const r = await selfTest;
    pool.explain(r, () => {
      expect(r.status).toBe(2);
      const h = held(r);
      expect(h?.code).toBe('26');
      expect(h?.subcode).toBe('3');
      // HTCondor cuts the vacate reason (at about 256 characters) before "doesn't exist in container".
      expect(h?.reason).toMatch(/Singularity test failed:FATAL: +container creation failed: mount hook function failure: mount (\S+)->\1 error: .*\(held after 3 starts\)$/);
      expect(pool.read(r.dir, 'out')).toBe('');
      record('target-dir', 'no SINGULARITY_TARGET_DIR, self test on', { version: pool.version, HoldReasonSubCode: h?.subcode, seconds: r.seconds.toFixed(1), HoldReason: JSON.stringify(h?.reason) });
    });
  }, 180_000);

  // With the self test off, the wrapper gets the default line. Passed on unchanged, Apptainer 1.4.5
  // fails to start the container (exit 255, "FATAL: container creation failed: ... destination
  // .../execute/dir_N doesn't exist in container", recorded as the job's exit code); the wrapper
  // repairs the line, and the payload runs in the slot's scratch dir at its own path.
  it('with the self test off, the wrapper repairs the line so that the job runs contained (exit 0)', async () => {
    pool.start({ accessPoint: true, wrapperEnv: siteConfig(), set: [NO_TARGET, 'SINGULARITY_RUN_TEST_BEFORE_JOB = False'] });
    const r = await pool.launch('no-self-test', containerJob(SIF, `${FACTS}exit 0\n`), 90, 2);
    record('target-dir', 'no SINGULARITY_TARGET_DIR, self test off', { version: pool.version, result: JSON.stringify(r.lines[0]), stderr: JSON.stringify(pool.read(r.dir, 'err').trim().slice(0, 300)) });
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=0`);
      const kv = keyValues(pool.read(r.dir, 'out'));
      expect(kv.get('contained')).toBe('yes');
      expect(kv.get('pwd')).toMatch(new RegExp(`^${pool.state}/execute/dir_\\d+(?:/scratch)?$`));
      expect(pool.read(r.dir, 'err')).toBe('');
    });
  }, 180_000);
});
