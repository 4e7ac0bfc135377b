// The facts stage: everything decide needs, gathered at the edge and only when some rule needs
// it (the wrapper runs before every job: no probe without a reader). Each concern has its own
// module; this file only composes them and states when each probe is needed.

import type { DispatchMode } from '../decide/plan';
import type { Invocation } from '../invocation/model';
import { readClassAdFile } from './classad';
import type { Config } from './config/schema';
import { chooseRuntime, runtimeFact } from './runtime';
import type { ClassAd, Facts } from './types';

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
}

function optionalAd(path: string | undefined, kind: 'job' | 'machine'): ClassAd | undefined {
  return path === undefined || path === '' ? undefined : readClassAdFile(path, kind);
}

export function gatherFacts(input: GatherInput): Facts {
  const { env, config } = input;
  const runtime = input.dispatch === 'starter-built' ? runtimeFact(input.command[0] ?? '') : chooseRuntime(config.runtime);
  // The job ad is read when a rule needs it: wrapper-built mode (image, request) and the
  // starter's -B flags (which of them the job asked for).
  const needJobAd = input.dispatch === 'wrapper-built' || input.invocation !== undefined;
  const jobAd = needJobAd ? optionalAd(input.jobAdPath ?? env.get('_CONDOR_JOB_AD'), 'job') : undefined;
  const machineAd = input.invocation !== undefined || input.dispatch === 'wrapper-built' ? optionalAd(input.machineAdPath ?? env.get('_CONDOR_MACHINE_AD'), 'machine') : undefined;
  return {
    env,
    config,
    cwd: input.cwd,
    runtime,
    ...(jobAd === undefined ? {} : { jobAd }),
    ...(machineAd === undefined ? {} : { machineAd }),
    paths: new Map(),
    hooks: [],
    contributions: [],
  };
}
