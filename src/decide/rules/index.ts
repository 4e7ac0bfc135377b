// The rewrite rules, in the order they apply (docs/architecture.md, docs/policy.md). A rule is a
// pure function Draft → Draft that records every change with its reason. Adding a rule means
// adding a file here and a table test in test/unit/rules/.

import type { Facts } from '../../facts/types';
import type { Draft } from '../plan';
import { scheduleHooksRule } from './hooks';
import { launcherRule } from './launcher';
import { negotiateRule } from './negotiate';
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
  scheduleHooksRule, // S6: setup/test hooks always, inside hooks only with a container
  launcherRule, // S6: LAST: wraps the final payload in the inside launcher when there is inside work
];
