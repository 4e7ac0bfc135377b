// Runtime compatibility and nested runs on the real runtimes (SPEC S5.1, S5.5, S5.7): the exact
// lines and environments HTCondor 24.0.23 and 25.13.2 handed the wrapper (../shared/htcondor/observed),
// moved onto a fresh scratch dir, run through the bundle in front of the real Singularity 2.6.1
// (setuid and user-namespace builds) and 3.4.2, payloads as the unprivileged condoruser. Each repair
// is shown to be needed: the same line without the wrapper fails on the same runtime.
// Nested: the wrapper itself runs inside an outer Singularity 3.4.2 container (as a pilot would).

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IN_CI, installWrapper, ROOT, tempDir } from '../e2e/harness';

const S26 = '/opt/singularity-2.6.1/bin/singularity';
const S26U = '/opt/singularity-2.6.1-userns/bin/singularity';
const S34 = '/opt/singularity-3.4.2/bin/singularity';
const IMAGES = '/opt/cjw-test/images';
const SANDBOX = join(IMAGES, 'busybox-sandbox');
const SIF = join(IMAGES, 'busybox.sif');
const NESTED = join(IMAGES, 'nested-sandbox');
const OBSERVED = join(ROOT, '../shared/htcondor/observed');
const NODE22 = process.env.CJW_TEST_NODE22 ?? '/opt/cjw-node22/bin/node';
const JOB_USER = 'condoruser';

function uidOf(user: string): number | undefined {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

const UID = uidOf(JOB_USER);

/** Builds the test images once, as the other runtime suites expect them. */
function ensureImages(): void {
  if (existsSync(SIF) && existsSync(SANDBOX) && existsSync(NESTED)) return;
  if (process.getuid?.() !== 0) return;
  spawnSync('bash', [join(ROOT, '../shared/runtimes/make-images.sh'), IMAGES], { stdio: 'ignore', timeout: 300_000 });
}

ensureImages();
const MISSING = process.getuid?.() !== 0 ? 'not root (payloads run as condoruser through runuser)'
  : UID === undefined ? `no user ${JOB_USER}`
  : [S26, S26U, S34].find((p) => !existsSync(p)) !== undefined ? 'the runtimes are missing (bash ../shared/runtimes/install.sh)'
  : !existsSync(SIF) || !existsSync(NESTED) ? `${IMAGES} is incomplete (bash ../shared/runtimes/make-images.sh ${IMAGES})`
  : !existsSync(OBSERVED) ? `${OBSERVED} is missing (../shared beside the checkout)`
  : undefined;
if (MISSING !== undefined && IN_CI) throw new Error(`runtime suite compat: ${MISSING} (CI=true: the fixtures must be installed)`);
if (MISSING !== undefined) console.log(`skipping runtime suite compat: ${MISSING}`);
const describeRt = MISSING === undefined ? describe : describe.skip;

interface Observed {
  /** The starter's argv with the runtime, scratch, image and payload replaced. */
  readonly argv: string[];
  readonly env: string[];
  /** The slot dir (HTCondor 24: the scratch dir itself; 25: its parent). */
  readonly slot: string;
  readonly scratch: string;
}

/** The observed execute dir of a fixture: /tmp/personal-condor-verify/execute/dir_N. */
function observedSlot(argv: readonly string[]): string {
  for (const a of argv) {
    const m = /\/tmp\/personal-condor-verify\/execute\/dir_\d+/.exec(a);
    if (m !== null) return m[0];
  }
  throw new Error('no execute dir in the observed line');
}

/**
 * The observed line and environment moved onto a new slot dir (owned by the job user, 0700, as
 * the starter makes it), with our runtime, image and payload. HTCondor 25's scratch is SLOT/scratch.
 */
function fromObserved(name: string, runtime: string, image: string, payload: string[], extra: { before?: string; flags?: string[] } = {}): Observed {
  const raw = readFileSync(join(OBSERVED, `${name}.wrapper.argv.nul`), 'utf8').replace(/\0$/, '').split('\0');
  const oldSlot = observedSlot(raw);
  const base = tempDir('cjw-rt-compat-');
  const exec = join(base, 'execute');
  mkdirSync(exec, { mode: 0o755 });
  const slot = join(exec, oldSlot.split('/').pop() ?? 'dir_1');
  const v25 = name.startsWith('v25-');
  const scratch = v25 ? join(slot, 'scratch') : slot;
  mkdirSync(scratch, { recursive: true });
  for (const d of new Set([slot, scratch])) {
    chownSync(d, UID ?? 0, UID ?? 0);
    chmodSync(d, 0o700);
  }
  writeFileSync(join(scratch, '.job.ad'), 'Owner = "condoruser"\nClusterId = 1\n');
  writeFileSync(join(scratch, '.machine.ad'), extra.before === 'gpu' ? 'AssignedGPUs = "CUDA0"\n' : 'GPUs = 0\n');
  const move = (s: string): string => s.split(oldSlot).join(slot);
  const imageAt = raw.findIndex((a, i) => i > 2 && (a.startsWith('<images>') || a.startsWith('/cvmfs/') || a.endsWith('.sif')));
  if (imageAt < 0) throw new Error(`no image in ${name}`);
  const flags = raw.slice(1, imageAt).map(move);
  // HTCondor 25 adds --nv --rocm on GPU slots (SINGULARITY_ADD_ROCM_FLAG): the observed slot had none.
  const withFlags = extra.flags === undefined ? flags : [...flags.slice(0, flags.length - 1), ...extra.flags, ...flags.slice(flags.length - 1)];
  const argv = [runtime, ...withFlags, image, ...payload];
  // The fake runtime said "apptainer": HTCondor then writes APPTAINERENV_; for singularity, SINGULARITYENV_.
  const env = readFileSync(join(OBSERVED, `${name}.wrapper.env.txt`), 'utf8').split('\n').filter((l) => l.includes('='))
    .map((l) => move(l.replace(/^APPTAINERENV_/, 'SINGULARITYENV_')))
    .filter((l) => !l.startsWith('CONDOR_STARTER_PID='));
  return { argv, env: [...env, 'PATH=/usr/local/bin:/usr/bin:/bin'], slot, scratch };
}

const PAYLOAD = ['/bin/sh', '-c', 'echo "pwd=$(pwd)"; echo "uid=$(id -u)"; echo "scratch=$_CONDOR_SCRATCH_DIR"; echo "home=$HOME"; echo from-job >"$_CONDOR_SCRATCH_DIR/out.txt" && echo wrote'];

type Result = { status: number | null; stdout: string; stderr: string; ms: number };

function asJobUser(argv: readonly string[], env: readonly string[], cwd: string): Result {
  const t0 = Date.now();
  const r = spawnSync('/usr/sbin/runuser', ['-u', JOB_USER, '--', '/usr/bin/env', '-i', ...env, ...argv], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

// Both runtimes colour their messages even without a terminal.
const ESC = String.fromCharCode(27);
const strip = (s: string): string => s.split(`${ESC}(B`).join('').replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

describeRt('HTCondor lines on the real runtimes, through the bundle, payload as condoruser', () => {
  const wrapper = MISSING === undefined ? installWrapper('/usr/bin/node') : '';
  const config = join(dirname(wrapper), 'wrapper.env');
  if (MISSING === undefined) writeFileSync(config, `CJW_IMAGE_ALLOW=${IMAGES}/**\n`, { mode: 0o644 });

  // The deployment flow: root runs --check once per runtime, which stores its version for the jobs
  // (and for --explain, which never runs the runtime). Jobs would otherwise probe it once each.
  beforeAll(() => {
    for (const rt of [S26, S26U, S34]) {
      const c = join(dirname(wrapper), `check-${rt.split('/')[2] ?? 'x'}.env`);
      writeFileSync(c, `CJW_RUNTIME=${rt}\n`, { mode: 0o644 });
      const r = spawnSync(wrapper, ['--config', c, '--check'], { env: {}, encoding: 'utf8' });
      if (!r.stdout.includes('(version cached in')) throw new Error(`--check did not cache ${rt}: ${r.stdout}`);
    }
  });

  function viaWrapper(o: Observed): Result {
    return asJobUser([wrapper, '--config', config, ...o.argv], o.env, o.scratch);
  }
  function explain(o: Observed): string {
    const r = asJobUser([wrapper, '--config', config, '--explain', '--json', '--', ...o.argv], o.env, o.scratch);
    if (r.status !== 0) throw new Error(`--explain failed: ${r.stderr}`);
    return r.stdout;
  }

  const runtimes26 = [
    { label: '2.6.1 setuid', rt: S26 },
    { label: '2.6.1 user namespace', rt: S26U },
  ];

  describe.each(runtimes26)('Singularity $label', ({ rt }) => {
    it('HTCondor 24 default line (no target dir, scratch under /tmp): fails bare, runs through the wrapper at /srv', () => {
      const o = fromObserved('container-apptainer-launcher', rt, SANDBOX, PAYLOAD);
      expect(o.argv).toEqual(expect.arrayContaining(['-S', '/tmp', '-S', '/var/tmp', '-C']));
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(255);
      expect(strip(bare.stderr)).toContain('Not mounting requested scratch directory (already mounted in container)');

      const r = viaWrapper(o);
      expect(strip(r.stderr)).not.toMatch(/ERROR|ABORT/);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('pwd=/srv\n');
      expect(r.stdout).toContain(`uid=${String(UID)}\n`);
      expect(r.stdout).toContain('scratch=/srv\n');
      expect(r.stdout).toContain('wrote\n');
      expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
      const plan = explain(o);
      expect(plan).toContain('dropped -S /tmp');
      expect(plan).toContain(`bind ${o.scratch} at /srv instead of ${o.scratch}`);
    });

    it('HTCondor 24 line with SINGULARITY_TARGET_DIR=/srv: only the -S flags go', () => {
      const o = fromObserved('container-singularity-3.4.2', rt, SANDBOX, PAYLOAD);
      const r = viaWrapper(o);
      expect(strip(r.stderr)).not.toMatch(/ERROR|ABORT/);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('pwd=/srv\nuid=');
      expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
    });

    it('HTCondor 25 line (slot dir at /srv, scratch at /srv/scratch)', () => {
      const o = fromObserved('v25-container-singularity-3.4.2', rt, SANDBOX, PAYLOAD);
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(255);
      const r = viaWrapper(o);
      expect(strip(r.stderr)).not.toMatch(/ERROR|ABORT/);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('pwd=/srv/scratch\n');
      expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
    });

    it('HTCondor 25 GPU slot line (--nv --rocm): --rocm dropped with one warning, --nv kept', () => {
      const o = fromObserved('v25-container-singularity-3.4.2', rt, SANDBOX, PAYLOAD, { before: 'gpu', flags: ['--nv', '--rocm'] });
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(1);
      expect(strip(bare.stderr)).toContain('ERROR: Unknown option: --rocm');
      const r = viaWrapper(o);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('condor-job-wrapper: warning: dropped runtime flag --rocm: Singularity 2.6.1 has no --rocm');
      expect(strip(r.stderr)).toContain('Could not find any NVIDIA binaries on this host');
      expect(r.stdout).toContain('pwd=/srv/scratch\n');
    });
  });

  describe('Singularity 3.4.2 (setuid)', () => {
    it.each([
      ['HTCondor 24', 'container-singularity-3.4.2', '/srv'],
      ['HTCondor 25', 'v25-container-singularity-3.4.2', '/srv/scratch'],
    ])('%s line: runs unchanged (the plan has no compat change)', (_n, name, pwd) => {
      const o = fromObserved(name, S34, SIF, PAYLOAD);
      const r = viaWrapper(o);
      expect(strip(r.stderr)).not.toMatch(/FATAL|ERROR/);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`pwd=${pwd}\n`);
      expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
      const plan = JSON.parse(explain(o)) as { argv?: string[]; plan?: { argv?: string[] }; changes?: { rule: string }[] };
      const text = JSON.stringify(plan);
      expect(text).not.toContain('"rule":"compat"');
      expect(text).not.toContain('"rule":"nested"');
    });

    it('HTCondor 25 GPU slot line (--nv --rocm): fails bare ("unknown flag: --rocm"), runs through the wrapper', () => {
      const o = fromObserved('v25-container-singularity-3.4.2', S34, SIF, PAYLOAD, { before: 'gpu', flags: ['--nv', '--rocm'] });
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(1);
      expect(strip(bare.stderr)).toContain('unknown flag: --rocm');
      const r = viaWrapper(o);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('condor-job-wrapper: warning: dropped runtime flag --rocm');
      expect(r.stdout).toContain('pwd=/srv/scratch\n');
    });
  });
});

/**
 * An outer container a pilot could run in: the nested-sandbox image (bash, glibc, the runtimes'
 * mount points) plus the few libraries the official Node 22 binary needs, the wrapper and its config.
 */
function outerImage(): { image: string; wrapper: string } {
  const dir = tempDir('cjw-rt-outer-');
  const image = join(dir, 'outer');
  cpSync(NESTED, image, { recursive: true, verbatimSymlinks: true });
  for (const lib of ['libstdc++.so.6', 'libdl.so.2', 'libpthread.so.0']) {
    copyFileSync(realpathSync(join('/lib/x86_64-linux-gnu', lib)), join(image, 'lib/x86_64-linux-gnu', lib));
  }
  mkdirSync(join(image, 'cjw/node'), { recursive: true });
  mkdirSync(join(image, IMAGES), { recursive: true });
  mkdirSync(join(image, 'var/cache/condor-job-wrapper'), { recursive: true });
  installWrapper('/cjw/node/node', join(image, 'cjw'));
  // make-images.sh links usr/bin/env to ../bin/busybox, i.e. /usr/bin/busybox, which does not exist.
  rmSync(join(image, 'usr/bin/env'), { force: true });
  symlinkSync('/bin/busybox', join(image, 'usr/bin/env'));
  writeFileSync(join(image, 'cjw/wrapper.env'), `CJW_IMAGE_ALLOW=${IMAGES}/**\n`, { mode: 0o644 });
  writeFileSync(join(image, 'cjw/check-34.env'), `CJW_RUNTIME=${S34}\n`, { mode: 0o644 });
  writeFileSync(join(image, 'cjw/check-26.env'), `CJW_RUNTIME=${S26}\n`, { mode: 0o644 });
  return { image, wrapper: '/cjw/condor-job-wrapper' };
}

const NESTED_MISSING = MISSING ?? (existsSync(NODE22) ? undefined : `no Node 22 binary at ${NODE22} (the outer image runs the official build)`);
if (NESTED_MISSING !== undefined && MISSING === undefined) {
  if (IN_CI) throw new Error(`runtime suite compat (nested): ${NESTED_MISSING}`);
  console.log(`skipping the nested runs: ${NESTED_MISSING}`);
}

(NESTED_MISSING === undefined ? describe : describe.skip)('nested: the wrapper inside an outer Singularity 3.4.2 container, as condoruser', () => {
  const outer = NESTED_MISSING === undefined ? outerImage() : { image: '', wrapper: '' };

  /** Runs the wrapper in the outer container (no -C there: the slot dir under /tmp stays visible). */
  function inOuter(o: Observed, wrapperArgs: string[] = []): Result {
    const outerLine = [
      S34, '-s', 'exec',
      '-B', '/opt/singularity-3.4.2', '-B', '/opt/singularity-2.6.1', '-B', '/opt/singularity-2.6.1-userns',
      // The node's version cache, as a pilot site would bind it (without it, jobs probe once each).
      '-B', '/var/cache/condor-job-wrapper',
      '-B', `${dirname(realpathSync(NODE22))}:/cjw/node`, '-B', IMAGES,
      outer.image, outer.wrapper, '--config', '/cjw/wrapper.env', ...wrapperArgs, ...o.argv,
    ];
    return asJobUser(outerLine, o.env, o.scratch);
  }

  it('inner setuid 3.4.2 line with -C: the wrapper sees /.singularity.d, adds --userns, replaces -C; the payload runs', () => {
    const o = fromObserved('container-singularity-3.4.2', S34, SANDBOX, PAYLOAD);
    // Without the wrapper the inner setuid runtime cannot start for a normal user.
    const bare = asJobUser([S34, '-s', 'exec', '-B', '/opt/singularity-3.4.2', '-B', IMAGES, outer.image, ...o.argv], o.env, o.scratch);
    expect(bare.status).toBe(1);
    expect(strip(bare.stderr)).toContain('Failed to set effective UID to 0');

    const plan = inOuter(o, ['--explain']);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('/.singularity.d exists');
    expect(plan.stdout).toContain('-C → --contain --ipc --cleanenv');
    expect(plan.stdout).toContain('added --userns');

    const r = inOuter(o);
    expect(strip(r.stderr)).not.toMatch(/FATAL|ERROR/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('pwd=/srv\n');
    expect(r.stdout).toContain(`uid=${String(UID)}\n`);
    expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
  });

  it('inner setuid 2.6.1: a clear node error 69 before the runtime starts, not 2.6\'s privilege abort', () => {
    const o = fromObserved('container-apptainer-launcher', S26, SANDBOX, PAYLOAD);
    const bare = asJobUser([S34, '-s', 'exec', '-B', '/opt/singularity-2.6.1', '-B', IMAGES, outer.image, ...o.argv], o.env, o.scratch);
    expect(bare.status).toBe(255);
    expect(strip(bare.stderr)).toContain('Singularity is not running with appropriate privileges!');

    const r = inOuter(o);
    expect(r.status).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^condor-job-wrapper: node error: container runtime \/opt\/singularity-2\.6\.1\/bin\/singularity: it is a setuid install \(.*action-suid is setuid root\) and the wrapper runs inside a container \(\/\.singularity\.d exists\)/);
    const errFile = o.env.find((e) => e.startsWith('_CONDOR_WRAPPER_ERROR_FILE='))?.split('=')[1] ?? '';
    expect(readFileSync(errFile, 'utf8')).toMatch(/^condor-job-wrapper: node error: container runtime/);
  });

  it('inner 2.6.1-userns with HTCondor 24\'s default line: nested and compat repairs together, the payload runs at /srv', () => {
    const o = fromObserved('container-apptainer-launcher', S26U, SANDBOX, PAYLOAD);
    const r = inOuter(o);
    expect(strip(r.stderr)).not.toMatch(/ERROR|ABORT/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('pwd=/srv\n');
    expect(r.stdout).toContain(`uid=${String(UID)}\n`);
    expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
    const plan = inOuter(o, ['--explain']);
    expect(plan.stdout).toContain('-C → --contain --ipc --cleanenv');
    expect(plan.stdout).toContain('dropped -S /tmp');
    expect(plan.stdout).not.toContain('--userns');
  });

  it('--check inside the outer container: nested found; setuid 3.4.2 ok (--userns), setuid 2.6.1 unhealthy (69)', () => {
    const check = (cfg: string): Result => asJobUser([S34, '-s', 'exec', '-B', '/opt/singularity-3.4.2', '-B', '/opt/singularity-2.6.1', '-B', `${dirname(realpathSync(NODE22))}:/cjw/node`, outer.image, outer.wrapper, '--config', cfg, '--check'], ['PATH=/usr/bin:/bin'], '/');
    const ok = check('/cjw/check-34.env');
    expect(ok.stdout).toContain('ok    nested: inside a container (/.singularity.d exists)');
    expect(ok.stdout).toContain('nested: --userns is added for job users');
    expect(ok.status).toBe(0);
    const bad = check('/cjw/check-26.env');
    expect(bad.status).toBe(69);
    expect(bad.stdout).toContain('FAIL  privileges: /opt/singularity-2.6.1/bin/singularity is a setuid Singularity 2.6');
  });
});
