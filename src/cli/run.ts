// The imperative shell around the pure core: parse → facts → decide → act. Everything that
// touches the host happens here or in act/ and facts/; decide/ only computes.

import { version } from '../../package.json';
import { decide, decideForExplain } from '../decide/decide';
import type { Plan } from '../decide/plan';
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
import { jobDirs, programTrust } from '../facts/program';
import { readClassAdFile } from '../facts/classad';
import type { ClassAd } from '../facts/types';
import { containerRequestOf, nameClass, passthroughDecision, runtimeLineDecision, type DispatchDecision } from '../decide/dispatch';
import { flagValueOf } from '../invocation/model';
import { removeStaleErrorFile } from '../act/report';
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

/** Whose line this is, once the config is known (SPEC S2; decide/dispatch.ts). */
interface LineDecision extends DispatchDecision {
  readonly parsed?: ReturnType<typeof parseStarterLine>;
  readonly jobAd?: ClassAd;
}

/**
 * A runtime name (or any trusted program, when the job ad says HTCondor containerized the job)
 * is the starter's line only when it agrees with the job ad; the job ad is read and the line
 * parsed only then. A starter line with an unknown flag still fails with that flag named.
 */
function classifyLine(program: string, command: readonly string[], config: Config, dirs: readonly string[], opts: OwnOptions, ctx: RunContext): LineDecision {
  const name = nameClass(program, config.runtimeNames, config.passthrough);
  if (name === 'sshd') return passthroughDecision(programTrust(program, dirs));
  const plain: LineDecision = { mode: 'wrapper-built', reason: `${program} is the job's executable` };
  const trust = programTrust(program, dirs);
  if (name === 'other' && !trust.trusted) return plain;
  const jobAd = readJobAdForDispatch(opts.jobAd ?? ctx.env.get('_CONDOR_JOB_AD'), opts.explain);
  const withAd = jobAd === undefined ? {} : { jobAd };
  // The job's own executable, with no image requested: nothing to parse.
  if (name === 'other' && (jobAd === undefined || containerRequestOf(jobAd).image === undefined)) return { ...plain, ...withAd };
  if (name === 'runtime' && jobAd !== undefined && containerRequestOf(jobAd).image === undefined) {
    return { ...runtimeLineDecision(name, { trust, jobAd, explain: opts.explain }), ...withAd };
  }
  let parsed: ReturnType<typeof parseStarterLine> | undefined;
  try {
    parsed = parseStarterLine(command, !opts.explain);
  } catch (e) {
    // Any other program: not a runtime line after all. A runtime's line with an unknown flag: say so.
    if (name === 'runtime') throw e;
  }
  const scratch = ctx.env.get('_CONDOR_SCRATCH_DIR');
  const workdir = parsed === undefined ? undefined : flagValueOf(parsed.invocation, 'workdir');
  const d = runtimeLineDecision(name, {
    trust,
    explain: opts.explain,
    ...withAd,
    ...(parsed === undefined ? {} : { invocation: parsed.invocation }),
    ...(scratch === undefined || !scratch.startsWith('/') ? {} : { scratch }),
    ...(workdir === undefined ? {} : { workdir }),
  });
  return { ...d, ...withAd, ...(d.mode === 'starter-built' && parsed !== undefined ? { parsed } : {}) };
}

/** The job ad for the dispatch check; --explain without one explains what it can. */
function readJobAdForDispatch(path: string | undefined, explain: boolean): ClassAd | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readClassAdFile(path, 'job');
  } catch (e) {
    if (explain) return undefined;
    throw e;
  }
}

export async function run(ctx: RunContext): Promise<Handover> {
  const opts = parseOwnOptions(ctx.argv);
  if (opts.help) {
    ctx.stdout(HELP);
    return EXIT_OK;
  }
  if (opts.version) {
    // Which Node, and the V8 flags the front chose for it (act/nodeFlags.ts): what every job starts.
    const flags = process.execArgv.length === 0 ? 'none' : process.execArgv.join(' ');
    ctx.stdout(`condor-job-wrapper ${version}\nnode: ${process.version} ${process.execPath}; V8 flags: ${flags}\n${codeCacheLine()}\n`);
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
  // The sshd of condor_ssh_to_job: a built-in name, trusted only when the job cannot have written
  // the file; then nothing is read (not even the config, so a broken config never breaks
  // condor_ssh_to_job) and nothing is changed.
  // --explain is an admin's run: its cwd is no job's sandbox (the environment may still name one).
  const dirs = jobDirs(ctx.env, opts.explain ? undefined : ctx.cwd);
  let early: DispatchDecision | undefined;
  if (nameClass(program) === 'sshd') {
    early = passthroughDecision(programTrust(program, dirs));
    if (early.mode === 'passthrough' && !opts.explain) return { kind: 'pass', skip: ctx.argv.length - command.length };
  }

  if (!opts.explain) removeStaleErrorFile(ctx.env.get('_CONDOR_WRAPPER_ERROR_FILE'));
  const config = loadConfig(opts.config);
  const line = early ?? classifyLine(program, command, config, dirs, opts, ctx);
  const dispatch = line.mode;
  if (dispatch === 'passthrough' && !opts.explain) return { kind: 'pass', skip: ctx.argv.length - command.length };
  if (opts.warmCodeCache) return warmCodeCache(opts, config, line, command, ctx);
  // One traceability record per job (act/log.ts), also when the job stops with an error.
  const jobLog = opts.explain ? undefined : new JobLog(config, ctx.env, ctx.stderr);
  try {
    return await decideAndAct(opts, config, line, command, ctx, jobLog);
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
async function warmCodeCache(opts: OwnOptions, config: Config, line: LineDecision, command: readonly string[], ctx: RunContext): Promise<Handover> {
  let stopped = '';
  try {
    encodeHandover(await decideAndAct(opts, config, line, command, ctx, undefined, false));
  } catch (e) {
    // The error path is part of the job path too; the cache is written all the same.
    stopped = `; the warm-up decision stopped: ${asWrapperError(e).message}`;
  }
  const w = writeCodeCache(process.getuid?.() === 0);
  ctx.stdout(`code cache: ${w.ok ? 'ok' : 'not written'}: ${w.text}${stopped}\n`);
  return { kind: 'exit', code: w.ok ? 0 : Exit.UNAVAILABLE };
}

async function decideAndAct(opts: OwnOptions, config: Config, line: LineDecision, command: readonly string[], ctx: RunContext, jobLog: JobLog | undefined, withHooks = true): Promise<Handover> {
  const dispatch = line.mode;
  // parse (done by classifyLine: the line had to agree with the job ad to be the starter's)
  // (with the installed runtime's flag table: family and version from the cache or a probe, facts/versionCache.ts)
  const parsed = dispatch === 'starter-built' ? (line.parsed ?? parseStarterLine(command, !opts.explain)) : undefined;
  const invocation = parsed?.invocation;
  // facts
  const facts = gatherFacts({ env: ctx.env, cwd: ctx.cwd, config, dispatch, command, explain: opts.explain, ...adPaths(opts), ...(line.jobAd === undefined ? {} : { jobAd: line.jobAd }), ...(parsed === undefined ? {} : { invocation: parsed.invocation, runtimeVersion: parsed.runtimeVersion }) });
  // decide (--explain prints the decision, including one that stops the job, and runs nothing)
  if (opts.explain) {
    const decision = decideForExplain({ dispatch, dispatchReason: line.reason, command, ...(invocation === undefined ? {} : { invocation }) }, facts);
    ctx.stdout(explainOutput(decision, facts, opts.json));
    return EXIT_OK;
  }
  const first = decidePlan(line, command, invocation, facts);
  // act: setup and test hooks (what they contribute is decided on again), the inside launcher,
  // the log record, then the handover
  jobLog?.decided(first, facts);
  const plan = !withHooks
    ? first
    : await runHooksAndRedecide(first, facts, (f) => decidePlan(line, command, invocation, f), {
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

function decidePlan(line: DispatchDecision, command: readonly string[], invocation: Invocation | undefined, facts: Facts): Plan {
  return decide({ dispatch: line.mode, dispatchReason: line.reason, command, ...(invocation === undefined ? {} : { invocation }) }, facts);
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
