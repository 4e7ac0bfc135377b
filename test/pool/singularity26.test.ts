// Real pool, real Singularity 2.6.1 (setuid build): HTCondor's line fails on 2.6.1 as built
// (`-S /var/tmp` with `-C`: "Not mounting requested scratch directory"), and only the wrapper's
// compatibility repair makes it run. The pool keeps HTCondor's default MOUNT_UNDER_SCRATCH and sets
// only what worker-node.conf documents for 2.6: the per-job self test off (2.6.1's `test` takes no
// options) and a sandbox for the startd's probe (personal-condor.conf).

import { Pool, SANDBOX, SIMG, containerJob, describePool, keyValues, record, siteConfig, type WaitResult } from './pool';

const SING26 = '/opt/singularity-2.6.1/bin/singularity';

const FACTS = `echo "contained=$(test -d /.singularity.d && echo yes || echo no)"
echo "uid=$(id -u)"
echo "pwd=$(pwd)"
echo "runtime=$SINGULARITY_NAME"
`;

describePool(
  'pool: container jobs through the wrapper (Singularity 2.6.1, default MOUNT_UNDER_SCRATCH)',
  () => {
    const pool = new Pool('singularity26');
    let sandbox: Promise<WaitResult>;
    let simg: Promise<WaitResult>;

    beforeAll(async () => {
      await pool.prepare();
      pool.start({ accessPoint: true, wrapperEnv: siteConfig(), set: [`SINGULARITY = ${SING26}`, 'SINGULARITY_RUN_TEST_BEFORE_JOB = False'] });
      const mus = pool.tool('condor_config_val', ['MOUNT_UNDER_SCRATCH']).stdout.trim();
      if (mus !== '/tmp,/var/tmp' && mus !== '"/tmp,/var/tmp"') throw new Error(`MOUNT_UNDER_SCRATCH is ${mus}, expected HTCondor's default`);
      sandbox = pool.launch('sandbox', containerJob(SANDBOX, `${FACTS}exit 3\n`));
      simg = pool.launch('simg', containerJob(SIMG, `${FACTS}exit 0\n`));
    }, 240_000);
    afterAll(() => { pool.finish(); }, 60_000);

    function expectContained(r: WaitResult, exit: number, scenario: string): void {
      pool.explain(r, () => {
        expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=${String(exit)}`);
        const out = pool.read(r.dir, 'out');
        const kv = keyValues(out);
        expect(kv.get('contained')).toBe('yes');
        expect(kv.get('uid')).toBe('1001');
        expect(kv.get('pwd')).toBe(pool.major >= 25 ? '/srv/scratch' : '/srv');
        expect(out.split('\n')[0]).toBe('inside-hook: contained=yes');
        expect(pool.read(r.dir, 'err')).toBe('');
        const h = pool.ad(r.cluster, ['ExitCode', 'NumJobStarts']);
        expect(h.ExitCode).toBe(String(exit));
        expect(h.NumJobStarts).toBe('1');
        record('singularity26', scenario, { version: pool.version, ExitCode: h.ExitCode, NumJobStarts: h.NumJobStarts, seconds: r.seconds.toFixed(1) });
      });
    }

    it('runs a sandbox image job contained, exit code 3 in the history', async () => {
      expectContained(await sandbox, 3, 'singularity 2.6.1 sandbox exit 3');
    }, 120_000);

    it('runs a squashfs (simg) image job contained', async () => {
      expectContained(await simg, 0, 'singularity 2.6.1 simg exit 0');
    }, 120_000);
  },
  [SING26],
);
