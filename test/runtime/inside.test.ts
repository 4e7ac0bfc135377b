// Inside hooks in a real container (SPEC S6): the bundle in front of the real Singularity 3.4.2
// (setuid, and -u user namespace), payloads run as the unprivileged condoruser. The generated
// launcher runs the site's inside hooks in the container, before the payload and in its output
// stream; a failing hook stops the job with 69 and writes the error line through the scratch
// bind; a hanging one is killed at the timeout with its children, inside the container.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IN_CI, installWrapper, tempDir } from '../e2e/harness';

const SING34 = '/opt/singularity-3.4.2/bin/singularity';
const SANDBOX = '/opt/cjw-test/images/busybox-sandbox';
const JOB_USER = 'condoruser';

function uidOf(user: string): number | undefined {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

const UID = uidOf(JOB_USER);
const MISSING = process.getuid?.() !== 0 ? 'not root (payloads run as condoruser through runuser)'
  : UID === undefined ? `no user ${JOB_USER}`
  : !existsSync(SING34) ? `${SING34} is missing (bash ../shared/runtimes/install.sh)`
  : !existsSync(SANDBOX) ? `${SANDBOX} is missing (bash ../shared/runtimes/make-images.sh /opt/cjw-test/images)`
  : undefined;
if (MISSING !== undefined && IN_CI) throw new Error(`runtime suite inside hooks: ${MISSING} (CI=true: the fixtures must be installed)`);
if (MISSING !== undefined) console.log(`skipping runtime suite inside hooks: ${MISSING}`);

interface Sandbox {
  readonly dir: string;
  readonly scratch: string;
  readonly errorFile: string;
  readonly config: string;
}

/** A job sandbox owned by the job user (0700, as HTCondor makes it) and root-owned hooks. */
function sandbox(hooks: Record<string, string>, extraConfig = ''): Sandbox {
  const dir = tempDir('cjw-rt-inside-');
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch);
  chownSync(scratch, UID ?? 0, UID ?? 0);
  chmodSync(scratch, 0o700);
  const hookDir = join(dir, 'inside.d');
  mkdirSync(hookDir, { mode: 0o755 });
  for (const [name, body] of Object.entries(hooks)) {
    writeFileSync(join(hookDir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(hookDir, name), 0o755);
  }
  const config = join(dir, 'wrapper.env');
  writeFileSync(config, `CJW_INSIDE_DIR=${hookDir}\n${extraConfig}`, { mode: 0o644 });
  return { dir, scratch, errorFile: join(scratch, '.job_wrapper_failure'), config };
}

(MISSING === undefined ? describe : describe.skip).each([
  { label: 'Singularity 3.4.2 setuid', flags: [] as string[] },
  { label: 'Singularity 3.4.2 -u (user namespace)', flags: ['-u'] },
])('inside hooks with the real $label, payload as condoruser', ({ flags }) => {
  const wrapper = MISSING === undefined ? installWrapper('/usr/bin/node') : '';

  function runJob(s: Sandbox, payload: string[]): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
    const line = [SING34, '-s', 'exec', ...flags, '-C', '-B', `${s.scratch}:/srv`, '--pwd', '/srv', SANDBOX, ...payload];
    const env = [`_CONDOR_SCRATCH_DIR=${s.scratch}`, `_CONDOR_WRAPPER_ERROR_FILE=${s.errorFile}`, 'PATH=/usr/bin:/bin', '_CONDOR_SLOT=slot1_3', 'JOB_SECRET=from-the-job', 'SINGULARITYENV_JOB_SECRET=from-the-job'];
    const r = spawnSync('runuser', ['-u', JOB_USER, '--', '/usr/bin/env', '-i', ...env, wrapper, '--config', s.config, ...line], { cwd: s.scratch, encoding: 'utf8', timeout: 60000 });
    return r;
  }

  it('runs the inside hooks in the container, in order, before the payload, as the job user', () => {
    const s = sandbox({
      '10-where': 'echo "hook 10: uid=$(id -u) stage=$CJW_STAGE scratch=$CJW_SCRATCH slot=$CJW_SLOT job=${JOB_SECRET-unset} in-container=$([ -d /.singularity.d ] && echo yes)"',
      '20-ro': 'touch "${0%/*}/x" 2>/dev/null && echo "hook dir writable" || echo "hook 20: hook dir read-only"',
    });
    const r = runJob(s, ['/bin/sh', '-c', 'echo "payload: $1 $2 in $(pwd) (job=$JOB_SECRET)"', 'sh', 'a b', "it's"]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`hook 10: uid=${String(UID)} stage=inside scratch=/srv slot=slot1_3 job=unset in-container=yes\nhook 20: hook dir read-only\npayload: a b it's in /srv (job=from-the-job)\n`);
    expect(existsSync(s.errorFile)).toBe(false);
  });

  it('a failing inside hook: exit 69, the error line in the error file (written from inside), no payload', () => {
    const s = sandbox({ '10-bad': 'echo "no /cvmfs/cms.cern.ch in the image" >&2; exit 5' });
    const r = runJob(s, ['/bin/echo', 'PAYLOAD']);
    const line = 'condor-job-wrapper: node error: inside hook 10-bad: exit 5';
    expect(r.status).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`no /cvmfs/cms.cern.ch in the image\n${line}\n`);
    expect(readFileSync(s.errorFile, 'utf8')).toBe(`${line}\n`);
  });

  it('a hanging inside hook is killed at CJW_HOOK_TIMEOUT with its children, and the job stops with 69', () => {
    const s = sandbox({ '10-hang': 'sleep 93 & sleep 94' }, 'CJW_HOOK_TIMEOUT=1\n');
    const t0 = Date.now();
    const r = runJob(s, ['/bin/sh', '-c', 'echo PAYLOAD; ps -o pid,args']);
    expect(Date.now() - t0).toBeLessThan(15000);
    expect(r.status).toBe(69);
    expect(r.stdout).toBe('');
    expect(readFileSync(s.errorFile, 'utf8')).toBe('condor-job-wrapper: node error: inside hook 10-hang: killed after the 1 s timeout (CJW_HOOK_TIMEOUT)\n');
    // The container's PID namespace is gone with the job; nothing of the hook survives on the host.
    const left = spawnSync('ps', ['-u', JOB_USER, '-o', 'args='], { encoding: 'utf8' }).stdout;
    expect(left).not.toMatch(/sleep 9[34]/);
  });
});
