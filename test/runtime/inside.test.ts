// Inside hooks in a real container (SPEC S6) on the real Apptainer 1.4 of the pool root, payloads
// as the unprivileged condoruser, with a sandbox and a SIF image. The generated launcher runs the
// site's inside hooks in the container, before the payload and in its output stream; a failing
// hook stops the job with 69 and writes the error line through the scratch bind; a hanging one is
// killed at the timeout with its children, inside the container.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../e2e/harness';
import { JOB_USER, SANDBOX, SIF, UID, asJobUser, condor25Env, condor25Line, describeInRoot, installRootWrapper, makeSlot, type Run, type Slot } from './root';

/** Root-owned inside hooks and the config naming them. */
function hooks(list: Record<string, string>, extraConfig = ''): string {
  const dir = tempDir('cjw-rt-inside-');
  const hookDir = join(dir, 'inside.d');
  mkdirSync(hookDir, { mode: 0o755 });
  for (const [name, body] of Object.entries(list)) {
    writeFileSync(join(hookDir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(hookDir, name), 0o755);
  }
  const config = join(dir, 'wrapper.env');
  writeFileSync(config, `CJW_INSIDE_DIR=${hookDir}\n${extraConfig}`, { mode: 0o644 });
  return config;
}

describeInRoot('inside hooks on the real Apptainer 1.4, payload as condoruser', () => {
  let wrapper = '';
  beforeAll(() => {
    wrapper = installRootWrapper(tempDir('cjw-rt-inside-w-'));
  });

  function runJob(s: Slot, image: string, config: string, payload: string[]): Run {
    const env = condor25Env(s, { JOB_SECRET: 'from-the-job', APPTAINERENV_JOB_SECRET: 'from-the-job' });
    return asJobUser([wrapper, '--config', config, ...condor25Line(s, image, payload)], env, s.scratch);
  }

  it.each([['sandbox', SANDBOX], ['SIF', SIF]])('%s: runs the inside hooks in the container, in order, before the payload, as the job user', (_n, image) => {
    const s = makeSlot();
    const cfg = hooks({
      '10-where': 'echo "hook 10: uid=$(id -u) stage=$CJW_STAGE scratch=$CJW_SCRATCH slot=$CJW_SLOT job=${JOB_SECRET-unset} in-container=$([ -d /.singularity.d ] && echo yes)"',
      '20-ro': 'touch "${0%/*}/x" 2>/dev/null && echo "hook dir writable" || echo "hook 20: hook dir read-only"',
    });
    const r = runJob(s, image, cfg, ['/bin/sh', '-c', 'echo "payload: $1 $2 in $(pwd) (job=$JOB_SECRET)"', 'sh', 'a b', "it's"]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`hook 10: uid=${String(UID)} stage=inside scratch=/srv/scratch slot=slot1_1 job=unset in-container=yes\nhook 20: hook dir read-only\npayload: a b it's in /srv/scratch (job=from-the-job)\n`);
    expect(existsSync(s.errorFile)).toBe(false);
  });

  it('a failing inside hook: exit 69, the error line in the error file (written from inside), no payload', () => {
    const s = makeSlot();
    const r = runJob(s, SANDBOX, hooks({ '10-bad': 'echo "no /cvmfs/cms.cern.ch in the image" >&2; exit 5' }), ['/bin/echo', 'PAYLOAD']);
    const line = 'condor-job-wrapper: node error: inside hook 10-bad: exit 5';
    expect(r.status).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`no /cvmfs/cms.cern.ch in the image\n${line}\n`);
    expect(readFileSync(s.errorFile, 'utf8')).toBe(`${line}\n`);
  });

  it('a hanging inside hook is killed at CJW_HOOK_TIMEOUT with its children, and the job stops with 69', () => {
    const s = makeSlot();
    const t0 = Date.now();
    const r = runJob(s, SANDBOX, hooks({ '10-hang': 'sleep 93 & sleep 94' }, 'CJW_HOOK_TIMEOUT=1\n'), ['/bin/sh', '-c', 'echo PAYLOAD']);
    expect(Date.now() - t0).toBeLessThan(15000);
    expect(r.status).toBe(69);
    expect(r.stdout).toBe('');
    expect(readFileSync(s.errorFile, 'utf8')).toBe('condor-job-wrapper: node error: inside hook 10-hang: killed after the 1 s timeout (CJW_HOOK_TIMEOUT)\n');
    // The container's PID namespace is gone with the job; nothing of the hook survives on the host.
    const left = asJobUser(['/bin/sh', '-c', `ps -u ${JOB_USER} -o args= || true`]).stdout;
    expect(left).not.toMatch(/sleep 9[34]/);
  });
});
