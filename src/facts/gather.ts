// The facts stage: everything decide needs, gathered at the edge and only when some rule needs
// it (the wrapper runs before every job: no probe without a reader).

import type { Config } from './config/schema';
import type { Facts } from './types';

export interface GatherInput {
  readonly env: ReadonlyMap<string, string>;
  readonly cwd: string;
  readonly config: Config;
}

export function gatherFacts(input: GatherInput): Facts {
  return {
    env: input.env,
    config: input.config,
    cwd: input.cwd,
    paths: new Map(),
    hooks: [],
    contributions: [],
  };
}
