// Shared helpers for the real-runtime suites: the real Apptainer 1.4 of the Debian pool root
// (../shared/pool: install.sh), run through bubblewrap as in pool.sh's `inroot`/`as_user` (a mount
// namespace whose / is the root, NOT a chroot: Apptainer needs a user namespace), payloads as the
// root's unprivileged condoruser. No pool is started: the suites run the runtime directly.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IN_CI, installWrapper, tempDir } from '../e2e/harness';

/** The root install.sh made (CJW_POOL_ROOT picks another, e.g. /srv/cjw-pool-trixie). */
export const POOL_ROOT = process.env.CJW_POOL_ROOT ?? '/srv/cjw-pool-sid';
export const APPTAINER = '/usr/bin/apptainer';
/** The images install.sh built with that Apptainer (paths inside the root). */
export const SANDBOX = '/img/busybox-sandbox';
export const SIF = '/img/busybox.sif';
export const JOB_USER = 'condoruser';
/** The root's Node (24 in sid, 20 in trixie): the wrapper runs on it, as in the pool. */
export const ROOT_NODE = '/usr/bin/node';

/** The job user's uid inside the root (4242), from the root's /etc/passwd. */
export function rootUid(user = JOB_USER): number | undefined {
  try {
    const line = readFileSync(join(POOL_ROOT, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
    return line === undefined ? undefined : Number(line.split(':')[2]);
  } catch {
    return undefined;
  }
}

export const UID = rootUid() ?? -1;

/** Why the real-runtime suites cannot run here, or undefined when they can. */
export function missingRoot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (bubblewrap into the pool root, payloads as condoruser)';
  if (spawnSync('bwrap', ['--version'], { encoding: 'utf8' }).status !== 0) return 'bubblewrap (bwrap) is not installed';
  if (!existsSync(join(POOL_ROOT, APPTAINER.slice(1)))) return `${POOL_ROOT} holds no Apptainer (bash ../shared/pool/install.sh)`;
  if (!existsSync(join(POOL_ROOT, SANDBOX.slice(1))) || !existsSync(join(POOL_ROOT, SIF.slice(1)))) return `${POOL_ROOT}/img lacks the test images (install.sh builds them)`;
  if (!existsSync(join(POOL_ROOT, ROOT_NODE.slice(1)))) return `${POOL_ROOT} has no ${ROOT_NODE}`;
  if (rootUid() === undefined) return `${POOL_ROOT} has no user ${JOB_USER}`;
  return undefined;
}

/** describe() when the root is there; skipped with one line outside CI; an error in CI. */
export function describeInRoot(name: string, fn: () => void): void {
  const why = missingRoot();
  if (why === undefined) {
    describe(name, fn);
    return;
  }
  if (IN_CI) throw new Error(`real-runtime suite "${name}": ${why} (CI=true: the pool root must be installed)`);
  console.log(`skipping real-runtime suite "${name}": ${why}`);
  describe.skip(name, fn);
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function isList(env: Record<string, string> | readonly string[]): env is readonly string[] {
  return Array.isArray(env);
}

/**
 * Runs argv inside the root as condoruser with exactly `env` (plus PATH when absent), from `cwd`
 * (a path under /tmp, which is the host's /tmp inside). `binds` are extra host dirs made visible.
 */
export function asJobUser(argv: readonly string[], env: Record<string, string> | readonly string[] = {}, cwd = '/', binds: readonly string[] = []): Run {
  const list: string[] = isList(env) ? [...env] : Object.entries(env).map(([k, v]) => `${k}=${v}`);
  if (!list.some((e) => e.startsWith('PATH='))) list.unshift('PATH=/usr/bin:/bin');
  const b = ['--bind', POOL_ROOT, '/', '--dev-bind', '/dev', '/dev', '--bind', '/proc', '/proc', '--ro-bind', '/sys', '/sys', '--bind', '/tmp', '/tmp'];
  for (const d of binds) b.push('--bind', d, d);
  const t0 = Date.now();
  const r = spawnSync('bwrap', [...b, '--chdir', cwd, '--', 'runuser', '-u', JOB_USER, '--', 'env', '-i', ...list, ...argv], {
    encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** Runs argv inside the root as root (for --check, which writes the version cache). */
export function asRootInRoot(argv: readonly string[], env: readonly string[] = ['PATH=/usr/bin:/bin']): Run {
  const t0 = Date.now();
  const r = spawnSync('bwrap', ['--bind', POOL_ROOT, '/', '--dev-bind', '/dev', '/dev', '--bind', '/proc', '/proc', '--ro-bind', '/sys', '/sys', '--bind', '/tmp', '/tmp', '--', 'env', '-i', ...env, ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** The bundle installed under /tmp (visible inside) with the root's Node in its front. */
export function installRootWrapper(dir = tempDir('cjw-rt-wrapper-')): string {
  return installWrapper(ROOT_NODE, dir);
}

export interface Slot {
  /** HTCondor 25's slot dir (bound at /srv with SINGULARITY_TARGET_DIR=/srv). */
  readonly slot: string;
  readonly scratch: string;
  readonly errorFile: string;
  readonly jobAd: string;
}

/** A slot dir as HTCondor 25.14 makes it: SLOT/{scratch,user,htcondor}, 0700, owned by the job user. */
export function makeSlot(jobAd = `Owner = "${JOB_USER}"\nClusterId = 1\n`, machineAd = 'GPUs = 0\n'): Slot {
  const base = tempDir('cjw-rt-slot-');
  const slot = join(base, 'dir_1');
  const scratch = join(slot, 'scratch');
  for (const d of [slot, scratch, join(slot, 'user'), join(slot, 'htcondor')]) {
    mkdirSync(d, { recursive: true });
    chownSync(d, UID, UID);
    chmodSync(d, 0o700);
  }
  const ad = join(scratch, '.job.ad');
  writeFileSync(ad, jobAd, { mode: 0o644 });
  writeFileSync(join(scratch, '.machine.ad'), machineAd, { mode: 0o644 });
  chownSync(ad, UID, UID);
  return { slot, scratch, errorFile: join(scratch, '.job_wrapper_failure'), jobAd: ad };
}

/**
 * The starter's line always agrees with its job ad (SPEC S2, src/decide/dispatch.ts): the ad names
 * the line's image. Added to the slot's ad unless the test wrote an image of its own there.
 */
export function adAgrees(s: Slot, image: string): void {
  const ad = readFileSync(s.jobAd, 'utf8');
  if (/^(SingularityImage|ContainerImage) = /m.test(ad)) return;
  writeFileSync(s.jobAd, `${ad}SingularityImage = ${JSON.stringify(image)}\n`, { mode: 0o644 });
}

/**
 * HTCondor 25.14's line with SINGULARITY_TARGET_DIR=/srv (../shared/pool/README.md, "Verified"):
 * `apptainer -s exec -S /tmp -S /var/tmp -W SLOT/scratch --pwd /srv/scratch -B SLOT:/srv
 * --home SLOT/scratch -C IMAGE CMD`, with `extra` flags before -C (e.g. job binds).
 */
export function condor25Line(s: Slot, image: string, payload: readonly string[], extra: readonly string[] = []): string[] {
  adAgrees(s, image);
  return [APPTAINER, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', s.scratch, '--pwd', '/srv/scratch', '-B', `${s.slot}:/srv`, '--home', s.scratch, ...extra, '-C', image, ...payload];
}

/** HTCondor 25.14's default line (no SINGULARITY_TARGET_DIR): the slot dir bound at its own path. */
export function condor25DefaultLine(s: Slot, image: string, payload: readonly string[]): string[] {
  adAgrees(s, image);
  return [APPTAINER, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', s.scratch, '--pwd', s.scratch, '-B', s.slot, '--home', s.scratch, '-C', image, ...payload];
}

/** The starter's environment for a 25.14 container job: plain variables and APPTAINERENV_ copies at /srv. */
export function condor25Env(s: Slot, extra: Record<string, string> = {}, target: string | false = '/srv'): Record<string, string> {
  // Without a target dir the slot is bound at its own path: the copies hold the host paths.
  const inside = (p: string): string => (target === false ? p : p.split(s.slot).join(target));
  const plain: Record<string, string> = {
    _CONDOR_SCRATCH_DIR: s.scratch,
    _CONDOR_JOB_IWD: s.scratch,
    _CONDOR_JOB_AD: s.jobAd,
    _CONDOR_MACHINE_AD: join(s.scratch, '.machine.ad'),
    _CONDOR_CHIRP_CONFIG: join(s.slot, 'user/.chirp.config'),
    _CONDOR_WRAPPER_ERROR_FILE: s.errorFile,
    _CONDOR_SLOT: 'slot1_1',
    CUDA_VISIBLE_DEVICES: '10000',
    NVIDIA_VISIBLE_DEVICES: 'none',
    BATCH_SYSTEM: 'HTCondor',
  };
  const env: Record<string, string> = { ...plain };
  for (const [k, v] of Object.entries(plain)) env[`APPTAINERENV_${k}`] = inside(v);
  return { ...env, ...extra };
}

/** `NAME=value` records of the payload's `env -0` between the first two `---` lines. */
export function insideEnv(stdout: string): Map<string, string> {
  const part = stdout.split('---\n')[1] ?? '';
  const out = new Map<string, string>();
  for (const rec of part.split('\0')) {
    const i = rec.indexOf('=');
    if (i > 0) out.set(rec.slice(0, i).replace(/^\n/, ''), rec.slice(i + 1));
  }
  return out;
}

/** `key=value` lines of a payload's output. */
export function keyValues(stdout: string): Map<string, string> {
  return new Map(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** The real Apptainer's version text inside the root ("apptainer version 1.4.5"). */
export function apptainerVersion(): string {
  return asJobUser([APPTAINER, '--version']).stdout.trim();
}
