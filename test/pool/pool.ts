// The real-pool harness (issues 9, 15): a personal HTCondor from Debian's own packages in the
// debootstrap root of ../shared/pool (HTCondor 25.14 in sid, 23.9 in trixie, Apptainer 1.4.5),
// run through bubblewrap by pool.sh, with the bundled wrapper as USER_JOB_WRAPPER on the root's
// own Node, jobs submitted as the unprivileged condoruser (uid 4242). Shared by the suites in
// this folder; each suite starts its own pool and stops it in afterAll.
//
// CJW_POOL_SUITE=sid|trixie (default sid) chooses the root /srv/cjw-pool-SUITE (CJW_POOL_ROOT
// overrides the path). Everything the pool must see (wrapper, shim, config, hooks, images of
// our own) lives under OPT in /tmp, which is the same path inside the root.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUNDLE, IN_CI, ROOT, STATIC_BASH, installWrapper, withStaticFront } from '../e2e/harness';

export const SHARED = resolve(ROOT, '../shared');
export const FIXTURE = join(SHARED, 'pool');
/** ../shared/pool/pool.sh: every HTCondor command runs inside the root through it. */
export const POOL_SH = join(FIXTURE, 'pool.sh');
export const INSTALL_SH = join(FIXTURE, 'install.sh');
export const SUITE = process.env.CJW_POOL_SUITE ?? 'sid';
/** The Debian root holding HTCondor, Apptainer and Node (install.sh --suite SUITE). */
export const POOL_ROOT = process.env.CJW_POOL_ROOT ?? `/srv/cjw-pool-${SUITE}`;
/** Where the wrapper, its config, hooks and our own images live: under /tmp, the same path inside the root. */
export const OPT = '/tmp/cjw-pool-test';
/** The root's images (paths as seen inside the root), built by its Apptainer. */
export const SIF = '/img/busybox.sif';
export const SANDBOX = '/img/busybox-sandbox';
/** The root's Apptainer and Node: the wrapper under test runs on that Node (issue 15 item 6). */
export const APPTAINER = '/usr/bin/apptainer';
export const POOL_NODE = '/usr/bin/node';
export const JOB_USER = 'condoruser';
/** condoruser's uid inside the root; bwrap makes no user namespace, so it is the host uid too. */
export const JOB_UID = 4242;
export const CONFIG_DIR = join(ROOT, 'condor-config');
const LOCK = '/tmp/cjw-pool-suites.lock';
/** How long the lock may be waited for (other pool suites run meanwhile). */
const LOCK_WAIT_MS = 20 * 60_000;
/**
 * The timeout of a suite's beforeAll: the wait for the lock, an install of a missing root
 * (install.sh, ~90 s, more on a slow mirror), the pool's start and the submissions.
 */
export const SETUP_TIMEOUT_MS = LOCK_WAIT_MS + 10 * 60_000;
/** The host's static bash, copied under OPT so that the root sees it (the root has none). */
const OPT_STATIC_BASH = join(OPT, 'bash-static');

/** Why the pool suites cannot run here, or undefined when they can. A missing root is installed by prepare(). */
export function missingFixture(extra: readonly string[] = []): string | undefined {
  if (SUITE !== 'sid' && SUITE !== 'trixie') return `CJW_POOL_SUITE=${SUITE}: expected sid or trixie`;
  if (process.getuid?.() !== 0) return 'not root (the pool runs jobs as condoruser)';
  for (const p of [POOL_SH, INSTALL_SH, BUNDLE, ...extra]) {
    if (!existsSync(p)) return `${p} is missing`;
  }
  return undefined;
}

/**
 * `describe` for a pool suite: skips with a one-line reason outside CI when a fixture is missing,
 * and fails (throws) in CI, where the fixtures must be there.
 */
export function describePool(name: string, fn: () => void, extra: readonly string[] = []): void {
  const why = missingFixture(extra);
  const full = `${name} [${SUITE}]`;
  if (why === undefined) {
    describe(full, fn);
    return;
  }
  if (IN_CI) throw new Error(`pool suite "${full}": ${why} (CI=true: the fixtures must be installed)`);
  console.log(`skipping pool suite "${full}": ${why}`);
  describe.skip(full, fn);
}

function sh(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, [...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }), ...(opts.input === undefined ? {} : { input: opts.input }) });
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (status ${String(r.status)}, signal ${String(r.signal)}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** pool.sh's arguments for this root (and state dir, when given). */
function poolArgs(state?: string): string[] {
  return ['--root', POOL_ROOT, ...(state === undefined ? [] : ['--state', state])];
}

/** Runs a command inside the root as root (pool.sh run), no pool needed. */
export function inRoot(cmd: readonly string[], timeoutMs = 60_000): SpawnSyncReturns<string> {
  return sh(POOL_SH, [...poolArgs(), 'run', ...cmd], { timeoutMs });
}

/** The installed HTCondor version, e.g. "25.14.1" (read, not assumed: sid moves). */
export function condorVersion(): string {
  const out = inRoot(['condor_version']).stdout;
  const m = /^\$CondorVersion: ([0-9.]+) /m.exec(out);
  if (m?.[1] === undefined) throw new Error(`cannot read the HTCondor version from: ${out}`);
  return m[1];
}

/** Installs the root when it is missing (install.sh is idempotent, ~90 s), and our files under OPT. */
function installFixtures(): void {
  if (!existsSync(join(POOL_ROOT, 'usr/sbin/condor_master')) || !existsSync(join(POOL_ROOT, 'usr/bin/apptainer')) || !existsSync(join(POOL_ROOT, SANDBOX))) {
    must(sh('bash', [INSTALL_SH, '--suite', SUITE, '--root', POOL_ROOT, '--quiet'], { timeoutMs: 900_000 }), `install.sh --suite ${SUITE}`);
  }
  mkdirSync(OPT, { recursive: true });
  chmodSync(OPT, 0o755);
  // An image that exists (it passes the starter's self test) but CJW_IMAGE_ALLOW does not list.
  if (!existsSync(SITE.disallowedImage)) {
    mkdirSync(join(OPT, 'images'), { recursive: true });
    cpSync(join(POOL_ROOT, SANDBOX), SITE.disallowedImage, { recursive: true, verbatimSymlinks: true });
  }
  chmodSync(join(OPT, 'images'), 0o755);
}

/** Serializes the pool suites across jest workers (one machine, two cores). */
async function acquireLock(): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(readFileSync(LOCK, 'utf8').trim());
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the pool lock ${LOCK} is held by pid ${String(holder)} for over 20 minutes`);
    await sleep(500);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(): void {
  try {
    if (readFileSync(LOCK, 'utf8').trim() === String(process.pid)) rmSync(LOCK, { force: true });
  } catch {
    // already gone
  }
}

export interface StartOptions {
  /** Also load condor-config/access-point.conf (the schedd holds wrapper errors). */
  readonly accessPoint: boolean;
  /** The wrapper's config file (written to OPT/wrapper.env, read through the shim's --config). */
  readonly wrapperEnv: string;
  /** Extra condor config lines, last. */
  readonly set?: readonly string[];
  /** Extra condor config files, after the snippets. */
  readonly configFiles?: readonly string[];
}

/** "job 3.0 completed exit_code=37" and friends, from pool.sh submit-wait. */
export interface WaitResult {
  readonly status: number | null;
  readonly cluster: number;
  readonly lines: readonly string[];
  readonly seconds: number;
  readonly dir: string;
}

export type JobAd = Record<string, string>;

/** A submit description and the input files written beside it (names relative to the job dir). */
export interface Job {
  readonly submit: string;
  readonly files?: Readonly<Record<string, string>>;
}

export class Pool {
  /** pool.sh's state dir for this suite (under /tmp: the same path inside the root). */
  readonly state: string;
  /** HTCondor's version in the root, e.g. "25.14.1", and its first number: read in prepare(). */
  version = '';
  major = 0;
  private running = false;
  /** Set by finish(): a prepare() still waiting for the lock (its beforeAll timed out) gives up. */
  private closed = false;
  private seq = 0;
  /** The root's Node and Apptainer versions, read in prepare(). */
  nodeVersion = '';
  apptainerVersion = '';

  constructor(readonly name: string) {
    this.state = `/tmp/cjw-pool-state-${SUITE}-${name}`;
  }

  /** Installs the fixtures (the root when missing) and the wrapper, takes the lock. Call from beforeAll. */
  async prepare(): Promise<void> {
    await acquireLock();
    if (this.closed) {
      releaseLock();
      throw new Error(`pool suite ${this.name}: finished before it got the lock`);
    }
    installFixtures();
    this.version = condorVersion();
    this.major = Number(this.version.split('.')[0]);
    this.nodeVersion = must(inRoot([POOL_NODE, '--version']), 'node --version in the root').trim();
    this.apptainerVersion = must(inRoot([APPTAINER, '--version']), 'apptainer --version in the root').trim();
    // The wrapper runs inside the root, on the root's own Node (issue 15 item 6).
    const wrapper = installWrapper(POOL_NODE, OPT);
    chmodSync(wrapper, 0o755);
    // A copy whose front names a Node that does not exist: what a node with a broken install runs.
    const noNode = join(OPT, 'condor-job-wrapper-nonode');
    writeFileSync(noNode, readFileSync(wrapper, 'utf8').replace(/^cjw_node=.*$/m, 'cjw_node=/nonexistent/bin/node'), { mode: 0o755 });
    chmodSync(noNode, 0o755);
    // A copy hardened as docs/deployment.md says: the static bash on its first line. The root has
    // no bash-static package: the host's static binary, copied under OPT, runs there as well.
    const staticFront = join(OPT, 'condor-job-wrapper-static');
    const hardened = existsSync(STATIC_BASH);
    if (hardened) {
      copyFileSync(STATIC_BASH, OPT_STATIC_BASH);
      chmodSync(OPT_STATIC_BASH, 0o755);
      writeFileSync(staticFront, withStaticFront(readFileSync(wrapper, 'utf8'), OPT_STATIC_BASH), { mode: 0o755 });
      chmodSync(staticFront, 0o755);
    }
    // The documented two-line shim, plus (test pool only) switches to the broken copy and to the
    // hardened copy for jobs whose ad asks for it, so that one pool runs them beside the others.
    // The shim is the first program HTCondor starts: it runs under the static shell too, when
    // there is one, or a job's LD_PRELOAD would load into it (docs/deployment.md, "Hardening").
    // (grep is started with an empty environment under bash, for the same reason.)
    const grep = hardened ? '(exec -c /bin/grep' : '(/bin/grep';
    const shim = [
      hardened ? `#!${OPT_STATIC_BASH} -p` : '#!/bin/sh',
      `if [ -n "$_CONDOR_JOB_AD" ] && ${grep} -q '^${NO_NODE_ATTR} = true' "$_CONDOR_JOB_AD") 2>/dev/null; then exec ${noNode} --config ${OPT}/wrapper.env "$@"; fi`,
      `if [ -n "$_CONDOR_JOB_AD" ] && ${grep} -q '^${STATIC_FRONT_ATTR} = true' "$_CONDOR_JOB_AD") 2>/dev/null; then exec ${staticFront} --config ${OPT}/wrapper.env "$@"; fi`,
      `exec ${wrapper} --config ${OPT}/wrapper.env "$@"`,
      '',
    ].join('\n');
    writeFileSync(SHIM, shim, { mode: 0o755 });
    chmodSync(SHIM, 0o755);
    console.log(`pool suite ${this.name} [${SUITE}]: HTCondor ${this.version}, ${this.apptainerVersion}, wrapper on the root's Node ${this.nodeVersion} (${POOL_ROOT})`);
  }

  /** Replaces the wrapper's config: every later job (and --check) reads it, no restart needed. */
  writeWrapperEnv(text: string): void {
    writeFileSync(join(OPT, 'wrapper.env'), text, { mode: 0o644 });
    chmodSync(join(OPT, 'wrapper.env'), 0o644);
  }

  start(o: StartOptions): void {
    if (this.closed) throw new Error(`pool suite ${this.name}: start after finish`);
    this.writeWrapperEnv(o.wrapperEnv);
    const args = [...poolArgs(this.state), 'start', '--timeout', '60', '--wrapper', SHIM, '--config', join(CONFIG_DIR, 'worker-node.conf')];
    if (o.accessPoint) args.push('--config', join(CONFIG_DIR, 'access-point.conf'));
    args.push('--config', join(CONFIG_DIR, 'personal-condor.conf'));
    for (const f of o.configFiles ?? []) args.push('--config', f);
    for (const s of o.set ?? []) args.push('--set', s);
    this.running = true;
    const t0 = Date.now();
    must(sh(POOL_SH, args), 'pool.sh start');
    console.log(`pool suite ${this.name} [${SUITE}]: started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  /** Stops the pool and releases the lock. Call from afterAll; never throws. */
  finish(): void {
    try {
      const t0 = Date.now();
      if (this.running) sh(POOL_SH, [...poolArgs(this.state), 'stop']);
      console.log(`pool suite ${this.name} [${SUITE}]: stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      this.running = false;
      this.closed = true;
      releaseLock();
    }
  }

  /** A fresh directory owned by condoruser for one job's submit file and output. */
  jobdir(name: string): string {
    this.seq += 1;
    return must(sh(POOL_SH, [...poolArgs(this.state), 'jobdir', `${name}-${String(this.seq)}`]), 'jobdir').trim();
  }

  /** Writes the submit file (as condoruser's) and returns its path. */
  writeSubmit(dir: string, text: string): string {
    return this.writeJob(dir, { submit: text });
  }

  /** Writes the submit file and the job's input files (condoruser's), returns the submit file. */
  writeJob(dir: string, job: Job | string): string {
    const j = typeof job === 'string' ? { submit: job } : job;
    const files: [string, string][] = [['job.sub', j.submit], ...Object.entries(j.files ?? {})];
    for (const [name, text] of files) {
      const f = join(dir, name);
      writeFileSync(f, text, { mode: 0o644 });
      must(sh('chown', [`${String(JOB_UID)}:${String(JOB_UID)}`, f]), 'chown');
    }
    return join(dir, 'job.sub');
  }

  /** Submits as condoruser and waits (bounded) for the cluster to finish, be held or removed. */
  submitWait(name: string, job: Job | string, timeoutS = 60, maxRequeues?: number): WaitResult {
    const dir = this.jobdir(name);
    const file = this.writeJob(dir, job);
    const t0 = Date.now();
    const args = [...poolArgs(this.state), 'submit-wait', ...(maxRequeues === undefined ? [] : ['--max-requeues', String(maxRequeues)]), file, String(timeoutS)];
    const r = sh(POOL_SH, args, { timeoutMs: (timeoutS + 30) * 1000 });
    const seconds = (Date.now() - t0) / 1000;
    const m = /submitted cluster (\d+)/.exec(r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    return { status: r.status, cluster: m?.[1] === undefined ? -1 : Number(m[1]), lines, seconds, dir };
  }

  /**
   * Submits now and resolves when submit-wait is done: a suite starts all its independent jobs
   * in beforeAll and each test awaits its own, so the jobs share the pool's slots side by side.
   * The promise never rejects (a failure is in `status` and `lines`).
   */
  launch(name: string, job: Job | string, timeoutS = 60, maxRequeues?: number): Promise<WaitResult> {
    const dir = this.jobdir(name);
    const file = this.writeJob(dir, job);
    const t0 = Date.now();
    const args = [...poolArgs(this.state), 'submit-wait', ...(maxRequeues === undefined ? [] : ['--max-requeues', String(maxRequeues)]), file, String(timeoutS)];
    return new Promise((done) => {
      const child = spawn(POOL_SH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      const killer = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 30) * 1000);
      child.on('close', (status) => {
        clearTimeout(killer);
        const m = /submitted cluster (\d+)/.exec(err);
        done({ status, cluster: m?.[1] === undefined ? -1 : Number(m[1]), lines: out.split('\n').filter((l) => l !== '').concat(status === 0 ? [] : err.split('\n').filter((l) => l !== '').slice(-5)), seconds: (Date.now() - t0) / 1000, dir });
      });
    });
  }

  /** Waits (bounded) until the cluster's first job is running and `ready` says its payload is up. */
  async waitRunning(cluster: number, ready: () => boolean, timeoutMs = 60_000): Promise<void> {
    await this.waitFor(`job ${String(cluster)}.0 to run`, () => ({ status: this.ad(cluster, ['JobStatus']).JobStatus ?? '', ready: ready() }), (v) => v.status === '2' && v.ready, timeoutMs, cluster);
  }

  /** Submits as condoruser without waiting; returns the cluster id. */
  submit(name: string, job: Job | string): { cluster: number; dir: string } {
    const dir = this.jobdir(name);
    this.writeJob(dir, job);
    const out = must(this.asUser(['condor_submit', '-terse', 'job.sub'], dir), 'condor_submit');
    const m = /^(\d+)\.\d+/m.exec(out);
    if (m?.[1] === undefined) throw new Error(`no cluster id in: ${out}`);
    return { cluster: Number(m[1]), dir };
  }

  /** Runs a command inside the root as condoruser with a clean environment and the pool's CONDOR_CONFIG (pool.sh run --user). */
  asUser(cmd: readonly string[], cwd = '/', timeoutMs = 60_000): SpawnSyncReturns<string> {
    if (cmd.length === 0) throw new Error('asUser: empty command');
    return sh(POOL_SH, [...poolArgs(this.state), 'run', '--user', ...cmd], { cwd, timeoutMs });
  }

  /** Runs an HTCondor tool inside the root as root against this pool (pool.sh run). */
  tool(name: string, args: readonly string[]): SpawnSyncReturns<string> {
    return sh(POOL_SH, [...poolArgs(this.state), 'run', name, ...args], { timeoutMs: 60_000 });
  }

  config(): string {
    return join(this.state, 'condor_config');
  }

  /** Attributes of the cluster's first job, from the queue, else from the history. */
  ad(cluster: number, attrs: readonly string[]): JobAd {
    for (const tool of ['condor_q', 'condor_history']) {
      const args = tool === 'condor_q' ? ['-allusers', String(cluster), '-af:t', ...attrs] : [String(cluster), '-limit', '1', '-af:t', ...attrs];
      const line = this.tool(tool, args).stdout.split('\n').find((l) => l !== '');
      if (line !== undefined) {
        const vals = line.split('\t');
        return Object.fromEntries(attrs.map((a, i) => [a, vals[i] ?? '']));
      }
    }
    return {};
  }

  /** Polls until `pred` holds, bounded; returns the last value. */
  async waitFor<T>(what: string, get: () => T, pred: (v: T) => boolean, timeoutMs: number, cluster?: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = get();
      if (pred(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs / 1000)} s waiting for ${what}; last value ${JSON.stringify(v)}\n${this.diagnostics(cluster)}`);
      await sleep(500);
    }
  }

  /** Job log, job stderr and daemon log tails: attached to every failure. */
  diagnostics(cluster?: number, dir?: string): string {
    const parts: string[] = [];
    if (dir !== undefined) {
      for (const f of ['log', 'err', 'out']) {
        const p = join(dir, f);
        if (existsSync(p)) parts.push(`===== ${p} =====\n${readFileSync(p, 'utf8').slice(-4000)}`);
      }
    }
    if (cluster !== undefined) parts.push(`===== condor_q -l ${String(cluster)} (selected) =====\n${this.tool('condor_q', ['-allusers', String(cluster), '-af:lh', 'JobStatus', 'NumJobStarts', 'HoldReason', 'VacateReason', 'LastRejMatchReason']).stdout}`);
    // The starter and shadow logs say what happened to an attempt; the schedd's, what the policy did.
    const logDir = join(this.state, 'log');
    const logs = existsSync(logDir) ? readdirSync(logDir).filter((f) => f.startsWith('StarterLog.slot') || f === 'ShadowLog' || f === 'SchedLog') : [];
    for (const f of logs.sort()) {
      const lines = readFileSync(join(logDir, f), 'utf8').split('\n').filter((l) => !l.includes('Received a superuser command'));
      parts.push(`===== ${join(logDir, f)} (last 25 lines) =====\n${lines.slice(-25).join('\n')}`);
    }
    return parts.join('\n');
  }

  /** Runs `check` and, when it throws, rethrows with the job's files and the daemon logs attached. */
  explain(r: WaitResult, check: () => void): void {
    try {
      check();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`${msg}\n\nsubmit-wait (status ${String(r.status)}, ${r.seconds.toFixed(1)} s):\n${r.lines.join('\n')}\n${this.diagnostics(r.cluster, r.dir)}`);
    }
  }

  /** The file from the job's dir ("" when absent). */
  read(dir: string, name: string): string {
    const p = join(dir, name);
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  }
}

/** A submit description: `lines` plus the usual output files, one job. */
export function submitFile(lines: readonly string[]): string {
  return [...lines, 'output = out', 'error = err', 'log = log', 'should_transfer_files = YES', 'queue', ''].join('\n');
}

/**
 * A container job on IMAGE: the image's /bin/sh runs SCRIPT, shipped as the input file
 * payload.sh (so no submit-file quoting or $() macro expansion touches it).
 */
export function containerJob(image: string, script: string, extra: readonly string[] = [], files: Readonly<Record<string, string>> = {}): Job {
  const inputs = ['payload.sh', ...Object.keys(files)].join(', ');
  return {
    submit: submitFile(['executable = /bin/sh', 'arguments = payload.sh', 'transfer_executable = false', `transfer_input_files = ${inputs}`, `+SingularityImage = "${image}"`, ...extra]),
    files: { 'payload.sh': script, ...files },
  };
}

/** Writes an executable hook or helper script under OPT, readable by everyone. */
export function writeExecutable(path: string, text: string): void {
  mkdirSync(resolve(path, '..'), { recursive: true });
  chmodSync(resolve(path, '..'), 0o755);
  writeFileSync(path, text, { mode: 0o755 });
  chmodSync(path, 0o755);
}

/** The test wrapper as USER_JOB_WRAPPER names it (condor-config/personal-condor.conf). */
export const SHIM = join(OPT, 'shim');

/** Paths of the test site (all under OPT, traversable by condoruser, the same inside the root). */
export const SITE = {
  data: join(OPT, 'site-data'),
  drop: join(OPT, 'drop'),
  testDir: join(OPT, 'hooks/test.d'),
  insideDir: join(OPT, 'hooks/inside.d'),
  /** An image that exists but CJW_IMAGE_ALLOW does not list. */
  disallowedImage: join(OPT, 'images/disallowed-sandbox'),
} as const;

/** Job ad attribute that makes the site's test hook fail: a node error on demand. */
export const BREAK_NODE_ATTR = 'CJW_PoolTestBreakNode';
/** Job ad attribute that makes the test shim run a wrapper copy whose Node path is wrong. */
export const NO_NODE_ATTR = 'CJW_PoolTestNoNode';
/** Job ad attribute that makes the test shim run the copy whose front runs under the static bash. */
export const STATIC_FRONT_ATTR = 'CJW_PoolTestStaticFront';
/** Input file whose presence in the scratch dir makes the inside hook fail. */
export const BREAK_INSIDE_FILE = 'cjw-break-inside';

/**
 * Creates the test site's files (a bind source, a world-writable drop dir, a test hook and an
 * inside hook) and returns the wrapper.env that uses them, with the documented keys
 * (docs/configuration.md). The hooks fail only for jobs that ask for it, so that one pool can run
 * healthy jobs and node-error jobs side by side.
 */
export function siteConfig(extraImages: readonly string[] = []): string {
  mkdirSync(SITE.data, { recursive: true });
  chmodSync(SITE.data, 0o755);
  writeFileSync(join(SITE.data, 'marker'), 'site-data-marker\n', { mode: 0o644 });
  mkdirSync(SITE.drop, { recursive: true });
  chmodSync(SITE.drop, 0o1777);
  rmSync(SITE.testDir, { recursive: true, force: true });
  rmSync(SITE.insideDir, { recursive: true, force: true });
  writeExecutable(
    join(SITE.testDir, '10-node-check'),
    `#!/bin/sh\n# The site's node check; fails (as a broken node would) for jobs whose ad has ${BREAK_NODE_ATTR} = true.\nif grep -q '^${BREAK_NODE_ATTR} = true' "$CJW_JOB_AD" 2>/dev/null; then\n  echo "/cvmfs/cms.cern.ch is not mounted (simulated)" >&2\n  exit 1\nfi\nexit 0\n`,
  );
  writeExecutable(
    join(SITE.insideDir, '10-inside-check'),
    `#!/bin/sh\n# Runs inside the container before the payload; fails when the job shipped ${BREAK_INSIDE_FILE}.\nif [ -e "./${BREAK_INSIDE_FILE}" ]; then\n  echo "inside check failed (simulated)" >&2\n  exit 3\nfi\necho "inside-hook: contained=$(test -d /.singularity.d && echo yes || echo no)"\n`,
  );
  chmodSync(join(OPT, 'hooks'), 0o755);
  return [
    '# pool suites: the test site (test/pool/pool.ts siteConfig)',
    `CJW_IMAGE_ALLOW=${[SIF, SANDBOX, ...extraImages].join(',')}`,
    `CJW_BIND_ALLOW=${SITE.drop},${SITE.drop}/**`,
    `CJW_BINDS=${SITE.data}:/site-data:ro`,
    'CJW_ENV_SET=CJW_POOL_SITE=pool-test',
    `CJW_TEST_DIR=${SITE.testDir}`,
    `CJW_INSIDE_DIR=${SITE.insideDir}`,
    '',
  ].join('\n');
}

/** Parses `KEY=value` lines of a payload's stdout. */
export function keyValues(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** One process from /proc. */
export interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly comm: string;
  readonly cmdline: string;
}

/** Every process on the host (those that vanish while being read are skipped). */
export function processes(): Proc[] {
  const list: Proc[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const status = readFileSync(`/proc/${e}/status`, 'utf8');
      const field = (k: string): string => new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '';
      list.push({ pid: Number(e), ppid: Number(field('PPid')), uid: Number(field('Uid')), comm: field('Name'), cmdline: readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() });
    } catch {
      // gone meanwhile
    }
  }
  return list;
}

/** The chain of processes from `pid` up to (and including) the first condor_starter. */
export function ancestry(pid: number, all: readonly Proc[] = processes()): Proc[] {
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const chain: Proc[] = [];
  for (let p = byPid.get(pid); p !== undefined && chain.length < 64; p = byPid.get(p.ppid)) {
    chain.push(p);
    if (p.comm.startsWith('condor_starter')) break;
  }
  return chain;
}

/** Per-scenario record printed at the end of each suite (the closing note uses it). */
export function record(suite: string, scenario: string, facts: Record<string, string | number | undefined>): void {
  const text = Object.entries(facts)
    .filter((e) => e[1] !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  console.log(`[pool ${suite}] ${scenario}: ${text}`);
}
