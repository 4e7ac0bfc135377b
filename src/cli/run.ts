// The imperative shell around the pure core: parse → facts → decide → act. Everything that
// touches the host happens here or in act/; decide/ only computes.

import { basename } from 'node:path';
import { rmSync } from 'node:fs';
import { version } from '../../package.json';
import { decide } from '../decide/decide';
import type { Plan } from '../decide/plan';
import { WrapperError } from '../errors';
import { loadConfig } from '../facts/config/load';
import { gatherFacts } from '../facts/gather';
import { familyFromBasename, tableFor } from '../invocation/families/index';
import { parseInvocation } from '../invocation/parse';
import type { Handover } from '../act/front';
import { resolveProgram } from '../act/resolve';
import { classify, classifyBuiltin } from './dispatch';
import { explainText, planToJson } from './explain';
import { HELP, parseOwnOptions } from './options';

export interface RunContext {
  readonly argv: readonly string[];
  readonly env: ReadonlyMap<string, string>;
  readonly cwd: string;
  readonly stdout: (s: string) => void;
}

const EXIT_OK: Handover = { kind: 'exit', code: 0 };

export function run(ctx: RunContext): Handover {
  const opts = parseOwnOptions(ctx.argv);
  if (opts.help) {
    ctx.stdout(HELP);
    return EXIT_OK;
  }
  if (opts.version) {
    ctx.stdout(`condor-job-wrapper ${version}\n`);
    return EXIT_OK;
  }
  const command = opts.command;
  const program = command[0];
  if (program === undefined || program === '') {
    throw new WrapperError('usage.missing-command', 'no command to run', 'the wrapper was called without a job command line');
  }
  // sshd of condor_ssh_to_job: nothing read, nothing changed (the bundled front already does
  // this before Node starts; this covers a direct `node` invocation).
  if (classifyBuiltin(program) === 'passthrough' && !opts.explain) return { kind: 'exec', argv: command, env: ctx.env };

  if (!opts.explain) removeStaleErrorFile(ctx.env);
  const config = loadConfig(opts.config);
  const dispatch = classify(program, config.runtimeNames, config.passthrough);
  if (dispatch === 'passthrough' && !opts.explain) return { kind: 'exec', argv: command, env: ctx.env };

  const invocation = dispatch === 'starter-built' ? parseInvocation(command, tableFor(familyFromBasename(basename(program)))) : undefined;
  const facts = gatherFacts({ env: ctx.env, cwd: ctx.cwd, config });
  const plan = decide({ dispatch, command, ...(invocation === undefined ? {} : { invocation }) }, facts);

  if (opts.explain) {
    ctx.stdout(opts.json ? `${JSON.stringify(planToJson(plan, ctx.env), null, 2)}\n` : explainText(plan, ctx.env));
    return EXIT_OK;
  }
  return handoverFor(plan, ctx);
}

function handoverFor(plan: Plan, ctx: RunContext): Handover {
  for (const w of plan.warnings) process.stderr.write(`condor-job-wrapper: warning: ${w}\n`);
  const [program, ...args] = plan.argv;
  if (program === undefined) throw new WrapperError('internal.exec', 'exec', 'the plan has no program');
  const file = resolveProgram(program, plan.env.get('PATH'), ctx.cwd);
  return { kind: 'exec', argv: [file, ...args], env: plan.env };
}

/** The starter treats an existing error file as a wrapper failure (SPEC S7). */
function removeStaleErrorFile(env: ReadonlyMap<string, string>): void {
  const f = env.get('_CONDOR_WRAPPER_ERROR_FILE');
  if (f !== undefined && f !== '') rmSync(f, { force: true });
}
