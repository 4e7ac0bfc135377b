// Nested runs (SPEC S5.1) on the real Apptainer 1.4 of the pool root: Apptainer inside an
// Apptainer container, both as condoruser in user namespaces, and the wrapper itself running in the
// outer container as a pilot's would. The outer image is cheap: a tiny sandbox dir (the busybox
// image's /.singularity.d, passwd/group, Apptainer's session dir) with the root's /usr and
// /etc/apptainer bound in, instead of a copy of the whole root (~1 GB).

import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../e2e/harness';
import {
  APPTAINER, POOL_ROOT, SANDBOX, SIF, UID, asJobUser, condor25Env, condor25Line, describeInRoot, installRootWrapper, keyValues, makeSlot, type Run, type Slot,
} from './root';

/** The outer image: a sandbox dir whose /usr, /etc/apptainer and /img come from the root by binds. */
function outerImage(): { image: string; ms: number } {
  const t0 = Date.now();
  const image = join(tempDir('cjw-rt-outer-'), 'outer');
  for (const d of ['usr', 'etc/apptainer', 'proc', 'sys', 'dev', 'tmp', 'var/tmp', 'home', 'srv', 'img', 'root', 'run', 'var/lib/apptainer/mnt/session']) {
    mkdirSync(join(image, d), { recursive: true, mode: 0o755 });
  }
  for (const l of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${l}`, join(image, l));
  for (const f of ['passwd', 'group']) writeFileSync(join(image, 'etc', f), readFileSync(join(POOL_ROOT, 'etc', f)), { mode: 0o644 });
  for (const f of ['hosts', 'resolv.conf', 'localtime']) writeFileSync(join(image, 'etc', f), '', { mode: 0o644 });
  // A real image carries /.singularity.d (the wrapper's nested evidence); take the busybox image's.
  cpSync(join(POOL_ROOT, SANDBOX.slice(1), '.singularity.d'), join(image, '.singularity.d'), { recursive: true, verbatimSymlinks: true });
  return { image, ms: Date.now() - t0 };
}

const INNER = ['/bin/sh', '-c', 'echo "uid=$(id -u)"; echo "pid=$$"; echo "pidns=$(readlink /proc/self/ns/pid)"; echo "map=$(cat /proc/self/uid_map | tr -s " " | sed "s/^ //")"; echo "pwd=$(pwd)"'];

/** Prints the outer container's PID namespace, then runs its arguments (in the same run: ids are reused). */
const OUTER_NS = ['/bin/sh', '-c', 'echo "outerns=$(readlink /proc/self/ns/pid)"; exec "$@"', 'sh'];

describeInRoot('nested: Apptainer 1.4 inside Apptainer 1.4, as condoruser (user namespaces on both levels)', () => {
  let outer = '';
  let wrapperDir = '';
  let wrapper = '';

  beforeAll(() => {
    const o = outerImage();
    outer = o.image;
    console.log(`outer image built in ${String(o.ms)} ms (${outer})`);
    wrapperDir = tempDir('cjw-rt-nwrap-');
    wrapper = installRootWrapper(wrapperDir);
    writeFileSync(join(wrapperDir, 'wrapper.env'), 'CJW_IMAGE_ALLOW=/img/**\n', { mode: 0o644 });
  });

  /** `argv` inside the outer container (-C: its own /tmp, so the dirs it needs are bound). */
  function inOuter(argv: readonly string[], binds: readonly string[] = [], outerFlags: readonly string[] = ['-C']): Run {
    const b = ['/usr', '/etc/apptainer', '/img', wrapperDir, ...binds].flatMap((d) => ['-B', d]);
    return asJobUser([APPTAINER, '-s', 'exec', ...outerFlags, ...b, outer, ...argv]);
  }

  /** The wrapper in the outer container with the starter's environment (env -i: the outer -C cleaned it). */
  function wrapperInOuter(s: Slot, line: readonly string[], own: readonly string[] = []): Run {
    const env = Object.entries(condor25Env(s)).map(([k, v]) => `${k}=${v}`);
    return inOuter(['/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', ...env, '/bin/sh', '-c', 'echo "outerns=$(readlink /proc/self/ns/pid)"; cd "$0" && exec "$@"', s.scratch, wrapper, '--config', join(wrapperDir, 'wrapper.env'), ...own, ...line], [dirname(s.slot)]);
  }

  it('bare: the inner -C works nested on 1.4 (own PID namespace, uid 4242, uid map "4242 4242 1"); so do -u -C and a SIF', () => {
    const t0 = Date.now();
    const r = inOuter([...OUTER_NS, APPTAINER, '-s', 'exec', '-C', SANDBOX, ...INNER]);
    const ms = Date.now() - t0;
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv.get('uid')).toBe(String(UID));
    expect(kv.get('map')).toBe(`${String(UID)} ${String(UID)} 1`);
    expect(kv.get('pidns')).toMatch(/^pid:\[\d+\]$/);
    expect(kv.get('pidns')).not.toBe(kv.get('outerns'));
    console.log(`nested bare run (outer + inner container): ${String(ms)} ms`);
    const u = inOuter([APPTAINER, '-s', 'exec', '-u', '-C', SANDBOX, '/bin/echo', 'inner-u-ok']);
    expect(u.stdout).toBe('inner-u-ok\n');
    const sif = inOuter([APPTAINER, '-s', 'exec', '-C', SIF, '/bin/echo', 'inner-sif-ok']);
    expect(sif.stdout).toBe('inner-sif-ok\n');
  });

  it('bare: --contain --ipc --cleanenv (the wrapper\'s nested replacement of -C) also runs, in the outer PID namespace', () => {
    const r = inOuter([...OUTER_NS, APPTAINER, '-s', 'exec', '--contain', '--ipc', '--cleanenv', SANDBOX, ...INNER]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv.get('pidns')).toMatch(/^pid:\[\d+\]$/);
    expect(kv.get('pidns')).toBe(kv.get('outerns'));
  });

  it('the wrapper inside the outer container (unprivileged Apptainer) keeps -C: the job runs at /srv/scratch in its own PID namespace, writing its scratch dir', () => {
    const s = makeSlot();
    const line = condor25Line(s, SANDBOX, ['/bin/sh', '-c', 'echo "pwd=$(pwd)"; echo "uid=$(id -u)"; echo "scratch=$_CONDOR_SCRATCH_DIR"; echo "pidns=$(readlink /proc/self/ns/pid)"; echo nested >"$_CONDOR_SCRATCH_DIR/out"']);
    const plan = wrapperInOuter(s, line, ['--explain']);
    expect(plan.stderr).toBe('');
    expect(plan.status).toBe(0);
    expect(plan.stdout).not.toContain('[nested]');
    expect(plan.stdout).toContain('"-C"');
    const r = wrapperInOuter(s, line);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv.get('pidns')).not.toBe(kv.get('outerns'));
    expect(kv.get('pwd')).toBe('/srv/scratch');
    expect(kv.get('uid')).toBe(String(UID));
    expect(kv.get('scratch')).toBe('/srv/scratch');
    expect(readFileSync(join(s.scratch, 'out'), 'utf8')).toBe('nested\n');
  });

  it('--check inside the outer container: nested found, the unprivileged runtime ok, user namespaces available (exit 0)', () => {
    writeFileSync(join(wrapperDir, 'check.env'), `CJW_RUNTIME=${APPTAINER}\n`, { mode: 0o644 });
    const r = inOuter(['/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', wrapper, '--config', join(wrapperDir, 'check.env'), '--check']);
    expect(r.stdout).toContain('ok    nested: inside a container (/.singularity.d exists): -C stays for job users (an unprivileged Apptainer makes its PID namespace nested too)');
    expect(r.stdout).toMatch(/ok {4}privileges: unprivileged runtime .*user namespaces available/);
    expect(r.stdout).toContain(`ok    runtime ${APPTAINER}: Apptainer 1.4.`);
    expect(r.status).toBe(0);
  });
});
