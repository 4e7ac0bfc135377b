// Singularity 2.6.1 and 3.4.2 stay supported, but are no longer installed: these tests run the
// bundle in front of a stand-in (test/fixtures/bin/singularity-legacy) that answers --version like
// them and reproduces the exact error texts and exit codes recorded in ../shared/runtimes/README.md.
// The lines and environments are the ones HTCondor 24.0.23 and 25.13.2 really handed the wrapper
// (../shared/htcondor/observed), moved onto a fresh slot dir. Each repair is shown to be needed:
// the same line without the wrapper fails on the stand-in with the recorded message.
// Covered here: compat repairs (S5.7), version probing and the root-written version cache, --check,
// and nested setuid runtimes (S5.1). The payload runs on the host (the stand-in has no container):
// it reports the cwd it would have inside as $STANDIN_PWD.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectSetuidRuntime } from '../../src/facts/host';
import { cacheFile, CACHE_DIR } from '../../src/facts/versionCache';
import { IN_CI, installWrapper, ROOT, tempDir } from '../e2e/harness';

const STANDIN = join(ROOT, 'test/fixtures/bin/singularity-legacy');
const OBSERVED = join(ROOT, '../shared/htcondor/observed');
/** A host user without privileges for the payloads (the pool root's condoruser does not exist on the host). */
const JOB_USER = 'nobody';

function uidOf(user: string): number | undefined {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}
const UID = uidOf(JOB_USER) ?? -1;

const MISSING = process.getuid?.() !== 0 ? 'needs root (setuid helpers, the root-written version cache, payloads as nobody)'
  : UID < 0 ? `no user ${JOB_USER}`
  : !existsSync(OBSERVED) ? `${OBSERVED} is missing (../shared beside the checkout)`
  : undefined;
if (MISSING !== undefined && IN_CI) throw new Error(`legacy runtime suite: ${MISSING} (CI=true)`);
if (MISSING !== undefined) console.log(`skipping the legacy runtime suite: ${MISSING}`);
const describeLegacy = MISSING === undefined ? describe : describe.skip;

interface Install {
  readonly prefix: string;
  readonly path: string;
}

/** The stand-in installed as PREFIX/bin/singularity, setuid layout and "inside a container" as asked. */
function install(version: '2.6.1' | '3.4.2', o: { userns?: boolean; setuid?: boolean; nested?: boolean } = {}): Install {
  const prefix = join(tempDir('cjw-legacy-'), `singularity-${version}${o.userns === true ? '-userns' : ''}`);
  mkdirSync(join(prefix, 'bin'), { recursive: true, mode: 0o755 });
  mkdirSync(join(prefix, 'etc'), { mode: 0o755 });
  const path = join(prefix, 'bin/singularity');
  copyFileSync(STANDIN, path);
  chmodSync(path, 0o755);
  writeFileSync(join(prefix, 'etc/standin.conf'), `VERSION=${version}\nUSERNS=${o.userns === true ? 1 : 0}\nNESTED=${o.nested === true ? 1 : 0}\n`, { mode: 0o644 });
  if (o.setuid === true) {
    const helper = join(prefix, 'libexec/singularity/bin', version.startsWith('2.') ? 'action-suid' : 'starter-suid');
    mkdirSync(join(helper, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(helper, '');
    chownSync(helper, 0, 0);
    chmodSync(helper, 0o4755);
  }
  return { prefix, path };
}

/** Test images: a sandbox dir, a squashfs (2.6's `build` output) and a SIF, by their first bytes. */
function images(): { sandbox: string; simg: string; sif: string } {
  const dir = tempDir('cjw-legacy-img-');
  const sandbox = join(dir, 'busybox-sandbox');
  for (const d of ['bin', 'srv', 'tmp', 'var/tmp', 'home', '.singularity.d']) mkdirSync(join(sandbox, d), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'busybox.simg'), 'hsqs\0\0\0\0', { mode: 0o644 });
  writeFileSync(join(dir, 'busybox.sif'), '#!/usr/bin/env run-singularity\n\0SIF_MAGIC', { mode: 0o644 });
  return { sandbox, simg: join(dir, 'busybox.simg'), sif: join(dir, 'busybox.sif') };
}

interface Observed {
  readonly argv: string[];
  readonly env: string[];
  readonly slot: string;
  readonly scratch: string;
}

/** The observed line and environment moved onto a new slot dir (job user, 0700) with our runtime, image and payload. */
function fromObserved(name: string, runtime: string, image: string, payload: string[], extra: { machineAd?: string; flags?: string[] } = {}): Observed {
  const raw = readFileSync(join(OBSERVED, `${name}.wrapper.argv.nul`), 'utf8').replace(/\0$/, '').split('\0');
  const oldSlot = /\/tmp\/personal-condor-verify\/execute\/dir_\d+/.exec(raw.join('\n'))?.[0];
  if (oldSlot === undefined) throw new Error(`no execute dir in ${name}`);
  const exec = join(tempDir('cjw-legacy-job-'), 'execute');
  mkdirSync(exec, { mode: 0o755 });
  const slot = join(exec, oldSlot.split('/').pop() ?? 'dir_1');
  const scratch = name.startsWith('v25-') ? join(slot, 'scratch') : slot;
  mkdirSync(scratch, { recursive: true });
  for (const d of new Set([slot, scratch])) {
    chownSync(d, UID, UID);
    chmodSync(d, 0o700);
  }
  // The job ad names the line's image: the starter's line agrees with it (SPEC S2).
  writeFileSync(join(scratch, '.job.ad'), `Owner = "${JOB_USER}"\nClusterId = 1\nSingularityImage = ${JSON.stringify(image)}\n`);
  writeFileSync(join(scratch, '.machine.ad'), extra.machineAd ?? 'GPUs = 0\n');
  const move = (s: string): string => s.split(oldSlot).join(slot);
  const imageAt = raw.findIndex((a, i) => i > 2 && (a.startsWith('<images>') || a.startsWith('/cvmfs/') || a.endsWith('.sif')));
  if (imageAt < 0) throw new Error(`no image in ${name}`);
  const flags = raw.slice(1, imageAt).map(move);
  const withFlags = extra.flags === undefined ? flags : [...flags.slice(0, -1), ...extra.flags, ...flags.slice(-1)];
  // The observed fake runtime was named apptainer, so HTCondor wrote APPTAINERENV_; for singularity it writes SINGULARITYENV_.
  const env = readFileSync(join(OBSERVED, `${name}.wrapper.env.txt`), 'utf8').split('\n').filter((l) => l.includes('='))
    .map((l) => move(l.replace(/^APPTAINERENV_/, 'SINGULARITYENV_')))
    .filter((l) => !l.startsWith('CONDOR_STARTER_PID='));
  return { argv: [runtime, ...withFlags, image, ...payload], env: [...env, 'PATH=/usr/local/bin:/usr/bin:/bin'], slot, scratch };
}

// The payload writes into its cwd: on the host that is where the stand-in mapped the inside cwd to.
const PAYLOAD = ['/bin/sh', '-c', 'echo "pwd=$STANDIN_PWD"; echo "uid=$(id -u)"; echo "scratch=$_CONDOR_SCRATCH_DIR"; echo "home=$HOME"; echo from-job >out.txt && echo wrote'];

interface Result { status: number | null; stdout: string; stderr: string }

function asJobUser(argv: readonly string[], env: readonly string[], cwd: string): Result {
  const r = spawnSync('/usr/sbin/runuser', ['-u', JOB_USER, '--', '/usr/bin/env', '-i', ...env, ...argv], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ESC = String.fromCharCode(27);
const strip = (s: string): string => s.split(`${ESC}(B`).join('').replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

describeLegacy('Singularity 2.6.1 / 3.4.2 stand-ins: HTCondor lines through the bundle, payload as nobody', () => {
  const img = MISSING === undefined ? images() : { sandbox: '', simg: '', sif: '' };
  const wrapper = MISSING === undefined ? installWrapper('/usr/bin/node') : '';
  const config = join(wrapper, '..', 'wrapper.env');
  const rts = MISSING === undefined ? {
    s26: install('2.6.1', { setuid: true }),
    s26u: install('2.6.1', { userns: true }),
    s34: install('3.4.2', { setuid: true }),
  } : undefined;

  // The deployment flow: root runs --check once per runtime, which stores its version for the jobs.
  beforeAll(() => {
    writeFileSync(config, `CJW_IMAGE_ALLOW=${join(img.sandbox, '..')}/**\n`, { mode: 0o644 });
    for (const rt of Object.values(rts ?? {})) {
      const c = join(rt.prefix, 'check.env');
      writeFileSync(c, `CJW_RUNTIME=${rt.path}\n`, { mode: 0o644 });
      const r = spawnSync(wrapper, ['--config', c, '--check'], { env: {}, encoding: 'utf8' });
      if (!r.stdout.includes('(version cached in')) throw new Error(`--check did not cache ${rt.path}: ${r.stdout}`);
    }
  });

  const viaWrapper = (o: Observed): Result => asJobUser([wrapper, '--config', config, ...o.argv], o.env, o.scratch);
  const explain = (o: Observed): string => {
    const r = asJobUser([wrapper, '--config', config, '--explain', '--', ...o.argv], o.env, o.scratch);
    if (r.status !== 0) throw new Error(`--explain failed: ${r.stderr}`);
    return r.stdout;
  };

  it('the stand-ins answer --version like the real ones, and --check caches it root-owned 0644 with the setuid helper found', () => {
    const v26 = spawnSync(rts?.s26.path ?? '', ['--version'], { encoding: 'utf8' });
    expect(v26.stdout).toBe('2.6.1-dist\n');
    const v34 = spawnSync(rts?.s34.path ?? '', ['--version'], { encoding: 'utf8' });
    expect(v34.stdout).toBe('singularity version 3.4.2\n');
    const s34 = rts?.s34.path ?? '';
    const r = spawnSync(wrapper, ['--config', join(rts?.s34.prefix ?? '', 'check.env'), '--check'], { env: {}, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`ok    runtime ${s34}: Singularity 3.4.2 (version cached in ${cacheFile(s34)})`);
    expect(r.stdout).toContain(`ok    privileges: ${rts?.s34.prefix ?? ''}/libexec/singularity/bin/starter-suid is setuid root`);
    const st = statSync(cacheFile(s34));
    expect(st.uid).toBe(0);
    expect(st.mode & 0o777).toBe(0o644);
    expect(statSync(CACHE_DIR).mode & 0o022).toBe(0);
    expect(JSON.parse(readFileSync(cacheFile(s34), 'utf8'))).toMatchObject({ family: 'singularity3', version: '3.4.2', path: s34 });
    const c26 = JSON.parse(readFileSync(cacheFile(rts?.s26.path ?? ''), 'utf8')) as { family: string; version: string; versionText: string };
    expect(c26).toMatchObject({ family: 'singularity2', version: '2.6.1', versionText: '2.6.1-dist' });
  });

  it('the setuid detection reads the install layout: 2.6.1 and 3.4.2 setuid, 2.6.1-userns not (formerly checked on the real /opt installs)', () => {
    expect(detectSetuidRuntime(rts?.s26.path ?? '', 'singularity2')).toEqual({ setuid: true, evidence: `${rts?.s26.prefix ?? ''}/libexec/singularity/bin/action-suid is setuid root` });
    expect(detectSetuidRuntime(rts?.s26u.path ?? '', 'singularity2').setuid).toBe(false);
    expect(detectSetuidRuntime(rts?.s34.path ?? '', 'singularity3')).toEqual({ setuid: true, evidence: `${rts?.s34.prefix ?? ''}/libexec/singularity/bin/starter-suid is setuid root` });
  });

  it('2.6.1 sandbox and squashfs jobs (the former 2.6 pool test): contained line, exit code passed through', () => {
    for (const [image, code] of [[img.sandbox, 3], [img.simg, 0]] as const) {
      const o = fromObserved('v25-container-singularity-3.4.2', rts?.s26.path ?? '', image, ['/bin/sh', '-c', `echo "pwd=$STANDIN_PWD"; exit ${String(code)}`]);
      const r = viaWrapper(o);
      expect(strip(r.stderr)).toBe('');
      expect(r.status).toBe(code);
      expect(r.stdout).toBe('pwd=/srv/scratch\n');
    }
  });

  it('a job reads the family from the cache; without an entry the job probes --version (writing nothing), --explain falls back to the basename', () => {
    const o = fromObserved('container-apptainer-launcher', rts?.s26.path ?? '', img.sandbox, PAYLOAD);
    expect(explain(o)).toContain(`runtime: ${rts?.s26.path ?? ''} (singularity2 2.6.1 from the cache; usable)`);
    const fresh = install('2.6.1', { setuid: true });
    const p = fromObserved('container-apptainer-launcher', fresh.path, img.sandbox, PAYLOAD);
    // --explain never runs the runtime: the shared name singularity reads as 3.x, without 2.6's repairs.
    expect(explain(p)).toContain(`runtime: ${fresh.path} (singularity3 from the basename; usable)`);
    // The job itself probes: only 2.6's repairs let this line run.
    const r = viaWrapper(p);
    expect(strip(r.stderr)).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('pwd=/srv\n');
    expect(existsSync(cacheFile(fresh.path))).toBe(false);
    // The same line on a 3.4.2 under the same name: probed as 3.4.2, no 2.6 repairs, and 3.4.2 runs it.
    const r34 = install('3.4.2');
    const q = fromObserved('container-singularity-3.4.2', r34.path, img.sandbox, PAYLOAD);
    const rq = viaWrapper(q);
    expect(rq.status).toBe(0);
    expect(rq.stdout).toContain('pwd=/srv\n');
  });

  describe.each([
    { label: '2.6.1 setuid', key: 's26' as const },
    { label: '2.6.1 user namespace', key: 's26u' as const },
  ])('Singularity $label', ({ key }) => {
    const rt = (): string => rts?.[key].path ?? '';

    it('HTCondor 24 default line (no target dir, scratch under /tmp): fails bare, runs through the wrapper at /srv', () => {
      const o = fromObserved('container-apptainer-launcher', rt(), img.sandbox, PAYLOAD);
      expect(o.argv).toEqual(expect.arrayContaining(['-S', '/tmp', '-S', '/var/tmp', '-C']));
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(255);
      expect(strip(bare.stderr)).toBe('ERROR  : Not mounting requested scratch directory (already mounted in container): /tmp\nABORT  : Retval = 255\n');
      // Without the -S flags 2.6 still cannot reach the scratch: its private /tmp hides the bind.
      const noS = asJobUser(o.argv.filter((a, i) => a !== '-S' && o.argv[i - 1] !== '-S'), o.env, o.scratch);
      expect(noS.status).toBe(255);
      expect(strip(noS.stderr)).toContain(`ERROR  : Could not change directory to: ${o.scratch}`);
      const r = viaWrapper(o);
      expect(strip(r.stderr)).not.toMatch(/ERROR|ABORT/);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('pwd=/srv\n');
      expect(r.stdout).toContain(`uid=${String(UID)}\n`);
      expect(r.stdout).toContain('scratch=/srv\n');
      expect(r.stdout).toContain('home=/srv\n');
      expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
      const plan = explain(o);
      expect(plan).toContain('dropped -S /tmp');
      expect(plan).toContain(`bind ${o.scratch} at /srv instead of ${o.scratch}`);
    });

    it('HTCondor 24 line with SINGULARITY_TARGET_DIR=/srv (squashfs image on setuid, sandbox on userns): only the -S flags go', () => {
      const image = key === 's26' ? img.simg : img.sandbox;
      const o = fromObserved('container-singularity-3.4.2', rt(), image, PAYLOAD);
      const r = viaWrapper(o);
      expect(strip(r.stderr)).not.toMatch(/ERROR|ABORT/);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('pwd=/srv\nuid=');
      expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
      const plan = explain(o);
      expect(plan).toContain('dropped -S /tmp');
      expect(plan).not.toContain('instead of');
    });

    it('HTCondor 25 line (slot dir at /srv, scratch at /srv/scratch): fails bare, runs through the wrapper', () => {
      const o = fromObserved('v25-container-singularity-3.4.2', rt(), img.sandbox, PAYLOAD);
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(255);
      const r = viaWrapper(o);
      expect(strip(r.stderr)).not.toMatch(/ERROR|ABORT/);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('pwd=/srv/scratch\n');
      expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
    });

    it('HTCondor 25 GPU slot line (--nv --rocm): --rocm dropped with one warning, --nv kept (2.6\'s NVIDIA warnings show)', () => {
      const o = fromObserved('v25-container-singularity-3.4.2', rt(), img.sandbox, PAYLOAD, { machineAd: 'AssignedGPUs = "CUDA0"\n', flags: ['--nv', '--rocm'] });
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(1);
      expect(strip(bare.stderr)).toBe('ERROR: Unknown option: --rocm\n');
      const r = viaWrapper(o);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('condor-job-wrapper: warning: dropped runtime flag --rocm: Singularity 2.6.1 has no --rocm');
      expect(strip(r.stderr)).toContain('WARNING: Could not find any NVIDIA binaries on this host!');
      expect(r.stdout).toContain('pwd=/srv/scratch\n');
    });
  });

  it('2.6.1 user namespace: SINGULARITY_BINDPATH from a pilot does not leak, the environment is scrubbed, HOME and scratch paths are inside', () => {
    const o = fromObserved('container-singularity-3.4.2', rts?.s26u.path ?? '', img.sandbox, ['/bin/sh', '-c', 'echo ---; env -0; echo; echo ---']);
    const env = [...o.env, 'SINGULARITY_BINDPATH=/etc:/hostetc', 'LD_LIBRARY_PATH=/pilot/lib', 'SINGULARITYENV_LD_LIBRARY_PATH=/pilot/lib', 'SINGULARITYENV_PATH=/evil/bin', `X509_USER_PROXY=${o.scratch}/x509up`];
    const bare = asJobUser(o.argv.filter((a, i) => a !== '-S' && o.argv[i - 1] !== '-S'), env, o.scratch);
    // Bare, 2.6.1-userns reads the pilot's BINDPATH (and skips /hostetc: not in the image, no overlay).
    expect(strip(bare.stderr)).toContain("WARNING: Skipping user bind, non existent bind point (directory) in container: '/hostetc'");
    const r = asJobUser([wrapper, '--config', config, ...o.argv], env, o.scratch);
    expect(strip(r.stderr)).toBe('');
    expect(r.status).toBe(0);
    const inside = new Map((r.stdout.split('---\n')[1] ?? '').split('\0').filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')).replace(/^\n/, ''), e.slice(e.indexOf('=') + 1)]));
    expect(inside.get('HOME')).toBe('/srv');
    expect(inside.get('PATH')).toBe('/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin:/usr/local/sbin');
    expect(inside.get('LD_LIBRARY_PATH')).toBe('/.singularity.d/libs');
    expect(inside.get('X509_USER_PROXY')).toBe('/srv/x509up');
    expect(inside.get('STANDIN_BINDS')).not.toContain('/hostetc');
  });

  describe('Singularity 3.4.2 (setuid)', () => {
    it.each([
      ['HTCondor 24', 'container-singularity-3.4.2', '/srv'],
      ['HTCondor 25', 'v25-container-singularity-3.4.2', '/srv/scratch'],
    ])('%s line with a SIF: runs unchanged (the plan has no compat change)', (_n, name, pwd) => {
      const o = fromObserved(name, rts?.s34.path ?? '', img.sif, PAYLOAD);
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(0);
      const r = viaWrapper(o);
      expect(strip(r.stderr)).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`pwd=${pwd}\n`);
      expect(readFileSync(join(o.scratch, 'out.txt'), 'utf8')).toBe('from-job\n');
      const plan = explain(o);
      expect(plan).not.toContain('[compat]');
      expect(plan).not.toContain('[nested]');
    });

    it('HTCondor 25 GPU slot line (--nv --rocm): fails bare ("unknown flag: --rocm"), runs through the wrapper', () => {
      const o = fromObserved('v25-container-singularity-3.4.2', rts?.s34.path ?? '', img.sif, PAYLOAD, { machineAd: 'AssignedGPUs = "CUDA0"\n', flags: ['--nv', '--rocm'] });
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(1);
      expect(strip(bare.stderr).split('\n')[0]).toBe('Error for command "exec": unknown flag: --rocm');
      const r = viaWrapper(o);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('condor-job-wrapper: warning: dropped runtime flag --rocm: Singularity 3.4.2 has no --rocm (added in 3.5)\n');
      expect(r.stdout).toContain('pwd=/srv/scratch\n');
    });

    it('recorded errors pass through: a missing image is 66 from the wrapper before 3.4.2\'s 255 FATAL; an unknown extra flag is refused (78)', () => {
      const o = fromObserved('v25-container-singularity-3.4.2', rts?.s34.path ?? '', '/nonexistent.sif', PAYLOAD);
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(255);
      expect(strip(bare.stderr)).toBe('FATAL:   could not open image /nonexistent.sif: failed to retrieve path for /nonexistent.sif: lstat /nonexistent.sif: no such file or directory\n');
      const r = asJobUser([wrapper, ...o.argv], o.env, o.scratch);
      expect(r.status).toBe(66);
      expect(r.stderr).toBe('condor-job-wrapper: job error: image /nonexistent.sif: does not exist\n');
      const p = fromObserved('v25-container-singularity-3.4.2', rts?.s34.path ?? '', img.sif, PAYLOAD);
      writeFileSync(join(p.scratch, '..', 'extra.env'), 'CJW_EXTRA_ARGS=--env,X=1\n', { mode: 0o644 });
      chmodSync(join(p.scratch, '..'), 0o755);
      const ex = asJobUser([wrapper, '--config', join(p.scratch, '..', 'extra.env'), ...p.argv], p.env, p.scratch);
      expect(ex.status).toBe(78);
      expect(ex.stderr).toMatch(/^condor-job-wrapper: node error: runtime flag --env \(from CJW_EXTRA_ARGS\): Singularity 3\.4\.2 has no --env \(added in 3\.6\)/);
    });
  });

  describe('nested: the stand-ins playing a runtime inside a container (CJW_NESTED=yes)', () => {
    /** The stand-in with its version cached by root's --check, as on a deployed node. */
    const cached = (rt: Install): Install => {
      const c = join(rt.prefix, 'check.env');
      writeFileSync(c, `CJW_RUNTIME=${rt.path}\n`, { mode: 0o644 });
      spawnSync(wrapper, ['--config', c, '--check'], { env: {}, encoding: 'utf8' });
      if (!existsSync(cacheFile(rt.path))) throw new Error(`--check did not cache ${rt.path}`);
      return rt;
    };
    const nestedConfig = (): string => {
      const f = join(tempDir('cjw-legacy-nested-'), 'wrapper.env');
      writeFileSync(f, `CJW_NESTED=yes\nCJW_IMAGE_ALLOW=${join(img.sandbox, '..')}/**\n`, { mode: 0o644 });
      return f;
    };

    it('inner setuid 3.4.2: bare "Failed to set effective UID to 0" (1); the wrapper adds --userns and replaces -C; the payload runs', () => {
      const rt = install('3.4.2', { setuid: true, nested: true });
      const o = fromObserved('container-singularity-3.4.2', rt.path, img.sandbox, PAYLOAD);
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(1);
      expect(strip(bare.stderr)).toBe('ERROR  : Failed to set effective UID to 0\n');
      const cfg = nestedConfig();
      const plan = asJobUser([wrapper, '--config', cfg, '--explain', '--', ...o.argv], o.env, o.scratch);
      expect(plan.stdout).toContain('-C → --contain --ipc --cleanenv');
      expect(plan.stdout).toContain('added --userns');
      const r = asJobUser([wrapper, '--config', cfg, ...o.argv], o.env, o.scratch);
      expect(strip(r.stderr)).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('pwd=/srv\n');
    });

    it('inner setuid 2.6.1: a clear node error 69 before the runtime starts, not 2.6\'s privilege abort', () => {
      const rt = install('2.6.1', { setuid: true, nested: true });
      const o = fromObserved('container-apptainer-launcher', rt.path, img.sandbox, PAYLOAD);
      const bare = asJobUser(o.argv, o.env, o.scratch);
      expect(bare.status).toBe(255);
      expect(strip(bare.stderr)).toContain('ERROR  : Singularity is not running with appropriate privileges!');
      const r = asJobUser([wrapper, '--config', nestedConfig(), ...o.argv], o.env, o.scratch);
      expect(r.status).toBe(69);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^condor-job-wrapper: node error: container runtime \S+\/bin\/singularity: it is a setuid install \(.*action-suid is setuid root\) and the wrapper runs inside a container \(CJW_NESTED=yes\)/);
    });

    it('inner 2.6.1-userns with HTCondor 24\'s default line: nested and compat repairs together, the payload runs at /srv', () => {
      const rt = cached(install('2.6.1', { userns: true, nested: true }));
      const o = fromObserved('container-apptainer-launcher', rt.path, img.sandbox, PAYLOAD);
      const cfg = nestedConfig();
      const r = asJobUser([wrapper, '--config', cfg, ...o.argv], o.env, o.scratch);
      expect(strip(r.stderr)).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('pwd=/srv\n');
      const plan = asJobUser([wrapper, '--config', cfg, '--explain', '--', ...o.argv], o.env, o.scratch).stdout;
      expect(plan).toContain('-C → --contain --ipc --cleanenv');
      expect(plan).toContain('dropped -S /tmp');
      expect(plan).not.toContain('--userns');
    });

    it('--check with CJW_NESTED=yes: setuid 3.4.2 ok (--userns is added), setuid 2.6.1 unhealthy (69)', () => {
      const check = (path: string): Result => {
        const f = join(tempDir('cjw-legacy-check-'), 'wrapper.env');
        writeFileSync(f, `CJW_NESTED=yes\nCJW_RUNTIME=${path}\n`, { mode: 0o644 });
        return asJobUser([wrapper, '--config', f, '--check'], ['PATH=/usr/bin:/bin'], '/');
      };
      const ok = check(install('3.4.2', { setuid: true, nested: true }).path);
      expect(ok.stdout).toContain('ok    nested: inside a container (CJW_NESTED=yes)');
      expect(ok.stdout).toContain('nested: --userns is added for job users');
      expect(ok.status).toBe(0);
      const bad = check(install('2.6.1', { setuid: true, nested: true }).path);
      expect(bad.status).toBe(69);
      expect(bad.stdout).toMatch(/FAIL {2}privileges: \S+\/bin\/singularity is a setuid Singularity 2\.6/);
    });
  });
});
