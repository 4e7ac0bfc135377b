// The facts stage: everything decide needs, gathered at the edge and only when some rule needs
// it (the wrapper runs before every job: no probe without a reader). Each concern has its own
// module; this file only composes them and states when each probe is needed.

import type { DispatchMode } from '../decide/plan';
import type { Invocation } from '../invocation/model';
import { WrapperError } from '../errors';
import { readClassAdFile } from './classad';
import type { Config } from './config/schema';
import { gatherPaths } from './paths';
import { nestedFactFor } from './host';
import { configuredHooks } from './hooks';
import { chooseRuntime, runtimeFact } from './runtime';
import { explainScratchFact, scratchFact } from './scratch';
import type { ClassAd, Facts } from './types';
import { lookupRuntimeVersion, type RuntimeVersion } from './versionCache';

export interface GatherInput {
  readonly env: ReadonlyMap<string, string>;
  readonly cwd: string;
  readonly config: Config;
  readonly dispatch: DispatchMode;
  readonly command: readonly string[];
  readonly invocation?: Invocation;
  /** --explain --job-ad F / --machine-ad F override the starter's _CONDOR_JOB_AD / _CONDOR_MACHINE_AD. */
  readonly jobAdPath?: string;
  readonly machineAdPath?: string;
  /** --explain: run nothing (no runtime probe), and assume what a starter would have set. */
  readonly explain?: boolean;
  /** The job ad, when the dispatch step already read it (decide/dispatch.ts). */
  readonly jobAd?: ClassAd;
  /** Starter-built: the family/version run.ts found to parse the line (facts/versionCache.ts). */
  readonly runtimeVersion?: RuntimeVersion;
}

/**
 * What the rules read from the machine ad (decide/rules/gpu.ts). It is the startd's slot ad, not
 * the job's; parsing its ~200 lines for one attribute cost more than every rule together, so only
 * these are parsed (a malformed line among them is still a node error).
 */
export const MACHINE_AD_ATTRS: readonly string[] = ['AssignedGPUs'];

function optionalAd(path: string | undefined, kind: 'job' | 'machine'): ClassAd | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readClassAdFile(path, kind, kind === 'machine' ? MACHINE_AD_ATTRS : undefined);
  } catch (e) {
    // The machine ad is the node's: a broken one is a node error (requeue), not the job's.
    if (kind === 'machine' && e instanceof WrapperError) throw new WrapperError('machinead.bad', e.what, e.why);
    throw e;
  }
}

/** The line's -W value (the starter's scratch dir), for --explain. */
function workdirOf(inv: Invocation | undefined): string | undefined {
  for (const g of inv?.flags ?? []) for (const f of g.flags) if (f.def.meaning === 'workdir' && f.value !== undefined) return f.value;
  return undefined;
}

/**
 * An ad for --explain: one that cannot be read (the job is gone, ENOENT) is not an error there
 * but something it could not know (SPEC S9); what depends on it is said in `unknowns`.
 */
function explainAd(path: string | undefined, kind: 'job' | 'machine', unknowns: string[]): ClassAd | undefined {
  try {
    return optionalAd(path, kind);
  } catch (e) {
    if (!(e instanceof WrapperError)) throw e;
    const depends = kind === 'job'
      ? 'not known: which -B the job requested (SingularityBind; every -B is taken as the site\'s), the job\'s image (ContainerImage, SingularityImage) and request'
      : 'not known: the GPUs assigned to the slot (AssignedGPUs)';
    unknowns.push(`${e.what}: ${e.why}; ${depends}`);
    return undefined;
  }
}

export function gatherFacts(input: GatherInput): Facts {
  const { env, config } = input;
  const chosen = input.dispatch === 'starter-built' ? runtimeFact(input.command[0] ?? '') : chooseRuntime(config.runtime);
  // Family and version: what run.ts found for the starter's line; wrapper-built reads the cache only.
  const runtime = { ...chosen, ...(input.runtimeVersion ?? (input.dispatch === 'wrapper-built' ? lookupRuntimeVersion(chosen.path, { probe: false }) : {})) };
  // Inside a container -C and setuid fail (S5.1): two cheap probes, only for a container line.
  const nested = input.invocation !== undefined || (input.dispatch === 'wrapper-built' && chosen.usable) ? nestedFactFor(config.nested, input.invocation, runtime) : undefined;
  // The job ad is read when a rule needs it: wrapper-built mode (image, request) and the
  // starter's -B flags (which of them the job asked for).
  const needJobAd = input.dispatch === 'wrapper-built' || input.invocation !== undefined;
  const explain = input.explain === true;
  const unknowns: string[] = [];
  const readAd = (path: string | undefined, kind: 'job' | 'machine'): ClassAd | undefined => (explain ? explainAd(path, kind, unknowns) : optionalAd(path, kind));
  const jobAdPath = input.jobAdPath ?? env.get('_CONDOR_JOB_AD');
  const machineAdPath = input.machineAdPath ?? env.get('_CONDOR_MACHINE_AD');
  // The dispatch step may have read it already (decide/dispatch.ts: the line must agree with it).
  const jobAd = input.jobAd ?? (needJobAd ? readAd(jobAdPath, 'job') : undefined);
  const machineAd = input.invocation !== undefined || input.dispatch === 'wrapper-built' ? readAd(machineAdPath, 'machine') : undefined;
  if (explain && needJobAd && (jobAdPath === undefined || jobAdPath === '')) unknowns.push('no job ad (no _CONDOR_JOB_AD, no --job-ad): not known: which -B the job requested (every -B is taken as the site\'s), the job\'s image and request');
  // Only wrapper-built mode binds the scratch itself; the starter's line already names it, and
  // --explain of that line needs it only to say where the inside launcher would go.
  const scratch = input.dispatch === 'wrapper-built'
    ? scratchFact(env, input.cwd, explain)
    : explain && input.invocation !== undefined ? explainScratchFact(env, workdirOf(input.invocation), input.cwd) : undefined;
  if (explain && scratch !== undefined) {
    if (scratch.assumed !== undefined) unknowns.push(scratch.assumed);
    else if (scratch.kind !== 'dir') unknowns.push(`the scratch dir ${scratch.path} is not a directory on this node (the job is gone?): what is in it (a transferred image, the ads) could not be looked at`);
  }
  return {
    env,
    config,
    cwd: input.cwd,
    runtime,
    ...(nested === undefined ? {} : { nested }),
    ...(scratch === undefined ? {} : { scratch }),
    ...(jobAd === undefined ? {} : { jobAd }),
    ...(machineAd === undefined ? {} : { machineAd }),
    // stat + realpath of the image and the bind sources the binds/image rules will check.
    paths: gatherPaths({ dispatch: input.dispatch, config, cwd: input.cwd, ...(input.invocation === undefined ? {} : { invocation: input.invocation }), ...(jobAd === undefined ? {} : { jobAd }) }),
    // The hook dirs are listed only when configured (no I/O for an unset key); nothing runs here.
    hooks: configuredHooks(config),
    contributions: [],
    ...(unknowns.length === 0 ? {} : { unknowns }),
  };
}
