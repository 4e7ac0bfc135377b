// Real pool with condor-config/startd-cron-healthcheck.conf: the startd runs
// `condor-job-wrapper --check --classad` periodically (STARTD_CRON); a node whose check fails
// publishes CJW_Healthy = false and stops matching jobs (black-hole protection), and matches again
// once it is fixed. The suite runs the snippet as shipped, only pointing its executable at the
// test install (the shim with the test config) and shortening its period.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_DIR, OPT, Pool, SIF, containerJob, describePool, record, siteConfig, sleep } from './pool';

const SNIPPET = join(CONFIG_DIR, 'startd-cron-healthcheck.conf');

/** The STARTD_CRON job names the snippet defines (STARTD_CRON_<NAME>_EXECUTABLE). */
function cronNames(text: string): string[] {
  return [...text.matchAll(/^\s*STARTD_CRON_(\w+)_EXECUTABLE\s*=/gm)].map((m) => m[1] ?? '').filter((n) => n !== '');
}

if (!existsSync(SNIPPET)) {
  // The snippet belongs to the --check work; until it exists there is nothing to prove here.
  describe('pool: STARTD_CRON health check', () => {
    it.skip(`skipped: ${SNIPPET} does not exist yet`, () => undefined);
  });
  console.log(`skipping pool suite "health check": ${SNIPPET} does not exist yet`);
} else {
  describePool('pool: STARTD_CRON health check takes a broken node out of matching', () => {
    const pool = new Pool('healthcheck');
    const healthy = siteConfig();
    // A runtime that is gone while policy requires a container: --check fails (69).
    const broken = `${healthy}CJW_MODE=REQUIRED\nCJW_RUNTIME=${OPT}/no-such-runtime/singularity\n`;

    const slotHealth = (): string => {
      const out = pool.tool('condor_status', ['-af', 'CJW_Healthy', 'CJW_Reason']).stdout.trim().split('\n')[0] ?? '';
      return out;
    };

    beforeAll(async () => {
      await pool.prepare();
      const names = cronNames(readFileSync(SNIPPET, 'utf8'));
      if (names.length === 0) throw new Error(`${SNIPPET} defines no STARTD_CRON_<NAME>_EXECUTABLE`);
      const set: string[] = [];
      for (const n of names) set.push(`STARTD_CRON_${n}_EXECUTABLE = ${OPT}/shim`, `STARTD_CRON_${n}_PERIOD = 3s`);
      pool.start({ accessPoint: true, wrapperEnv: broken, configFiles: [SNIPPET], set });
    }, 240_000);
    afterAll(() => { pool.finish(); }, 60_000);

    it('publishes CJW_Healthy = false with the reason, and a job does not start there', async () => {
      const v = await pool.waitFor('the slot to publish CJW_Healthy = false', slotHealth, (s) => s.startsWith('false'), 60_000);
      const job = pool.submit('unmatched', containerJob(SIF, 'echo payload-ran\n'));
      await sleep(10_000);
      const ad = pool.ad(job.cluster, ['JobStatus', 'NumJobStarts']);
      expect(ad.JobStatus).toBe('1');
      expect(['0', 'undefined', '']).toContain(ad.NumJobStarts);
      record('healthcheck', 'broken node', { version: pool.version, slot: JSON.stringify(v), JobStatus: ad.JobStatus, NumJobStarts: ad.NumJobStarts, waitedSeconds: 10 });

      // Fixed: the next cron run publishes true, and the waiting job runs.
      pool.writeWrapperEnv(healthy);
      await pool.waitFor('the slot to publish CJW_Healthy = true', slotHealth, (s) => s.startsWith('true'), 60_000);
      await pool.waitFor('the job to complete', () => pool.ad(job.cluster, ['JobStatus', 'ExitCode']), (a) => a.JobStatus === '4', 60_000, job.cluster);
      expect(pool.read(job.dir, 'out')).toContain('payload-ran');
      record('healthcheck', 'fixed node', { version: pool.version, slot: JSON.stringify(slotHealth()) });
    }, 180_000);
  });
}
