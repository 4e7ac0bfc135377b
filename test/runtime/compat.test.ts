// Runtime compatibility (SPEC S5.7) for the lines older HTCondor versions wrote: the exact argv
// and environment HTCondor 24.0.23 and 25.13.2 handed the wrapper for Apptainer
// (../shared/htcondor/observed, a fake runtime named apptainer), moved onto a fresh slot dir and
// run through the bundle in front of the real Apptainer 1.4 of the pool root, as condoruser.
// Where 1.4 fails the line itself, the test shows it bare first. (2.6.1/3.4.2: legacy.test.ts.)

import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../e2e/harness';
import { APPTAINER, POOL_ROOT, SANDBOX, SIF, UID, asJobUser, describeInRoot, installRootWrapper, keyValues, type Run } from './root';

const OBSERVED = join(ROOT, '../shared/htcondor/observed');
/** Debian's condor 25 ships the launcher here (HTCondor's own tree had /opt/htcondor/libexec); 23.9 has none. */
const DEBIAN_LAUNCHER = '/usr/libexec/condor/condor_container_launcher.sh';

/** The starter's launcher to bind: the root's own, else (HTCondor 23.9) a minimal one that execs its arguments. */
function launcherPath(): string {
  if (existsSync(join(POOL_ROOT, DEBIAN_LAUNCHER))) return DEBIAN_LAUNCHER;
  const p = join(tempDir('cjw-rt-launcher-'), 'condor_container_launcher.sh');
  writeFileSync(p, '#!/bin/sh\nexec "$@"\n', { mode: 0o755 });
  return p;
}

interface Observed {
  readonly argv: string[];
  readonly env: string[];
  readonly slot: string;
  readonly scratch: string;
}

/** The observed line and environment on a new slot dir (condoruser, 0700) with the root's runtime, an image and a payload. */
function fromObserved(name: string, image: string, payload: string[], flags: string[] = []): Observed {
  const raw = readFileSync(join(OBSERVED, `${name}.wrapper.argv.nul`), 'utf8').replace(/\0$/, '').split('\0');
  const oldSlot = /\/tmp\/personal-condor-verify\/execute\/dir_\d+/.exec(raw.join('\n'))?.[0];
  if (oldSlot === undefined) throw new Error(`no execute dir in ${name}`);
  const exec = join(tempDir('cjw-rt-compat-'), 'execute');
  mkdirSync(exec, { mode: 0o755 });
  const slot = join(exec, oldSlot.split('/').pop() ?? 'dir_1');
  const scratch = name.startsWith('v25-') ? join(slot, 'scratch') : slot;
  mkdirSync(scratch, { recursive: true });
  for (const d of new Set([slot, scratch])) {
    chownSync(d, UID, UID);
    chmodSync(d, 0o700);
  }
  // The job ad names the line's image: the starter's line agrees with it (SPEC S2).
  writeFileSync(join(scratch, '.job.ad'), `Owner = "condoruser"\nClusterId = 1\nSingularityImage = ${JSON.stringify(image)}\n`, { mode: 0o644 });
  writeFileSync(join(scratch, '.machine.ad'), 'GPUs = 0\n', { mode: 0o644 });
  const launcher = raw.some((a) => a.includes('condor_container_launcher.sh')) ? launcherPath() : '';
  const move = (s: string): string => s.split(oldSlot).join(slot).replace('/opt/htcondor/libexec/condor_container_launcher.sh', launcher);
  const imageAt = raw.findIndex((a, i) => i > 2 && (a.startsWith('/cvmfs/') || a.startsWith('/images/') || a.endsWith('.sif')));
  if (imageAt < 0) throw new Error(`no image in ${name}`);
  const env = readFileSync(join(OBSERVED, `${name}.wrapper.env.txt`), 'utf8').split('\n').filter((l) => l.includes('=')).map(move)
    .filter((l) => !l.startsWith('CONDOR_STARTER_PID='));
  const starterPayload = raw[imageAt + 1] === '/condor_container_launcher.sh' ? ['/condor_container_launcher.sh'] : [];
  return { argv: [APPTAINER, ...raw.slice(1, imageAt).map(move), ...flags, image, ...starterPayload, ...payload], env: [...env, 'PATH=/usr/bin:/bin'], slot, scratch };
}

const PAYLOAD = ['/bin/sh', '-c', 'echo "pwd=$(pwd)"; echo "uid=$(id -u)"; echo "scratch=$_CONDOR_SCRATCH_DIR"; echo "home=$HOME"; echo from-job >"$_CONDOR_SCRATCH_DIR/out.txt" && echo wrote'];

describeInRoot('HTCondor 24.0.23 / 25.13.2 Apptainer lines on the real Apptainer 1.4, through the bundle, payload as condoruser', () => {
  let wrapper = '';
  let config = '';

  beforeAll(() => {
    if (!existsSync(OBSERVED)) throw new Error(`${OBSERVED} is missing (../shared beside the checkout)`);
    const dir = tempDir('cjw-rt-compat-w-');
    wrapper = installRootWrapper(dir);
    config = join(dir, 'wrapper.env');
    writeFileSync(config, 'CJW_IMAGE_ALLOW=/img/**\n', { mode: 0o644 });
  });

  const viaWrapper = (o: Observed): Run => asJobUser([wrapper, '--config', config, ...o.argv], o.env, o.scratch);
  const explain = (o: Observed): string => asJobUser([wrapper, '--config', config, '--explain', '--', ...o.argv], o.env, o.scratch).stdout;

  it.each([
    ['HTCondor 24 default line (slot under /tmp bound at its own path)', 'container-apptainer-launcher', false],
    ['HTCondor 25 launcher line (slot bound at its own path, the starter\'s launcher bound in)', 'v25-container-apptainer-launcher', true],
  ])('%s: 1.4 fails it bare ("doesn\'t exist in container"), the wrapper drops -S /tmp and it runs', (_n, name, launcher) => {
    const o = fromObserved(name, SANDBOX, PAYLOAD);
    expect(o.argv.includes('/condor_container_launcher.sh')).toBe(launcher);
    const bare = asJobUser(o.argv, o.env, o.scratch);
    expect(bare.status).toBe(255);
    expect(bare.stderr).toContain(`doesn't exist in container`);
    const r = viaWrapper(o);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv.get('pwd')).toBe(o.scratch);
    expect(kv.get('uid')).toBe(String(UID));
    expect(kv.get('scratch')).toBe(o.scratch);
    expect(kv.get('home')).toBe(o.scratch);
    expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
    expect(explain(o)).toContain('[compat] dropped -S /tmp');
  });

  it.each([
    ['HTCondor 24', 'container-apptainer-srv', '/srv'],
    ['HTCondor 25', 'v25-container-apptainer-srv', '/srv/scratch'],
  ])('%s line with SINGULARITY_TARGET_DIR=/srv, site binds and --writable-tmpfs (SIF): runs, with no compat change', (_n, name, pwd) => {
    const o = fromObserved(name, SIF, ['/bin/sh', '-c', `${PAYLOAD[2] ?? ''}; touch /newfile && echo writable-tmpfs`]);
    const r = viaWrapper(o);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv.get('pwd')).toBe(pwd);
    expect(kv.get('home')).toBe(pwd);
    expect(r.stdout).toContain('writable-tmpfs\n');
    expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
    expect(explain(o)).not.toContain('[compat]');
  });

  it('HTCondor\'s no-PID-namespace line (--contain --ipc --cleanenv) also has its bind below -S /tmp: repaired the same way', () => {
    const o = fromObserved('v25-container-universe-nopidns', SANDBOX, PAYLOAD);
    expect(asJobUser(o.argv, o.env, o.scratch).status).toBe(255);
    const r = viaWrapper(o);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(keyValues(r.stdout).get('pwd')).toBe(o.scratch);
  });

  it('HTCondor 25 GPU slot line (--nv --rocm) on this GPU-less node: nothing dropped on Apptainer, the job runs', () => {
    const o = fromObserved('v25-container-apptainer-srv', SANDBOX, PAYLOAD, ['--nv', '--rocm']);
    const r = viaWrapper(o);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(explain(o)).not.toContain('dropped --rocm');
  });
});
