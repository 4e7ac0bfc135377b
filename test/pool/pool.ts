// The real-pool harness (issue 9): a personal HTCondor from ../shared/htcondor with the bundled
// wrapper as USER_JOB_WRAPPER, jobs submitted as the unprivileged condoruser. Shared by the
// suites in this folder; each suite starts its own pool and stops it in afterAll.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUNDLE, IN_CI, ROOT, STATIC_BASH, installWrapper, withStaticFront } from '../e2e/harness';

export const SHARED = resolve(ROOT, '../shared');
export const FIXTURE = join(SHARED, 'htcondor');
export const PC = join(FIXTURE, 'personal-condor.sh');
export const CONDOR = '/opt/htcondor';
/** Where the wrapper, its config, images and hooks live: every parent dir traversable by condoruser. */
export const OPT = '/opt/cjw-test';
export const IMAGES = join(OPT, 'images');
export const SIF = join(IMAGES, 'busybox.sif');
export const SIMG = join(IMAGES, 'busybox.simg');
export const SANDBOX = join(IMAGES, 'busybox-sandbox');
export const SING34 = '/opt/singularity-3.4.2/bin/singularity';
export const SING26U = '/opt/singularity-2.6.1-userns/bin/singularity';
export const JOB_USER = 'condoruser';
export const CONFIG_DIR = join(ROOT, 'condor-config');
const LOCK = '/tmp/cjw-pool-suites.lock';

/** Why the pool suites cannot run here, or undefined when they can. */
export function missingFixture(extra: readonly string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (the pool runs jobs as condoruser)';
  for (const p of [PC, join(FIXTURE, 'install.sh'), join(SHARED, 'runtimes/install.sh'), BUNDLE, ...extra]) {
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
  if (why === undefined) {
    describe(name, fn);
    return;
  }
  if (IN_CI) throw new Error(`pool suite "${name}": ${why} (CI=true: the fixtures must be installed)`);
  console.log(`skipping pool suite "${name}": ${why}`);
  describe.skip(name, fn);
}

function sh(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, [...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, ...(opts.input === undefined ? {} : { input: opts.input }) });
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (status ${String(r.status)}, signal ${String(r.signal)}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The installed HTCondor version, e.g. "24.0.23". */
export function condorVersion(): string {
  const out = sh(join(CONDOR, 'bin/condor_version'), []).stdout;
  const m = /^\$CondorVersion: ([0-9.]+) /m.exec(out);
  if (m?.[1] === undefined) throw new Error(`cannot read the HTCondor version from: ${out}`);
  return m[1];
}

/** Installs what is missing (never switches an installed HTCondor version: .ci/run does that). */
function installFixtures(): void {
  if (!existsSync(join(CONDOR, 'sbin/condor_master'))) must(sh('bash', [join(FIXTURE, 'install.sh')], { timeoutMs: 600_000 }), 'htcondor install.sh');
  if (!existsSync(SING34) || !existsSync(SING26U)) must(sh('bash', [join(SHARED, 'runtimes/install.sh'), '--quiet'], { timeoutMs: 600_000 }), 'runtimes install.sh');
  mkdirSync(OPT, { recursive: true });
  chmodSync(OPT, 0o755);
  if (!existsSync(SIF) || !existsSync(SANDBOX)) must(sh('bash', [join(SHARED, 'runtimes/make-images.sh'), IMAGES], { timeoutMs: 300_000 }), 'make-images.sh');
  chmodSync(IMAGES, 0o755);
}

/** The Node the installed wrapper runs on: the one running jest, copied under OPT if condoruser cannot reach it. */
function nodeForJobs(): string {
  const mine = process.execPath;
  if (sh('runuser', ['-u', JOB_USER, '--', 'test', '-x', mine]).status === 0) return mine;
  const copy = join(OPT, 'node');
  copyFileSync(mine, copy);
  chmodSync(copy, 0o755);
  return copy;
}

/** Serializes the pool suites across jest workers (one HTCondor install, two cores). */
async function acquireLock(): Promise<void> {
  const deadline = Date.now() + 20 * 60_000;
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

/** "job 3.0 completed exit_code=37" and friends, from personal-condor.sh submit-wait. */
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
  readonly state: string;
  readonly version: string;
  readonly major: number;
  private running = false;
  private seq = 0;

  constructor(readonly suite: string) {
    this.state = `/tmp/cjw-pool-${suite}`;
    this.version = condorVersion();
    this.major = Number(this.version.split('.')[0]);
  }

  /** Installs the fixtures and the wrapper, takes the lock. Call from beforeAll. */
  async prepare(): Promise<void> {
    await acquireLock();
    installFixtures();
    const wrapper = installWrapper(nodeForJobs(), OPT);
    // A copy whose front names a Node that does not exist: what a node with a broken install runs.
    const noNode = join(OPT, 'condor-job-wrapper-nonode');
    writeFileSync(noNode, readFileSync(wrapper, 'utf8').replace(/^cjw_node=.*$/m, 'cjw_node=/nonexistent/bin/node'), { mode: 0o755 });
    chmodSync(noNode, 0o755);
    // A copy hardened as docs/deployment.md says: the static bash on its first line.
    const staticFront = join(OPT, 'condor-job-wrapper-static');
    const hardened = existsSync(STATIC_BASH);
    if (hardened) {
      writeFileSync(staticFront, withStaticFront(readFileSync(wrapper, 'utf8')), { mode: 0o755 });
      chmodSync(staticFront, 0o755);
    }
    // The documented two-line shim, plus (test pool only) switches to the broken copy and to the
    // hardened copy for jobs whose ad asks for it, so that one pool runs them beside the others.
    // The shim is the first program HTCondor starts: it runs under the static shell too, when
    // there is one, or a job's LD_PRELOAD would load into it (docs/deployment.md, "Hardening").
    // (grep is started with an empty environment under bash, for the same reason.)
    const grep = hardened ? '(exec -c /bin/grep' : '(/bin/grep';
    const shim = [
      hardened ? `#!${STATIC_BASH} -p` : '#!/bin/sh',
      `if [ -n "$_CONDOR_JOB_AD" ] && ${grep} -q '^${NO_NODE_ATTR} = true' "$_CONDOR_JOB_AD") 2>/dev/null; then exec ${noNode} --config ${OPT}/wrapper.env "$@"; fi`,
      `if [ -n "$_CONDOR_JOB_AD" ] && ${grep} -q '^${STATIC_FRONT_ATTR} = true' "$_CONDOR_JOB_AD") 2>/dev/null; then exec ${staticFront} --config ${OPT}/wrapper.env "$@"; fi`,
      `exec ${wrapper} --config ${OPT}/wrapper.env "$@"`,
      '',
    ].join('\n');
    writeFileSync(join(OPT, 'shim'), shim, { mode: 0o755 });
    chmodSync(join(OPT, 'shim'), 0o755);
    console.log(`pool suite ${this.suite}: HTCondor ${this.version}, Node ${process.version} (${process.execPath})`);
  }

  /** Replaces the wrapper's config: every later job (and --check) reads it, no restart needed. */
  writeWrapperEnv(text: string): void {
    writeFileSync(join(OPT, 'wrapper.env'), text, { mode: 0o644 });
    chmodSync(join(OPT, 'wrapper.env'), 0o644);
  }

  start(o: StartOptions): void {
    this.writeWrapperEnv(o.wrapperEnv);
    const args = ['--state', this.state, 'start', '--timeout', '60', '--config', join(CONFIG_DIR, 'worker-node.conf')];
    if (o.accessPoint) args.push('--config', join(CONFIG_DIR, 'access-point.conf'));
    args.push('--config', join(CONFIG_DIR, 'personal-condor.conf'));
    for (const f of o.configFiles ?? []) args.push('--config', f);
    for (const s of o.set ?? []) args.push('--set', s);
    this.running = true;
    const t0 = Date.now();
    must(sh(PC, args), 'personal-condor.sh start');
    console.log(`pool suite ${this.suite}: started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  /** Stops the pool and releases the lock. Call from afterAll; never throws. */
  finish(): void {
    try {
      const t0 = Date.now();
      if (this.running) sh(PC, ['--state', this.state, 'stop']);
      console.log(`pool suite ${this.suite}: stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      this.running = false;
      releaseLock();
    }
  }

  /** A fresh directory owned by condoruser for one job's submit file and output. */
  jobdir(name: string): string {
    this.seq += 1;
    return must(sh(PC, ['--state', this.state, 'jobdir', `${name}-${String(this.seq)}`]), 'jobdir').trim();
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
      must(sh('chown', [`${JOB_USER}:${JOB_USER}`, f]), 'chown');
    }
    return join(dir, 'job.sub');
  }

  /** Submits as condoruser and waits (bounded) for the cluster to finish, be held or removed. */
  submitWait(name: string, job: Job | string, timeoutS = 60, maxRequeues?: number): WaitResult {
    const dir = this.jobdir(name);
    const file = this.writeJob(dir, job);
    const t0 = Date.now();
    const args = ['--state', this.state, 'submit-wait', ...(maxRequeues === undefined ? [] : ['--max-requeues', String(maxRequeues)]), file, String(timeoutS)];
    const r = sh(PC, args, { timeoutMs: (timeoutS + 30) * 1000 });
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
    const args = ['--state', this.state, 'submit-wait', ...(maxRequeues === undefined ? [] : ['--max-requeues', String(maxRequeues)]), file, String(timeoutS)];
    return new Promise((done) => {
      const child = spawn(PC, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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

  /** Runs an HTCondor tool as condoruser with a clean environment (as personal-condor.sh does). */
  asUser(cmd: readonly string[], cwd = '/', timeoutMs = 60_000): SpawnSyncReturns<string> {
    const [tool, ...rest] = cmd;
    if (tool === undefined) throw new Error('asUser: empty command');
    return spawnSync(
      'runuser',
      ['-u', JOB_USER, '--', 'env', '-i', `PATH=${CONDOR}/bin:/usr/local/bin:/usr/bin:/bin`, `HOME=/home/${JOB_USER}`, `USER=${JOB_USER}`, `LOGNAME=${JOB_USER}`, `CONDOR_CONFIG=${this.config()}`, tool.includes('/') ? tool : join(CONDOR, 'bin', tool), ...rest],
      { encoding: 'utf8', cwd, timeout: timeoutMs },
    );
  }

  /** Runs an HTCondor tool as root against this pool. */
  tool(name: string, args: readonly string[]): SpawnSyncReturns<string> {
    return spawnSync(join(CONDOR, 'bin', name), [...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: `${CONDOR}/bin:/usr/bin:/bin`, CONDOR_CONFIG: this.config() } });
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

/** Host paths of the test site (all under OPT, traversable by condoruser). */
export const SITE = {
  data: join(OPT, 'site-data'),
  drop: join(OPT, 'drop'),
  testDir: join(OPT, 'hooks/test.d'),
  insideDir: join(OPT, 'hooks/inside.d'),
  /** An image that exists but CJW_IMAGE_ALLOW does not list. */
  disallowedImage: join(IMAGES, 'nested-sandbox'),
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
    `CJW_IMAGE_ALLOW=${[SIF, SANDBOX, SIMG, ...extraImages].join(',')}`,
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
