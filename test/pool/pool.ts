// The real-pool harness (issue 9): a personal HTCondor from ../shared/htcondor with the bundled
// wrapper as USER_JOB_WRAPPER, jobs submitted as the unprivileged condoruser. Shared by the
// suites in this folder; each suite starts its own pool and stops it in afterAll.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUNDLE, IN_CI, ROOT, installWrapper } from '../e2e/harness';

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
const CONFIG_DIR = join(ROOT, 'condor-config');
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

function sleep(ms: number): Promise<void> {
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
    writeFileSync(join(OPT, 'shim'), `#!/bin/sh\nexec ${wrapper} --config ${OPT}/wrapper.env "$@"\n`, { mode: 0o755 });
    chmodSync(join(OPT, 'shim'), 0o755);
    console.log(`pool suite ${this.suite}: HTCondor ${this.version}, Node ${process.version} (${process.execPath})`);
  }

  start(o: StartOptions): void {
    writeFileSync(join(OPT, 'wrapper.env'), o.wrapperEnv, { mode: 0o644 });
    chmodSync(join(OPT, 'wrapper.env'), 0o644);
    const args = ['--state', this.state, 'start', '--timeout', '60', '--config', join(CONFIG_DIR, 'worker-node.conf')];
    if (o.accessPoint) args.push('--config', join(CONFIG_DIR, 'access-point.conf'));
    args.push('--config', join(CONFIG_DIR, 'personal-condor.conf'));
    for (const f of o.configFiles ?? []) args.push('--config', f);
    for (const s of o.set ?? []) args.push('--set', s);
    this.running = true;
    must(sh(PC, args), 'personal-condor.sh start');
  }

  /** Stops the pool and releases the lock. Call from afterAll; never throws. */
  finish(): void {
    try {
      if (this.running) sh(PC, ['--state', this.state, 'stop']);
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
    const f = join(dir, 'job.sub');
    writeFileSync(f, text, { mode: 0o644 });
    must(sh('chown', [`${JOB_USER}:${JOB_USER}`, f]), 'chown');
    return f;
  }

  /** Submits as condoruser and waits (bounded) for the cluster to finish, be held or removed. */
  submitWait(name: string, submit: string, timeoutS = 60, maxRequeues?: number): WaitResult {
    const dir = this.jobdir(name);
    const file = this.writeSubmit(dir, submit);
    const t0 = Date.now();
    const args = ['--state', this.state, 'submit-wait', ...(maxRequeues === undefined ? [] : ['--max-requeues', String(maxRequeues)]), file, String(timeoutS)];
    const r = sh(PC, args, { timeoutMs: (timeoutS + 30) * 1000 });
    const seconds = (Date.now() - t0) / 1000;
    const m = /submitted cluster (\d+)/.exec(r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    return { status: r.status, cluster: m?.[1] === undefined ? -1 : Number(m[1]), lines, seconds, dir };
  }

  /** Submits as condoruser without waiting; returns the cluster id. */
  submit(name: string, submit: string): { cluster: number; dir: string } {
    const dir = this.jobdir(name);
    this.writeSubmit(dir, submit);
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
    parts.push(sh(PC, ['--state', this.state, 'logs', '30']).stderr);
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

/** A container job on IMAGE running /bin/sh -c SCRIPT (the image's sh, not transferred). */
export function containerJob(image: string, script: string, extra: readonly string[] = []): string {
  return submitFile(['executable = /bin/sh', `arguments = "-c '${script.replace(/'/g, "''").replace(/"/g, '""')}'"`, 'transfer_executable = false', `+SingularityImage = "${image}"`, ...extra]);
}

/** Writes an executable hook or helper script under OPT, readable by everyone. */
export function writeExecutable(path: string, text: string): void {
  mkdirSync(resolve(path, '..'), { recursive: true });
  chmodSync(resolve(path, '..'), 0o755);
  writeFileSync(path, text, { mode: 0o755 });
  chmodSync(path, 0o755);
}

/** Per-scenario record printed at the end of each suite (the closing note uses it). */
export function record(suite: string, scenario: string, facts: Record<string, string | number | undefined>): void {
  const text = Object.entries(facts)
    .filter((e) => e[1] !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  console.log(`[pool ${suite}] ${scenario}: ${text}`);
}
