// Running the site's outside hooks (SPEC S6): setup, then test, each as an argv with no shell, a
// fixed PATH and only the documented variables (never the job's environment: a job must not
// steer the site's checks), bounded output, and a timeout that kills the hook's whole process
// tree. execa is loaded only here, lazily, so a job without hooks never evaluates it.
// Hooks must die with the wrapper however it ends: a signal to Node kills the running hook's
// tree from the handler; a SIGKILL to Node (or to the whole process group) cannot run any code
// of ours, so a watchdog outside our process group holds a pipe from Node and, when that pipe
// reaches EOF without "done", kills the hook's session and removes the hooks' directory.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WrapperError } from '../errors';
import type { Plan } from '../decide/plan';
import { scratchOnHost } from '../decide/rules/launcher';
import type { Facts, HookContribution, HookFile } from '../facts/types';
import { parseHookOutput } from '../facts/hookOutput';
import { withHookBindPaths } from '../facts/paths';

/** The PATH every hook gets, whatever the job's is. */
export const HOOK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** How much of each stream is kept (the tail: the end of a failing hook's output says why). */
export const OUTPUT_TAIL_BYTES = 64 * 1024;
const PARENT_POLL_MS = 200;

/** The documented hook variables (docs/hooks.md); empty strings stand for "not known". */
export interface HookVariables {
  readonly image: string;
  readonly scratch: string;
  readonly targetDir: string;
  readonly slot: string;
  readonly jobAd: string;
  readonly machineAd: string;
  readonly mode: string;
}

export interface HookResult {
  readonly stage: HookFile['stage'];
  readonly name: string;
  readonly path: string;
  readonly outcome: 'ok' | 'failed' | 'timeout';
  readonly exitCode?: number;
  readonly signal?: string;
  readonly durationMs: number;
  /** The last line of stderr (what a failure message names). */
  readonly lastStderrLine: string;
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
}

export interface HookRunOptions {
  readonly timeoutSeconds: number;
  /** Called once per finished hook, also for the one that fails (the log wants it too). */
  readonly onResult?: (r: HookResult) => void;
  /**
   * The wrapper's parent when it started (the bash front). If it dies (the starter killed the
   * job), the running hook's process group is killed and the wrapper exits.
   */
  readonly parentPid?: number;
}

/** Keeps the last `limit` bytes of a stream, and counts all of them. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  constructor(private readonly limit: number = OUTPUT_TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept - (this.chunks[0]?.length ?? 0) >= this.limit) this.kept -= this.chunks.shift()?.length ?? 0;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** The last non-empty line, shortened: it goes into a one-line error message. */
export function lastLine(text: string, max = 300): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const l = lines[lines.length - 1] ?? '';
  return l.length > max ? `${l.slice(0, max)}…` : l;
}

export function hookEnvironment(stage: HookFile['stage'], vars: HookVariables, outputFile?: string): Record<string, string> {
  return {
    PATH: HOOK_PATH,
    LANG: 'C',
    CJW_STAGE: stage,
    CJW_IMAGE: vars.image,
    CJW_SCRATCH: vars.scratch,
    CJW_TARGET_DIR: vars.targetDir,
    CJW_SLOT: vars.slot,
    CJW_JOB_AD: vars.jobAd,
    CJW_MACHINE_AD: vars.machineAd,
    CJW_MODE: vars.mode,
    ...(outputFile === undefined ? {} : { CJW_HOOK_OUTPUT: outputFile }),
  };
}

/** The signals a wrapper may be stopped by while a hook runs, with their Linux numbers. */
const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly sid: number;
  readonly zombie: boolean;
}

/** Every process's parent, group and session, from /proc/PID/stat (the command may hold ")" or spaces). */
function procTable(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ pid: Number(name), ppid: Number(f[1]), pgrp: Number(f[2]), sid: Number(f[3]), zombie: f[0] === 'Z' });
  }
  return out;
}

/**
 * Kills a hook's whole tree with SIGKILL: its process group, its session (a hook runs as a
 * session leader, and setpgid does not leave the session) and every descendant still parented
 * (what left the session by setsid). Repeated while something is left, for processes forked
 * during the kill. Never the wrapper itself or its front.
 */
export function killTree(root: number | undefined): void {
  if (root === undefined) return;
  // Stopped, not killed, before the scan: a dead hook's children would be re-parented away.
  signalGroup(root, 'SIGSTOP');
  for (let round = 0; round < 5; round++) {
    const procs = procTable();
    const children = new Map<number, number[]>();
    for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
    const targets = new Set<number>(procs.filter((p) => !p.zombie && (p.sid === root || p.pgrp === root)).map((p) => p.pid));
    const queue = [root, ...targets];
    for (let x = queue.pop(); x !== undefined; x = queue.pop()) {
      for (const c of children.get(x) ?? []) {
        if (!targets.has(c)) {
          targets.add(c);
          queue.push(c);
        }
      }
    }
    const zombies = new Set(procs.filter((p) => p.zombie).map((p) => p.pid));
    for (const own of [process.pid, process.ppid, ...zombies]) targets.delete(own);
    if (targets.size === 0) break;
    for (const t of targets) {
      try {
        process.kill(t, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * The watchdog's program, a constant (its one argument is our own temporary directory). It keeps
 * the last line Node sent: the running hook's pid, "-" between hooks. "done" ends it quietly; EOF
 * without it, or Node's pid gone, means Node died: kill that hook's group, session and children,
 * remove the directory. bash, for `read -t`.
 */
const WATCHDOG = [
  'd=$1',
  'n=$2',
  'h=-',
  // EOF, or (should anything else hold the pipe open) Node gone: checked every second.
  'while :; do',
  '  if IFS= read -r -t 1 l; then [ "$l" = done ] && exit 0; h=$l',
  '  elif [ $? -le 128 ]; then break',
  '  elif ! kill -0 "$n" 2>/dev/null; then break',
  '  fi',
  'done',
  'if [ "$h" != - ]; then',
  // Stopped first, so that the hook's children stay its children while the session is scanned.
  '  kill -s STOP -- "-$h" 2>/dev/null',
  '  k=',
  '  for s in /proc/[0-9]*; do',
  '    read -r st 2>/dev/null < "$s/stat" || continue',
  '    p=${st%% *}',
  '    set -- ${st##*") "}',
  '    if [ "$4" = "$h" ] || [ "$2" = "$h" ]; then k="$k $p"; fi',
  '  done',
  // All found before any dies: a killed hook's children would be re-parented away mid-scan.
  '  for p in $k; do kill -s KILL "$p" 2>/dev/null; done',
  '  kill -s KILL -- "-$h" 2>/dev/null',
  'fi',
  'rm -rf -- "$d"',
].join('\n');

/** How Node tells the watchdog what runs; each write is one line, atomic on a pipe. */
interface Watchdog {
  running(pid: number | undefined): void;
  done(): void;
}

function startWatchdog(dir: string): Watchdog {
  // Loaded here only: jobs without hooks never pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  // Its own session: a signal to our process group does not reach it. No job data in its argv.
  const w = spawn('/bin/bash', ['-c', WATCHDOG, 'cjw-hook-watchdog', dir, String(process.pid)], { cwd: '/', env: { PATH: HOOK_PATH }, stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  w.unref();
  const stdin = w.stdin;
  // A watchdog that failed to start must not fail the job (EPIPE): Node's own handlers remain.
  stdin?.on('error', () => undefined);
  const send = (line: string): void => {
    if (stdin !== null && stdin.writable) stdin.write(`${line}\n`);
  };
  return {
    running: (pid) => { send(pid === undefined ? '-' : String(pid)); },
    done: () => {
      send('done');
      stdin?.end();
    },
  };
}

/**
 * Runs the setup hooks, then the test hooks, in the given order; the first failure stops the
 * run with a node error (69). Returns what the setup hooks contributed.
 */
export async function runOutsideHooks(hooks: readonly HookFile[], vars: HookVariables, opts: HookRunOptions): Promise<HookContribution[]> {
  const outside = hooks.filter((h) => h.stage !== 'inside');
  if (outside.length === 0) return [];
  const { execa } = await import('execa');
  const contributions: HookContribution[] = [];
  // A private directory for the CJW_HOOK_OUTPUT files: not the job's scratch, which the job owns.
  // /tmp itself, not os.tmpdir(): that reads TMPDIR, which is the job's (and node:os would be
  // loaded on every job's start-up).
  const outDir = mkdtempSync(join('/tmp', 'cjw-hooks-'));
  const watchdog = startWatchdog(outDir);
  let running: number | undefined;
  let stoppedBy: StopSignal | undefined;
  const onSignal = (sig: StopSignal): void => {
    stoppedBy = sig;
    killTree(running);
  };
  const handlers = Object.keys(STOP_SIGNALS).map((sig) => {
    const h = (): void => { onSignal(sig as StopSignal); };
    process.on(sig, h);
    return [sig, h] as const;
  });
  const watch = opts.parentPid === undefined ? undefined : setInterval(() => {
    // A signal already stops the hooks and reports it (the front went with the same signal).
    if (process.ppid === opts.parentPid || stoppedBy !== undefined) return;
    // The front is gone (the starter killed the job): nobody reads our decision any more. No
    // error file either: an evicted job must not look like a wrapper failure.
    killTree(running);
    rmSync(outDir, { recursive: true, force: true });
    process.stderr.write('condor-job-wrapper: node error: hooks: the wrapper\'s front is gone (the job was killed); the running hook was killed\n');
    process.exit(143);
  }, PARENT_POLL_MS);
  try {
    for (const [i, hook] of outside.entries()) {
      if (stoppedBy !== undefined) throw stopped(hook, stoppedBy);
      const outputFile = hook.stage === 'setup' ? join(outDir, `${i}.env`) : undefined;
      if (outputFile !== undefined) writeFileSync(outputFile, '', { mode: 0o600 });
      const stdout = new TailBuffer();
      const stderr = new TailBuffer();
      const started = Number(process.hrtime.bigint()) / 1e6;
      let timedOut = false;
      const child = execa(hook.path, [], {
        cwd: '/',
        env: hookEnvironment(hook.stage, vars, outputFile),
        extendEnv: false,
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
        buffer: false,
        reject: false,
        // Its own process group, so that a timeout kills what it started too.
        detached: true,
        cleanup: false,
        stripFinalNewline: false,
      });
      running = child.pid;
      watchdog.running(child.pid);
      // A signal that came while the hook was being started.
      if (stoppedBy !== undefined) killTree(child.pid);
      child.stdout.on('data', (c: Buffer) => { stdout.push(c); });
      child.stderr.on('data', (c: Buffer) => { stderr.push(c); });
      // Leftovers in the group would hold the output pipes open: a hook is a check, not a daemon.
      child.on('exit', () => { killTree(child.pid); });
      const timer = setTimeout(() => {
        timedOut = true;
        killTree(child.pid);
      }, opts.timeoutSeconds * 1000);
      const r = await child;
      clearTimeout(timer);
      running = undefined;
      watchdog.running(undefined);
      const durationMs = Math.round(Number(process.hrtime.bigint()) / 1e6 - started);
      const outcome = timedOut ? 'timeout' : r.exitCode === 0 ? 'ok' : 'failed';
      const result: HookResult = {
        stage: hook.stage,
        name: hook.name,
        path: hook.path,
        outcome,
        ...(r.exitCode === undefined ? {} : { exitCode: r.exitCode }),
        ...(r.signal === undefined ? {} : { signal: r.signal }),
        durationMs,
        lastStderrLine: lastLine(stderr.text()),
        stdoutBytes: stdout.total,
        stderrBytes: stderr.total,
      };
      opts.onResult?.(result);
      if (stoppedBy !== undefined) throw stopped(hook, stoppedBy);
      if (outcome === 'timeout') {
        throw new WrapperError('hook.timeout', `${hook.stage} hook ${hook.name}`, `killed after the ${opts.timeoutSeconds} s timeout (CJW_HOOK_TIMEOUT)${result.lastStderrLine === '' ? '' : `; last stderr line: ${result.lastStderrLine}`}`);
      }
      if (outcome === 'failed') {
        const how = r.exitCode !== undefined ? `exit ${r.exitCode}` : r.signal !== undefined ? `killed by signal ${signalNumber(r.signal)} (${r.signal})` : `cannot start it: ${r.originalMessage}`;
        throw new WrapperError('hook.failed', `${hook.stage} hook ${hook.name}`, result.lastStderrLine === '' ? how : `${how}: ${result.lastStderrLine}`);
      }
      if (outputFile !== undefined) {
        const c = parseHookOutput(hook.name, readFileSync(outputFile, 'utf8'));
        if (c.binds.length > 0 || c.env.size > 0) contributions.push(c);
      }
    }
  } finally {
    if (watch !== undefined) clearInterval(watch);
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    rmSync(outDir, { recursive: true, force: true });
    watchdog.done();
  }
  return contributions;
}

function stopped(hook: HookFile, sig: StopSignal): WrapperError {
  return new WrapperError('hook.killed', `${hook.stage} hook ${hook.name}`, `the wrapper was stopped by signal ${STOP_SIGNALS[sig]} (${sig}) while the hook ran; the hook and what it started were killed`);
}

/** A signal's number, for the message; node:os only on this failure path. */
function signalNumber(name: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { constants } = require('node:os') as typeof import('node:os');
  const n = (constants.signals as Record<string, number | undefined>)[name];
  return n === undefined ? '?' : String(n);
}

/**
 * The documented hook variables for a plan (docs/hooks.md). The ad paths are the starter's
 * (it sets `_CONDOR_*` over whatever the job asked for); CJW_MODE is the negotiated mode when
 * policy was consulted, else the site's CJW_MODE.
 */
export function hookVariables(plan: Plan, facts: Facts): HookVariables {
  return {
    image: plan.invocation?.image ?? '',
    scratch: scratchOnHost(facts),
    targetDir: facts.config.targetDir,
    slot: facts.env.get('_CONDOR_SLOT') ?? '',
    jobAd: facts.env.get('_CONDOR_JOB_AD') ?? '',
    machineAd: facts.env.get('_CONDOR_MACHINE_AD') ?? '',
    mode: plan.negotiation?.effective ?? facts.config.mode,
  };
}

/**
 * The act stage's hook step: runs the plan's setup and test hooks and, when setup hooks
 * contributed binds or environment, decides again with those contributions as facts, so that they
 * meet exactly the policy everything else meets (bind allow/deny, env drop list) and show up in
 * the plan with the hook as their origin. Returns the plan to perform.
 */
export async function runHooksAndRedecide(plan: Plan, facts: Facts, redecide: (f: Facts) => Plan, opts: HookRunOptions): Promise<Plan> {
  if (!plan.hooks.some((h) => h.stage !== 'inside')) return plan;
  const contributions = await runOutsideHooks(plan.hooks, hookVariables(plan, facts), opts);
  if (contributions.length === 0) return plan;
  return redecide(withHookBindPaths({ ...facts, contributions }));
}
