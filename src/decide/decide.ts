// decide: from the parsed command line and the facts to a Plan, with pure functions only.

import { WrapperError } from '../errors';
import type { Facts } from '../facts/types';
import { render, type Invocation } from '../invocation/model';
import type { Draft, DispatchMode, Plan } from './plan';
import { RULES, type Rule } from './rules/index';

export interface DecideInput {
  readonly dispatch: DispatchMode;
  /** Why the line is the starter's, the job's own or the sshd (decide/dispatch.ts). */
  readonly dispatchReason?: string;
  /** The parsed runtime line (starter-built), absent for wrapper-built and passthrough. */
  readonly invocation?: Invocation;
  /** The command as given (argv[1..] of the wrapper). */
  readonly command: readonly string[];
}

export function initialDraft(input: DecideInput, facts: Facts): Draft {
  const base = { dispatch: input.dispatch, ...(input.dispatchReason === undefined ? {} : { dispatchReason: input.dispatchReason }), env: facts.env, binds: [], hooks: [], changes: [], warnings: [] };
  if (input.invocation !== undefined) return { ...base, invocation: input.invocation };
  return { ...base, uncontained: input.command };
}

export function applyRules(d: Draft, facts: Facts, rules: readonly Rule[] = RULES): Draft {
  const r = applyRulesUntilError(d, facts, rules);
  if (r.error !== undefined) throw r.error;
  return r.draft;
}

/** Applies the rules up to the first WrapperError, keeping the draft so far (for --explain). */
export function applyRulesUntilError(d: Draft, facts: Facts, rules: readonly Rule[] = RULES): { draft: Draft; error?: WrapperError; rule?: string } {
  let draft = d;
  for (const rule of rules) {
    if (draft.dispatch === 'passthrough') break;
    if (rule.appliesTo === 'contained' && draft.invocation === undefined) continue;
    try {
      draft = rule.apply(draft, facts);
    } catch (e) {
      if (e instanceof WrapperError) return { draft, error: e, rule: rule.name };
      throw e;
    }
  }
  return { draft };
}

/**
 * The last line of defence for SPEC S4/S7: under site policy REQUIRED (or a negotiated REQUIRED)
 * no plan may run the job outside a container, whatever a rule did. Only a bug reaches this.
 */
export function assertContainment(plan: Plan, facts: Facts): void {
  if (plan.dispatch === 'passthrough' || plan.contained) return;
  // From the config itself, not only the plan's negotiation, which a faulty rule could rewrite:
  // either side REQUIRED resolves to REQUIRED or FAIL, and neither runs uncontained.
  const { mode, voMode } = facts.config;
  if (mode === 'REQUIRED' || voMode === 'REQUIRED' || plan.negotiation?.effective === 'REQUIRED') {
    throw new WrapperError('internal.bug', 'policy REQUIRED', 'the plan would run the job without a container; refusing (a rule failed to stop it); please report it');
  }
}

export function finalize(d: Draft): Plan {
  const argv = d.invocation !== undefined ? render(d.invocation) : [...(d.uncontained ?? [])];
  return {
    dispatch: d.dispatch,
    ...(d.dispatchReason === undefined ? {} : { dispatchReason: d.dispatchReason }),
    ...(d.negotiation === undefined ? {} : { negotiation: d.negotiation }),
    contained: d.invocation !== undefined,
    ...(d.invocation === undefined ? {} : { invocation: d.invocation }),
    argv,
    env: d.env,
    binds: d.binds,
    hooks: d.hooks,
    ...(d.launcher === undefined ? {} : { launcher: d.launcher }),
    changes: d.changes,
    warnings: d.warnings,
  };
}

export function decide(input: DecideInput, facts: Facts, rules: readonly Rule[] = RULES): Plan {
  if (input.dispatch === 'passthrough') return finalize(initialDraft(input, facts));
  const plan = finalize(applyRules(initialDraft(input, facts), facts, rules));
  assertContainment(plan, facts);
  return plan;
}

/** For --explain: the plan as far as the rules got, and the error that would stop the job. */
export interface Decision {
  readonly plan: Plan;
  readonly error?: WrapperError;
  /** The rule that raised the error. */
  readonly rule?: string;
}

export function decideForExplain(input: DecideInput, facts: Facts, rules: readonly Rule[] = RULES): Decision {
  if (input.dispatch === 'passthrough') return { plan: finalize(initialDraft(input, facts)) };
  const r = applyRulesUntilError(initialDraft(input, facts), facts, rules);
  const plan = finalize(r.draft);
  if (r.error !== undefined) return { plan, error: r.error, ...(r.rule === undefined ? {} : { rule: r.rule }) };
  try {
    assertContainment(plan, facts);
  } catch (e) {
    if (e instanceof WrapperError) return { plan, error: e, rule: 'containment' };
    throw e;
  }
  return { plan };
}
