// --explain (SPEC S9): the Plan for people, or as JSON with a documented shape (docs/policy.md).

import type { Plan } from '../decide/plan';

/** Environment differences between the job's and the plan's, sorted by name. */
export function envDiff(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): { key: string; before?: string; after?: string }[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: { key: string; before?: string; after?: string }[] = [];
  for (const key of keys) {
    const b = before.get(key);
    const a = after.get(key);
    if (a === b) continue;
    out.push({ key, ...(b === undefined ? {} : { before: b }), ...(a === undefined ? {} : { after: a }) });
  }
  return out;
}

export function planToJson(plan: Plan, jobEnv: ReadonlyMap<string, string>): unknown {
  return {
    dispatch: plan.dispatch,
    negotiation: plan.negotiation ?? null,
    contained: plan.contained,
    argv: plan.argv,
    envDiff: envDiff(jobEnv, plan.env),
    binds: plan.binds,
    hooks: plan.hooks.map((h) => ({ stage: h.stage, path: h.path })),
    changes: plan.changes,
    warnings: plan.warnings,
  };
}

export function explainText(plan: Plan, jobEnv: ReadonlyMap<string, string>): string {
  const lines: string[] = [];
  lines.push(`mode: ${plan.dispatch}${plan.contained ? ', contained' : ', not contained'}`);
  if (plan.negotiation !== undefined) {
    const n = plan.negotiation;
    lines.push(`policy: site CJW_MODE=${n.site} (${n.siteOrigin}) x request ${n.vo} (${n.voOrigin}) -> ${n.effective}: ${n.reason}`);
  }
  lines.push('', plan.changes.length === 0 ? 'changes: none (the line runs as given)' : 'changes:');
  for (const c of plan.changes) lines.push(`  [${c.rule}] ${c.what}: ${c.reason}`);
  if (plan.warnings.length > 0) {
    lines.push('', 'warnings:');
    for (const w of plan.warnings) lines.push(`  ${w}`);
  }
  if (plan.binds.length > 0) {
    lines.push('', 'binds:');
    for (const b of plan.binds) lines.push(`  ${b.src} -> ${b.dst}${b.opts === '' ? '' : ` (${b.opts})`}  [${b.origin}]`);
  }
  if (plan.hooks.length > 0) {
    lines.push('', 'hooks:');
    for (const h of plan.hooks) lines.push(`  ${h.stage}: ${h.path}`);
  }
  lines.push('', 'final argv:');
  plan.argv.forEach((a, i) => lines.push(`  [${i}] ${JSON.stringify(a)}`));
  const diff = envDiff(jobEnv, plan.env);
  lines.push('', diff.length === 0 ? 'environment: unchanged' : 'environment changes:');
  for (const d of diff) {
    if (d.after === undefined) lines.push(`  - ${d.key}`);
    else if (d.before === undefined) lines.push(`  + ${d.key}=${JSON.stringify(d.after)}`);
    else lines.push(`  ~ ${d.key}=${JSON.stringify(d.after)} (was ${JSON.stringify(d.before)})`);
  }
  return `${lines.join('\n')}\n`;
}
