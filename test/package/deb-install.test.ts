// The .deb in the Debian root of ../shared/pool (HTCondor and Node.js from Debian): install,
// the site's choices (config edit, Node link, static-bash front), a real pool job through the
// wrapper the package installed (enabled by the snippet's one line), upgrade N -> N+1 with a
// changed conffile kept, removal and purge. The root is never changed: dpkg runs in a throwaway
// overlay of it (upper dir under /tmp), through bubblewrap as ../shared/pool/pool.sh does.
// Needs root, the pool root (bash ../shared/pool/install.sh), bwrap, dpkg-deb, overlayfs.

import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, copyFileSync, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEB, ROOT, VERSION, describeWhen, hasTool, run, NEXT, POOL_ROOT, packagesAndOverlay } from './pkg';

const POOL_SH = resolve(ROOT, '../shared/pool/pool.sh');
const STATIC_BASH = '/bin/bash-static';
const LOCK = '/tmp/cjw-pool-suites.lock';

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (dpkg in the pool root)';
  if (!existsSync(join(POOL_ROOT, 'usr/bin/dpkg')) || !existsSync(join(POOL_ROOT, 'usr/bin/condor_config_val'))) return `no pool root at ${POOL_ROOT} (bash ../shared/pool/install.sh)`;
  for (const t of ['bwrap', 'dpkg-deb', 'mount', 'umount']) if (!hasTool(t)) return `${t} is missing`;
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return 'no overlayfs in this kernel';
  return undefined;
}

describeWhen('the .deb in the Debian pool root: install, a pool job, upgrade, removal', whyNot(), () => {
  let dir: string;
  let merged: string;
  let mounted = false;
  /** A command inside the overlay root, with an empty environment (as root). */
  const inRoot = (args: readonly string[]): ReturnType<typeof run> =>
    run('bwrap', ['--bind', merged, '/', '--dev-bind', '/dev', '/dev', '--bind', '/proc', '/proc', '--bind', '/tmp', '/tmp', '--', 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', ...args]);
  const inRootOk = (args: readonly string[]): string => {
    const r = inRoot(args);
    if (r.status !== 0) throw new Error(`${args.join(' ')} (in the root) failed (${String(r.status ?? r.signal)}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const at = (p: string): string => join(merged, p);
  const configVal = (name: string): string | undefined => {
    const r = inRoot(['condor_config_val', name]);
    return r.status === 0 ? r.stdout.trim() : undefined;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cjw-pkg-root-'));
    chmodSync(dir, 0o755); // the pool's state dir lives below: condoruser must traverse it
    // Version N from this checkout; N+1 from a copy whose example config changed.
    merged = packagesAndOverlay(dir);
    mounted = true;
  }, 180_000);
  afterAll(() => {
    if (mounted) run('umount', [merged]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  let singularityBefore: string | undefined;
  test('install: the fronts behind the alternative, the config files, and nothing enabled in HTCondor', () => {
    expect(inRoot(['dpkg-query', '-W', 'condor-job-wrapper']).status).not.toBe(0);
    singularityBefore = configVal('SINGULARITY');
    inRootOk(['dpkg', '-i', join(dir, 'n', DEB())]);
    expect(inRootOk(['dpkg-query', '-W', '-f', '${Status} ${Version}', 'condor-job-wrapper'])).toBe(`install ok installed ${VERSION}`);
    expect(readlinkSync(at('/usr/libexec/condor-job-wrapper'))).toBe('/etc/alternatives/condor-job-wrapper');
    expect(readlinkSync(at('/etc/alternatives/condor-job-wrapper'))).toBe('/usr/lib/condor-job-wrapper/condor-job-wrapper');
    expect(inRootOk(['update-alternatives', '--query', 'condor-job-wrapper'])).toMatch(/Status: auto/);
    expect(lstatSync(at('/etc/condor-job-wrapper/wrapper.env')).mode & 0o7777).toBe(0o644);
    // Installed, not enabled: HTCondor's knobs are what they were.
    expect(configVal('USER_JOB_WRAPPER')).toBeUndefined();
    expect(configVal('SINGULARITY')).toBe(singularityBefore);
    expect(configVal('SINGULARITY_TARGET_DIR')).toBeUndefined();
    const version = inRootOk(['/usr/libexec/condor-job-wrapper', '--version']);
    expect(version).toContain(`condor-job-wrapper ${VERSION}`);
    // --check says what is left to do.
    const check = inRoot(['/usr/libexec/condor-job-wrapper', '--check']);
    expect(check.stdout).toMatch(/^ok {4}node: \/usr\/bin\/node \(the default;/m);
    expect(check.stdout).toMatch(/^WARN {2}HTCondor: USER_JOB_WRAPPER is not set: .*uncomment "USER_JOB_WRAPPER = \/usr\/libexec\/condor-job-wrapper" in \/etc\/condor\/config.d\/50-condor-job-wrapper.conf/m);
    expect(check.stdout).toMatch(/^WARN {2}HTCondor: the health check is not on/m);
    expect(check.stdout).toMatch(/^WARN {2}front: alternative condor-job-wrapper: \/usr\/lib\/condor-job-wrapper\/condor-job-wrapper \(\/bin\/bash/m);
  }, 60_000);

  test('the one line turns the snippet on (set in a file read before it)', () => {
    writeFileSync(at('/etc/condor/config.d/49-condor-job-wrapper-on.conf'), 'USER_JOB_WRAPPER = /usr/libexec/condor-job-wrapper\n');
    expect(configVal('USER_JOB_WRAPPER')).toBe('/usr/libexec/condor-job-wrapper');
    expect(configVal('SINGULARITY')).toBe('/usr/bin/apptainer');
    expect(configVal('SINGULARITY_TARGET_DIR')).toBe('/srv');
    expect(inRoot(['/usr/libexec/condor-job-wrapper', '--check']).stdout).toMatch(/^ok {4}HTCondor: USER_JOB_WRAPPER = \/usr\/libexec\/condor-job-wrapper$/m);
    rmSync(at('/etc/condor/config.d/49-condor-job-wrapper-on.conf'));
  });

  const hasStatic = existsSync(STATIC_BASH);
  // The hardened front where the host has Debian's static bash to copy into the root (CI does).
  const chosenFront = `/usr/lib/condor-job-wrapper/condor-job-wrapper${hasStatic ? '-static' : ''}`;
  test('the site chooses: its config, its Node (a root-owned link in /etc), the static-bash front', () => {
    appendFileSync(at('/etc/condor-job-wrapper/wrapper.env'), '\n# site\nCJW_ENV_SET=CJW_PKG_SITE=kept\n');
    symlinkSync('/usr/bin/node', at('/etc/condor-job-wrapper/node'));
    if (hasStatic) {
      copyFileSync(STATIC_BASH, at(STATIC_BASH));
      chmodSync(at(STATIC_BASH), 0o755);
    }
    inRootOk(['update-alternatives', '--set', 'condor-job-wrapper', chosenFront]);
    expect(readlinkSync(at('/etc/alternatives/condor-job-wrapper'))).toBe(chosenFront);
    const check = inRoot(['/usr/libexec/condor-job-wrapper', '--check']);
    expect(check.stdout).toMatch(/^ok {4}node: \/etc\/condor-job-wrapper\/node -> \/usr\/bin\/[a-z]+ \(root's choice/m);
    if (hasStatic) expect(check.stdout).toMatch(/^ok {4}front: alternative condor-job-wrapper: \/usr\/lib\/condor-job-wrapper\/condor-job-wrapper-static \(\/bin\/bash-static\)$/m);
    if (hasStatic) expect(check.stdout).toMatch(/^ok {4}front: \/bin\/bash-static is statically linked/m);
    // The front really starts the Node the link names (a marking stand-in here) ...
    const marker = join(dir, 'node-used');
    writeFileSync(at('/usr/local/bin/cjw-test-node'), `#!/bin/sh\necho "$0" >>${marker}\nexec /usr/bin/node "$@"\n`, { mode: 0o755 });
    rmSync(at('/etc/condor-job-wrapper/node'));
    symlinkSync('/usr/local/bin/cjw-test-node', at('/etc/condor-job-wrapper/node'));
    expect(inRootOk(['/usr/libexec/condor-job-wrapper', '--version'])).toContain('condor-job-wrapper ');
    expect(readFileSync(marker, 'utf8')).toBe('/etc/condor-job-wrapper/node\n');
    // ... and a dangling link fails loudly (exit 70), never falls back to another Node.
    rmSync(at('/etc/condor-job-wrapper/node'));
    symlinkSync('/nonexistent/node', at('/etc/condor-job-wrapper/node'));
    const dangling = inRoot(['/usr/libexec/condor-job-wrapper', '--version']);
    expect(dangling.status).toBe(70);
    expect(dangling.stderr).toMatch(/^condor-job-wrapper: node error: .*Node\.js not found at \/etc\/condor-job-wrapper\/node /);
    rmSync(at('/etc/condor-job-wrapper/node'));
    symlinkSync('/usr/bin/node', at('/etc/condor-job-wrapper/node'));
    // A link anyone could replace is refused by --check (the front itself cannot tell: no fork).
    chmodSync(at('/etc/condor-job-wrapper'), 0o777);
    expect(inRoot(['/usr/libexec/condor-job-wrapper', '--check']).stdout).toMatch(/^FAIL {2}node: \/etc\/condor-job-wrapper: mode 0777/m);
    chmodSync(at('/etc/condor-job-wrapper'), 0o755);
  }, 60_000);

  test('a real pool job runs through the wrapper the package installed (the snippet enabled by its one line)', async () => {
    // The package's snippet with its line uncommented, after pool.sh's own config.
    const snippet = join(dir, 'worker.conf');
    writeFileSync(snippet, readFileSync(at('/etc/condor/config.d/50-condor-job-wrapper.conf'), 'utf8').replace(/^#USER_JOB_WRAPPER = /m, 'USER_JOB_WRAPPER = '));
    const state = join(dir, 'pool');
    const pool = (args: readonly string[]): ReturnType<typeof run> => run('bash', [POOL_SH, '--root', merged, '--state', state, ...args]);
    await withPoolLock(() => {
      try {
        const start = pool(['start', '--config', snippet, '--slots', '1']);
        if (start.status !== 0) throw new Error(`pool start failed:\n${start.stderr}`);
        const jobdir = pool(['jobdir', 'pkg']).stdout.trim();
        writeFileSync(join(jobdir, 'job.sub'), [
          'universe = vanilla',
          'executable = /bin/sh',
          'arguments = "-c \'test -d /.singularity.d && echo contained; echo site=$CJW_PKG_SITE\'"',
          'transfer_executable = false',
          // The scratch dir, not the submit dir, is the job's cwd (the submit dir is not in the image).
          'should_transfer_files = YES', 'when_to_transfer_output = ON_EXIT',
          '+SingularityImage = "/img/busybox-sandbox"',
          'output = out', 'error = err', 'log = log',
          'queue', '',
        ].join('\n'));
        const r = pool(['submit-wait', join(jobdir, 'job.sub'), '120']);
        const out = existsSync(join(jobdir, 'out')) ? readFileSync(join(jobdir, 'out'), 'utf8') : '';
        const err = existsSync(join(jobdir, 'err')) ? readFileSync(join(jobdir, 'err'), 'utf8') : '';
        console.log(`[package pool] ${r.stdout.trim()} | out: ${out.trim().replace(/\n/g, ' / ')}`);
        expect(r.stdout).toMatch(/completed exit_code=0/);
        expect(err).toBe('');
        // Contained, with the site's policy applied by the wrapper (CJW_ENV_SET).
        expect(out).toBe('contained\nsite=kept\n');
        const starter = readdirSync(join(state, 'log')).filter((f) => f.startsWith('StarterLog')).map((f) => readFileSync(join(state, 'log', f), 'utf8')).join('');
        expect(starter).toContain('/usr/libexec/condor-job-wrapper');
      } finally {
        pool(['stop']);
      }
    });
  }, 300_000);

  test(`upgrade to ${NEXT}: the site's config, Node link and front choice are kept; the new config lands beside`, () => {
    const before = readFileSync(at('/etc/condor-job-wrapper/wrapper.env'), 'utf8');
    // What Puppet's and Ansible's apt do non-interactively: keep the site's changed conffile.
    inRootOk(['dpkg', '--force-confold', '-i', join(dir, 'n1', DEB(NEXT))]);
    expect(inRootOk(['dpkg-query', '-W', '-f', '${Status} ${Version}', 'condor-job-wrapper'])).toBe(`install ok installed ${NEXT}`);
    expect(readFileSync(at('/etc/condor-job-wrapper/wrapper.env'), 'utf8')).toBe(before);
    expect(readFileSync(at('/etc/condor-job-wrapper/wrapper.env.dpkg-dist'), 'utf8')).toContain('# changed in the next version');
    expect(readlinkSync(at('/etc/condor-job-wrapper/node'))).toBe('/usr/bin/node');
    expect(readlinkSync(at('/etc/alternatives/condor-job-wrapper'))).toBe(chosenFront);
    expect(inRootOk(['update-alternatives', '--query', 'condor-job-wrapper'])).toMatch(/Status: manual/);
    expect(inRootOk(['/usr/libexec/condor-job-wrapper', '--version'])).toContain('condor-job-wrapper ');
  }, 60_000);

  test('removal drops the wrapper and the alternative, keeps the config; purge drops the config, not the site\'s own files', () => {
    // --check as root leaves a hard link to the root's Node, named for its V8 flags: purge takes it too.
    const check = inRoot(['/usr/libexec/condor-job-wrapper', '--check']);
    if (!/node flags: not chosen: .*different filesystems/.test(check.stdout)) {
      expect(readdirSync(at('/var/cache/condor-job-wrapper/node'))).toEqual([expect.stringMatching(/^jitless(-no-wasm)?\.[0-9a-f]{16}$/)]);
    }
    // Removed while HTCondor still names it (rollback step 1 skipped): every job would fail, said loudly.
    writeFileSync(at('/etc/condor/config.d/49-condor-job-wrapper-on.conf'), 'USER_JOB_WRAPPER = /usr/libexec/condor-job-wrapper\n');
    const removal = inRoot(['dpkg', '-r', 'condor-job-wrapper']);
    rmSync(at('/etc/condor/config.d/49-condor-job-wrapper-on.conf'));
    expect(removal.status).toBe(0);
    expect(removal.stderr).toContain('condor-job-wrapper: WARNING: USER_JOB_WRAPPER still names /usr/libexec/condor-job-wrapper: every job on this node fails');
    expect(inRootOk(['dpkg-query', '-W', '-f', '${Status}', 'condor-job-wrapper'])).toBe('deinstall ok config-files');
    expect(existsSync(at('/usr/libexec/condor-job-wrapper')) || isLink(at('/usr/libexec/condor-job-wrapper'))).toBe(false);
    expect(existsSync(at('/usr/lib/condor-job-wrapper'))).toBe(false);
    expect(inRoot(['update-alternatives', '--query', 'condor-job-wrapper']).status).not.toBe(0);
    expect(readFileSync(at('/etc/condor-job-wrapper/wrapper.env'), 'utf8')).toContain('CJW_PKG_SITE=kept');
    inRootOk(['dpkg', '-P', 'condor-job-wrapper']);
    expect(inRoot(['dpkg-query', '-W', 'condor-job-wrapper']).status).not.toBe(0);
    for (const f of ['/etc/condor-job-wrapper/wrapper.env', '/etc/condor/config.d/50-condor-job-wrapper.conf', '/etc/condor/config.d/51-condor-job-wrapper-healthcheck.conf', '/var/cache/condor-job-wrapper']) {
      expect([f, existsSync(at(f))]).toEqual([f, false]);
    }
    expect(isLink(at('/etc/condor-job-wrapper/node'))).toBe(true);
  }, 60_000);
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The pool suites' lock (test/pool/pool.ts): one HTCondor pool at a time on the machine. */
async function withPoolLock(fn: () => void): Promise<void> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(readFileSync(LOCK, 'utf8').trim());
    if (!Number.isInteger(holder) || holder <= 0 || spawnSync('kill', ['-0', String(holder)]).status !== 0) {
      rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the pool lock ${LOCK} is held by pid ${String(holder)} for over 20 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    fn();
  } finally {
    if (readFileSync(LOCK, 'utf8').trim() === String(process.pid)) rmSync(LOCK, { force: true });
  }
}
