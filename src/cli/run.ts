// The imperative shell around the pure core: parse → facts → decide → act. Everything that
// touches the host happens here or in act/ and facts/; decide/ only computes.

import { version } from '../../package.json';
import { decide, decideForExplain } from '../decide/decide';
import type { DispatchMode, Plan } from '../decide/plan';
import { asWrapperError, Exit, WrapperError } from '../errors';
import type { Config } from '../facts/config/schema';
import { loadConfig } from '../facts/config/load';
import { gatherFacts } from '../facts/gather';
import { parseStarterLine } from '../facts/versionCache';
import type { Facts } from '../facts/types';
import type { Invocation } from '../invocation/model';
import { encodeHandover, type Handover } from '../act/front';
import { resolveProgram } from '../act/resolve';
import { codeCacheLine, writeCodeCache } from '../act/codeCache';
import { runHooksAndRedecide } from '../act/hooks';
import { writeLauncher } from '../act/launcher';
import { JobLog } from '../act/log';
import { removeStaleErrorFile } from '../act/report';
import { classify, classifyBuiltin } from './dispatch';
import { explainOutput } from './explain';
import { HELP, parseOwnOptions, type OwnOptions } from './options';

export interface RunContext {
  readonly argv: readonly string[];
  readonly env: ReadonlyMap<string, string>;
  readonly cwd: string;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}

const EXIT_OK: Handover = { kind: 'exit', code: 0 };

export async function run(ctx: RunContext): Promise<Handover> {
  const opts = parseOwnOptions(ctx.argv);
  if (opts.help) {
    ctx.stdout(HELP);
    return EXIT_OK;
  }
  if (opts.version) {
    ctx.stdout(`condor-job-wrapper ${version}\n${codeCacheLine()}\n`);
    return EXIT_OK;
  }
  if (opts.check) {
    // Rarely used (admins, STARTD_CRON): loaded only when asked, so jobs never pay for it.
    const { runCheck } = await import('./check');
    return runCheck(opts, ctx);
  }
  const command = opts.command;
  const program = command[0];
  if (program === undefined || program === '') {
    throw new WrapperError('usage.missing-command', 'no command to run', 'the wrapper was called without a job command line');
  }
  // sshd of condor_ssh_to_job: nothing read, nothing changed (the bundled front already does
  // this before Node starts; this covers a direct `node` invocation).
  if (classifyBuiltin(program) === 'passthrough' && !opts.explain) return { kind: 'exec', argv: command, env: ctx.env };

  if (!opts.explain) removeStaleErrorFile(ctx.env.get('_CONDOR_WRAPPER_ERROR_FILE'));
  const config = loadConfig(opts.config);
  const dispatch = classify(program, config.runtimeNames, config.passthrough);
  if (opts.warmCodeCache) return warmCodeCache(opts, config, dispatch, command, ctx);
  if (dispatch === 'passthrough' && !opts.explain) return { kind: 'exec', argv: command, env: ctx.env };
  // One traceability record per job (act/log.ts), also when the job stops with an error.
  const jobLog = opts.explain ? undefined : new JobLog(config, ctx.env, ctx.stderr);
  try {
    return await decideAndAct(opts, config, dispatch, command, ctx, jobLog);
  } catch (e) {
    await jobLog?.finish({ kind: 'error', error: asWrapperError(e) });
    throw e;
  }
}

/**
 * Started by --check (as root) through the bundle's front, with a starter-like line and
 * environment: makes the decision exactly as a job would (hooks, log and exec left out), encodes
 * the handover, and then stores V8's code cache, so that it holds the code a job really runs.
 * A job cannot use it to write anything: only root writes the cache (act/codeCache.ts).
 */
async function warmCodeCache(opts: OwnOptions, config: Config, dispatch: DispatchMode, command: readonly string[], ctx: RunContext): Promise<Handover> {
  let stopped = '';
  try {
    encodeHandover(await decideAndAct(opts, config, dispatch, command, ctx, undefined, false));
  } catch (e) {
    // The error path is part of the job path too; the cache is written all the same.
    stopped = `; the warm-up decision stopped: ${asWrapperError(e).message}`;
  }
  const w = writeCodeCache(process.getuid?.() === 0);
  ctx.stdout(`code cache: ${w.ok ? 'ok' : 'not written'}: ${w.text}${stopped}\n`);
  return { kind: 'exit', code: w.ok ? 0 : Exit.UNAVAILABLE };
}

async function decideAndAct(opts: OwnOptions, config: Config, dispatch: DispatchMode, command: readonly string[], ctx: RunContext, jobLog: JobLog | undefined, withHooks = true): Promise<Handover> {
  // parse
  // (with the installed runtime's flag table: family and version from the cache, facts/versionCache.ts)
  const parsed = dispatch === 'starter-built' ? parseStarterLine(command, config.gpuFlag, !opts.explain) : undefined;
  const invocation = parsed?.invocation;
  // facts
  const facts = gatherFacts({ env: ctx.env, cwd: ctx.cwd, config, dispatch, command, explain: opts.explain, ...adPaths(opts), ...(parsed === undefined ? {} : { invocation: parsed.invocation, runtimeVersion: parsed.runtimeVersion }) });
  // decide (--explain prints the decision, including one that stops the job, and runs nothing)
  if (opts.explain) {
    const decision = decideForExplain({ dispatch, command, ...(invocation === undefined ? {} : { invocation }) }, facts);
    ctx.stdout(explainOutput(decision, facts, opts.json));
    return EXIT_OK;
  }
  const first = decidePlan(dispatch, command, invocation, facts);
  // act: setup and test hooks (what they contribute is decided on again), the inside launcher,
  // the log record, then the handover
  jobLog?.decided(first, facts);
  const plan = !withHooks
    ? first
    : await runHooksAndRedecide(first, facts, (f) => decidePlan(dispatch, command, invocation, f), {
        timeoutSeconds: config.hookTimeoutSeconds,
        parentPid: process.ppid,
        onResult: (r) => jobLog?.hook(r),
      });
  jobLog?.decided(plan, facts);
  if (plan.launcher !== undefined) writeLauncher(plan.launcher);
  const handover = handoverFor(plan, config, ctx);
  if (handover.kind === 'exec') await jobLog?.finish({ kind: 'exec', argv: handover.argv, contained: plan.contained });
  return handover;
}

function decidePlan(dispatch: DispatchMode, command: readonly string[], invocation: Invocation | undefined, facts: Facts): Plan {
  return decide({ dispatch, command, ...(invocation === undefined ? {} : { invocation }) }, facts);
}

function adPaths(opts: OwnOptions): { jobAdPath?: string; machineAdPath?: string } {
  return { ...(opts.jobAd === undefined ? {} : { jobAdPath: opts.jobAd }), ...(opts.machineAd === undefined ? {} : { machineAdPath: opts.machineAd }) };
}

function handoverFor(plan: Plan, _config: Config, ctx: RunContext): Handover {
  for (const w of plan.warnings) ctx.stderr(`condor-job-wrapper: warning: ${w}\n`);
  const [program, ...args] = plan.argv;
  if (program === undefined) throw new WrapperError('internal.exec', 'exec', 'the plan has no program');
  const file = resolveProgram(program, plan.env.get('PATH'), ctx.cwd);
  return { kind: 'exec', argv: [file, ...args], env: plan.env };
}
