// Which hooks this job runs (SPEC S6): the setup and test hooks always (they check the node, with
// or without a container), the inside hooks only when there is a container to run them in.
// --explain lists the result; the orchestrator runs the outside ones, the launcher the inside ones.

import type { Facts, HookFile } from '../../facts/types';
import { addChange, type Draft } from '../plan';
import type { Rule } from './index';

export const RULE = 'hooks';

function names(hooks: readonly HookFile[]): string {
  return hooks.map((h) => h.name).join(', ');
}

export function scheduleHooks(d: Draft, f: Facts): Draft {
  if (f.hooks.length === 0) return d;
  const outside = f.hooks.filter((h) => h.stage !== 'inside');
  const inside = f.hooks.filter((h) => h.stage === 'inside');
  const contained = d.invocation !== undefined;
  let next: Draft = { ...d, hooks: [...outside, ...(contained ? inside : [])] };
  for (const stage of ['setup', 'test'] as const) {
    const list = outside.filter((h) => h.stage === stage);
    if (list.length === 0) continue;
    const dir = stage === 'setup' ? f.config.setupDir : f.config.testDir;
    next = addChange(next, RULE, `run ${stage} hooks ${names(list)} on the host before the exec`, `${stage === 'setup' ? 'CJW_SETUP_DIR' : 'CJW_TEST_DIR'} ${dir} holds them; a failure stops the job with exit 69`);
  }
  if (inside.length > 0 && !contained) {
    next = addChange(next, RULE, `skip inside hooks ${names(inside)}`, 'the payload runs without a container, and inside hooks run only in one');
  }
  return next;
}

export const scheduleHooksRule: Rule = { name: RULE, appliesTo: 'always', apply: scheduleHooks };
