// Real pool: a vanilla job (no container) goes through the wrapper untouched and its exit code
// reaches HTCondor's history.

import { Pool, describePool, record, submitFile } from './pool';

describePool('pool: vanilla jobs pass through the wrapper', () => {
  const pool = new Pool('passthrough');

  beforeAll(async () => {
    await pool.prepare();
    pool.start({ accessPoint: true, wrapperEnv: '# pool suite: defaults only\n' });
  }, 240_000);
  afterAll(() => { pool.finish(); }, 60_000);

  it('runs the payload uncontained and HTCondor records its exit code 37', () => {
    const r = pool.submitWait('vanilla', submitFile(['executable = /bin/sh', 'arguments = "-c \'echo vanilla-ran; test -e /.singularity.d && echo CONTAINED; exit 37\'"', 'transfer_executable = false']));
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

  it('passes a transferred executable and its arguments byte for byte', () => {
    const r = pool.submitWait('vanilla-args', submitFile(['executable = /bin/echo', 'arguments = "hello \'two words\' tab""quote x*y"']));
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=0`);
      expect(pool.read(r.dir, 'out')).toBe('hello two words tab"quote x*y\n');
    });
  }, 120_000);
});
