// Running the site's outside hooks (SPEC S6): setup, then test, each as an argv with no shell, a
// fixed PATH and only the documented variables (never the job's environment: a job must not
// steer the site's checks), bounded output, and a timeout that kills the hook's whole process
// group. execa is loaded only here, lazily, so a job without hooks never evaluates it.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
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
  let running: number | undefined;
  const watch = opts.parentPid === undefined ? undefined : setInterval(() => {
    if (process.ppid === opts.parentPid) return;
    killGroup(running);
    rmSync(outDir, { recursive: true, force: true });
    process.exit(143);
  }, PARENT_POLL_MS);
  try {
    for (const [i, hook] of outside.entries()) {
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
      child.stdout.on('data', (c: Buffer) => { stdout.push(c); });
      child.stderr.on('data', (c: Buffer) => { stderr.push(c); });
      // Leftovers in the group would hold the output pipes open: a hook is a check, not a daemon.
      child.on('exit', () => { killGroup(child.pid); });
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, opts.timeoutSeconds * 1000);
      const r = await child;
      clearTimeout(timer);
      running = undefined;
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
      if (outcome === 'timeout') {
        throw new WrapperError('hook.timeout', `${hook.stage} hook ${hook.name}`, `killed after the ${opts.timeoutSeconds} s timeout (CJW_HOOK_TIMEOUT)${result.lastStderrLine === '' ? '' : `; last stderr line: ${result.lastStderrLine}`}`);
      }
      if (outcome === 'failed') {
        const how = r.exitCode !== undefined ? `exit ${r.exitCode}` : r.signal !== undefined ? `killed by ${r.signal}` : `cannot start it: ${r.originalMessage}`;
        throw new WrapperError('hook.failed', `${hook.stage} hook ${hook.name}`, result.lastStderrLine === '' ? how : `${how}: ${result.lastStderrLine}`);
      }
      if (outputFile !== undefined) {
        const c = parseHookOutput(hook.name, readFileSync(outputFile, 'utf8'));
        if (c.binds.length > 0 || c.env.size > 0) contributions.push(c);
      }
    }
  } finally {
    if (watch !== undefined) clearInterval(watch);
    rmSync(outDir, { recursive: true, force: true });
  }
  return contributions;
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
