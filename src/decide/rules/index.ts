// The rewrite rules, in the order they apply (docs/architecture.md, docs/policy.md). A rule is a
// pure function Draft → Draft that records every change with its reason. Adding a rule means
// adding a file here and a table test in test/unit/rules/.

import type { Facts } from '../../facts/types';
import type { Draft } from '../plan';
import { bindsRule } from './binds';
import { compatRule } from './compat';
import { envRule } from './env';
import { extraArgsRule } from './extraArgs';
import { gpuRule } from './gpu';
import { scheduleHooksRule } from './hooks';
import { imageRule } from './image';
import { launcherRule } from './launcher';
import { negotiateRule } from './negotiate';
import { nestedRule } from './nested';
import { wrapperBuiltRule } from './wrapperBuilt';

export interface Rule {
  /** Short name shown in --explain, e.g. "nested". */
  readonly name: string;
  /** Which dispatch modes it applies to. Rules only see contained drafts unless they say so. */
  readonly appliesTo: 'contained' | 'always';
  apply(d: Draft, f: Facts): Draft;
}

export const RULES: readonly Rule[] = [
  // rules are registered here in order
  negotiateRule, // S4: policy; FAIL and REQUIRED-without-runtime stop here, PREFERRED falls back
  wrapperBuiltRule, // S2/S4: the job's executable + a container wanted → the line HTCondor would build
  extraArgsRule, // S5.6: site flags first, so the rules below see (and fit) them like the starter's
  nestedRule, // S5.1: inside a container: -C → --contain --ipc --cleanenv, no --pid, -u for setuid
  gpuRule, // S5.5: CJW_GPU_FLAG once on a slot with AssignedGPUs
  compatRule, // S5.7: fit the line to the installed family/version; BEFORE binds/env, which read the scratch bind it may move
  imageRule, // S5.3: allowed, existing, realpath of a symlinked image
  bindsRule, // S5.2: site binds, job binds held to CJW_BIND_ALLOW/DENY, one per destination
  envRule, // S5.4: AFTER every rule that moves a bind (compat, binds): it maps scratch paths through them
  scheduleHooksRule, // S6: setup/test hooks always, inside hooks only with a container
  launcherRule, // S6: LAST: wraps the final payload in the inside launcher when there is inside work
];
