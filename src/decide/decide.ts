// decide: from the parsed command line and the facts to a Plan, with pure functions only.

import type { Facts } from '../facts/types';
import { render, type Invocation } from '../invocation/model';
import type { Draft, DispatchMode, Plan } from './plan';
import { RULES, type Rule } from './rules/index';

export interface DecideInput {
  readonly dispatch: DispatchMode;
  /** The parsed runtime line (starter-built), absent for wrapper-built and passthrough. */
  readonly invocation?: Invocation;
  /** The command as given (argv[1..] of the wrapper). */
  readonly command: readonly string[];
}

export function initialDraft(input: DecideInput, facts: Facts): Draft {
  const base = { dispatch: input.dispatch, env: facts.env, binds: [], hooks: [], changes: [], warnings: [] };
  if (input.invocation !== undefined) return { ...base, invocation: input.invocation };
  return { ...base, uncontained: input.command };
}

export function applyRules(d: Draft, facts: Facts, rules: readonly Rule[] = RULES): Draft {
  let draft = d;
  for (const rule of rules) {
    if (draft.dispatch === 'passthrough') break;
    if (rule.appliesTo === 'contained' && draft.invocation === undefined) continue;
    draft = rule.apply(draft, facts);
  }
  return draft;
}

export function finalize(d: Draft): Plan {
  const argv = d.invocation !== undefined ? render(d.invocation) : [...(d.uncontained ?? [])];
  return {
    dispatch: d.dispatch,
    ...(d.negotiation === undefined ? {} : { negotiation: d.negotiation }),
    contained: d.invocation !== undefined,
    ...(d.invocation === undefined ? {} : { invocation: d.invocation }),
    argv,
    env: d.env,
    binds: d.binds,
    hooks: d.hooks,
    changes: d.changes,
    warnings: d.warnings,
  };
}

export function decide(input: DecideInput, facts: Facts, rules: readonly Rule[] = RULES): Plan {
  if (input.dispatch === 'passthrough') return finalize(initialDraft(input, facts));
  return finalize(applyRules(initialDraft(input, facts), facts, rules));
}
