// Real pool (issue 16 item 3, issue 14 item 3): the runtime is named once, in HTCondor. The site's
// SINGULARITY is a runtime under a name of its own (a site's wrapper script would be one), and
// CJW_RUNTIME is unset:
//  - a container job's line agrees with the job ad, so it is the starter's whatever the runtime is
//    called: it runs once, not wrapped a second time in a container of another runtime;
//  - --check finds that runtime through condor_config_val, probes its family and version (never
//    from the name), publishes them in the health ad, and keeps it for wrapper-built jobs.

import { chownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JOB_UID, OPT, Pool, SHIM, SIF, SETUP_TIMEOUT_MS, containerJob, describePool, keyValues, siteConfig, type WaitResult } from './pool';

const SITE_RT = join(OPT, 'site-bin', 'site-container-runtime');
const LOG = join(OPT, 'identity-log.json');

describePool('pool: the runtime is the one HTCondor names (SINGULARITY under a site name)', () => {
  const pool = new Pool('identity');
  let job: Promise<WaitResult>;

  beforeAll(async () => {
    await pool.prepare();
    mkdirSync(join(OPT, 'site-bin'), { recursive: true, mode: 0o755 });
    rmSync(SITE_RT, { force: true });
    symlinkSync('/usr/bin/apptainer', SITE_RT);
    rmSync(LOG, { force: true });
    // The job user appends to the log (CJW_LOG=file: is written by the jobs themselves).
    writeFileSync(LOG, '', { mode: 0o644 });
    chownSync(LOG, JOB_UID, JOB_UID);
    pool.start({
      accessPoint: true,
      wrapperEnv: `${siteConfig()}CJW_MODE=REQUIRED\nCJW_LOG=file:${LOG}\n`,
      set: [`SINGULARITY = ${SITE_RT}`, 'SINGULARITY_TARGET_DIR = /srv'],
    });
    job = pool.launch('identity', containerJob(SIF, 'echo "contained=$(test -d /.singularity.d && echo yes || echo no)"\n'));
  }, SETUP_TIMEOUT_MS);
  afterAll(() => { pool.finish(); }, 60_000);

  it('a container job through a runtime with a site name is the starter\'s line: it runs once, contained', async () => {
    const r = await job;
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=0`);
      expect(keyValues(pool.read(r.dir, 'out')).get('contained')).toBe('yes');
      const rec = readFileSync(LOG, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { dispatch?: string; argv?: string[] }).find((x) => x.dispatch !== undefined);
      expect(rec?.dispatch).toBe('starter-built');
      expect(rec?.argv?.[0]).toBe(SITE_RT);
    });
  }, 180_000);

  it('--check finds HTCondor\'s SINGULARITY, probes its family and version, and publishes them', () => {
    const c = pool.tool(SHIM, ['--check']);
    expect(c.stdout).toContain(`HTCondor's SINGULARITY is ${SITE_RT}`);
    const ad = pool.tool(SHIM, ['--check', '--classad']);
    expect(ad.stdout).toContain(`CJW_Runtime = "${SITE_RT}"`);
    expect(ad.stdout).toContain('CJW_RuntimeFamily = "apptainer"');
    expect(ad.stdout).toMatch(/CJW_RuntimeVersion = "1\.\d+\.\d+"/);
    // Kept for wrapper-built jobs (CJW_RUNTIME unset), root-owned in the root's cache dir.
    const stored = pool.tool('cat', ['/var/cache/condor-job-wrapper/htcondor-singularity']);
    expect(stored.stdout.trim()).toBe(SITE_RT);
  }, 120_000);
});
