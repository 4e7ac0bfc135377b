// --explain (SPEC S9): the decision for people, or as JSON with a documented, versioned shape
// (docs/policy.md#--explain). It prints; it never runs a hook, the runtime or the payload.

import type { Decision } from '../decide/decide';
import type { BindEntry, Change, DispatchMode, Effective, Negotiation, Plan } from '../decide/plan';
import { negotiationOf } from '../decide/rules/negotiate';
import type { Facts } from '../facts/types';

/** Bumped only when a field changes meaning or disappears; new fields may be added. */
export const EXPLAIN_VERSION = 1;

export interface EnvChange {
  readonly key: string;
  readonly before?: string;
  readonly after?: string;
}

export type Outcome =
  | { readonly kind: 'exec-runtime' }
  | { readonly kind: 'exec-payload' }
  | { readonly kind: 'exec-passthrough' }
  | { readonly kind: 'error'; readonly exitCode: number; readonly errorId: string; readonly errorClass: 'job' | 'node'; readonly line: string; readonly rule: string | null };

export interface ExplainedNegotiation {
  /** False in starter-built mode while the starter's runtime is usable: its decision stands. */
  readonly consulted: boolean;
  readonly site: string;
  readonly siteOrigin: string;
  readonly vo: string;
  readonly voOrigin: string;
  readonly request: string | null;
  readonly effective: Effective | null;
  readonly reason: string;
}

export interface ExplainJson {
  readonly explain: number;
  readonly dispatch: DispatchMode;
  /** Why argv[1] was taken as the starter's line, the job's own command or the sshd (SPEC S2). */
  readonly dispatchReason: string | null;
  readonly outcome: Outcome;
  readonly contained: boolean;
  readonly runtime: { readonly path: string; readonly usable: boolean; readonly family: string; readonly version: string | null; readonly source: string } | null;
  readonly scratch: { readonly path: string; readonly assumed: string | null } | null;
  readonly negotiation: ExplainedNegotiation | null;
  readonly argv: readonly string[];
  readonly envDiff: readonly EnvChange[];
  readonly binds: readonly BindEntry[];
  readonly hooks: readonly { readonly stage: string; readonly path: string }[];
  readonly changes: readonly Change[];
  readonly warnings: readonly string[];
  /** What could not be known on this node (SPEC S9): the ads or the scratch dir gone, assumed. */
  readonly unknown: readonly string[];
}

/** Environment differences between the job's and the plan's, sorted by name. */
export function envDiff(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): EnvChange[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: EnvChange[] = [];
  for (const key of keys) {
    const b = before.get(key);
    const a = after.get(key);
    if (a === b) continue;
    out.push({ key, ...(b === undefined ? {} : { before: b }), ...(a === undefined ? {} : { after: a }) });
  }
  return out;
}

function outcomeOf(d: Decision): Outcome {
  if (d.error !== undefined) {
    return { kind: 'error', exitCode: d.error.code, errorId: d.error.id, errorClass: d.error.errorClass, line: d.error.line, rule: d.rule ?? null };
  }
  if (d.plan.dispatch === 'passthrough') return { kind: 'exec-passthrough' };
  return d.plan.contained ? { kind: 'exec-runtime' } : { kind: 'exec-payload' };
}

function consulted(n: Negotiation): ExplainedNegotiation {
  return { consulted: true, site: n.site, siteOrigin: n.siteOrigin, vo: n.vo, voOrigin: n.voOrigin, request: n.request, effective: n.effective, reason: n.reason };
}

/**
 * The negotiation to show. The plan has it whenever a rule consulted policy; when negotiate itself
 * stopped the job (FAIL, REQUIRED without a runtime) it is recomputed from the same facts.
 */
function negotiationFor(d: Decision, f: Facts): ExplainedNegotiation | null {
  if (d.plan.negotiation !== undefined) return consulted(d.plan.negotiation);
  if (d.plan.dispatch === 'passthrough') return null;
  const { mode, voMode, origins } = f.config;
  const sides = { site: mode, siteOrigin: origins.get('CJW_MODE') ?? 'default', vo: voMode, voOrigin: origins.get('CJW_VO_MODE') ?? 'default' };
  if (d.rule === 'negotiate') {
    try {
      return consulted(negotiationOf(f));
    } catch {
      // The error being explained is about the job ad itself; show the sides only.
    }
  }
  const why = d.plan.dispatch === 'starter-built'
    ? 'not consulted: the starter built the container line, which stands while its runtime is usable (SPEC S4)'
    : 'not reached: the job stopped before the policy was applied';
  return { consulted: false, ...sides, request: null, effective: null, reason: why };
}

export function explainJson(d: Decision, f: Facts): ExplainJson {
  const plan: Plan = d.plan;
  const rt = f.runtime;
  return {
    explain: EXPLAIN_VERSION,
    dispatch: plan.dispatch,
    dispatchReason: plan.dispatchReason ?? null,
    outcome: outcomeOf(d),
    contained: plan.contained,
    runtime: rt === undefined || plan.dispatch === 'passthrough' ? null : { path: rt.path, usable: rt.usable, family: rt.family, version: rt.version ?? null, source: rt.source },
    scratch: f.scratch === undefined ? null : { path: f.scratch.path, assumed: f.scratch.assumed ?? null },
    negotiation: negotiationFor(d, f),
    argv: plan.argv,
    envDiff: envDiff(f.env, plan.env),
    binds: plan.binds,
    hooks: plan.hooks.map((h) => ({ stage: h.stage, path: h.path })),
    changes: plan.changes,
    warnings: plan.warnings,
    unknown: f.unknowns ?? [],
  };
}

const MODE_WORDS: Readonly<Record<DispatchMode, string>> = {
  'starter-built': 'starter-built (the starter built a container runtime line)',
  'wrapper-built': 'wrapper-built (argv[1] is the job\'s executable; policy decides about a container)',
  passthrough: 'passthrough (runs unchanged, no hooks)',
};

function outcomeLine(o: Outcome): string {
  switch (o.kind) {
    case 'exec-runtime':
      return 'exec the container runtime (the job runs contained)';
    case 'exec-payload':
      return 'exec the job without a container';
    case 'exec-passthrough':
      return 'exec the command unchanged';
    case 'error':
      return `the job would stop: exit ${o.exitCode} (${o.errorClass} error${o.rule === null ? '' : `, rule ${o.rule}`})\n  ${o.line}`;
  }
}

function policyLines(n: ExplainedNegotiation | null): string[] {
  if (n === null) return [];
  const sides = `site CJW_MODE=${n.site} (${n.siteOrigin}) x request CJW_VO_MODE=${n.vo} (${n.voOrigin})`;
  if (!n.consulted || n.effective === null) return [`policy: ${sides}`, `  ${n.reason}`];
  return [`policy: ${sides} -> ${n.effective}`, `  ${n.reason}`];
}

export function explainText(d: Decision, f: Facts): string {
  const j = explainJson(d, f);
  const lines: string[] = ['condor-job-wrapper --explain: nothing was run', `mode: ${MODE_WORDS[j.dispatch]}`];
  if (j.dispatchReason !== null) lines.push(`  because ${j.dispatchReason}`);
  if (j.runtime !== null) {
    const version = j.runtime.version === null ? '' : ` ${j.runtime.version}`;
    lines.push(`runtime: ${j.runtime.path} (${j.runtime.family}${version} from the ${j.runtime.source}; ${j.runtime.usable ? 'usable' : 'missing or not executable'})`);
  }
  if (j.scratch !== null) lines.push(`scratch: ${j.scratch.path}${j.scratch.assumed === null ? '' : ' (assumed)'}`);
  lines.push(...policyLines(j.negotiation));
  lines.push(`outcome: ${outcomeLine(j.outcome)}`);
  if (j.unknown.length > 0) {
    lines.push('', 'could not know (the decision above is made without it):');
    for (const u of j.unknown) lines.push(`  ${u}`);
  }
  const none = j.outcome.kind === 'error' ? 'changes: none before the stop' : 'changes: none (the line runs as given)';
  lines.push('', j.changes.length === 0 ? none : 'changes:');
  for (const c of j.changes) lines.push(`  [${c.rule}] ${c.what}`, `      because ${c.reason}`);
  if (j.warnings.length > 0) {
    lines.push('', 'warnings:');
    for (const w of j.warnings) lines.push(`  ${w}`);
  }
  if (j.binds.length > 0) {
    lines.push('', 'binds:');
    for (const b of j.binds) lines.push(`  ${b.src} -> ${b.dst}${b.opts === '' ? '' : ` (${b.opts})`}  [${b.origin}]`);
  }
  lines.push('', j.hooks.length === 0 ? 'hooks: none' : 'hooks that would run:');
  for (const h of j.hooks) lines.push(`  ${h.stage}: ${h.path}`);
  lines.push('', j.outcome.kind === 'error' ? 'argv as far as the rules got (not run):' : 'final argv:');
  j.argv.forEach((a, i) => lines.push(`  [${i}] ${JSON.stringify(a)}`));
  lines.push('', j.envDiff.length === 0 ? 'environment: unchanged' : 'environment changes:');
  for (const e of j.envDiff) {
    if (e.after === undefined) lines.push(`  - ${e.key}`);
    else if (e.before === undefined) lines.push(`  + ${e.key}=${JSON.stringify(e.after)}`);
    else lines.push(`  ~ ${e.key}=${JSON.stringify(e.after)} (was ${JSON.stringify(e.before)})`);
  }
  return `${lines.join('\n')}\n`;
}

export function explainOutput(d: Decision, f: Facts, json: boolean): string {
  return json ? `${JSON.stringify(explainJson(d, f), null, 2)}\n` : explainText(d, f);
}
