// The Plan: plain data that says what will run and why. decide/ builds it with pure functions;
// act/ performs it; --explain prints it; tests assert on it.

import type { Invocation } from '../invocation/model';
import type { HookFile } from '../facts/types';

export type DispatchMode = 'starter-built' | 'wrapper-built' | 'passthrough';
export type Effective = 'NEVER' | 'PREFERRED' | 'REQUIRED' | 'DISABLE' | 'FAIL';

/** One change to the line or the environment, with the rule that made it and why. */
export interface Change {
  readonly rule: string;
  readonly what: string;
  readonly reason: string;
}

export type BindOrigin = 'starter' | 'site' | 'job' | `hook:${string}` | 'wrapper';

export interface BindEntry {
  readonly src: string;
  readonly dst: string;
  readonly opts: string;
  readonly origin: BindOrigin;
}

export interface Negotiation {
  readonly site: string;
  readonly siteOrigin: string;
  readonly vo: string;
  readonly voOrigin: string;
  readonly effective: Effective;
  readonly reason: string;
}

export interface Plan {
  readonly dispatch: DispatchMode;
  readonly negotiation?: Negotiation;
  /** True when the final argv runs the payload inside a container. */
  readonly contained: boolean;
  /** The final runtime line when contained. */
  readonly invocation?: Invocation;
  /** What will be exec'd: argv[0] is the program. */
  readonly argv: readonly string[];
  /** The environment the program gets (the runtime's, or the payload's when uncontained). */
  readonly env: ReadonlyMap<string, string>;
  readonly binds: readonly BindEntry[];
  /** Hooks that run (outside: before the exec; inside: through the launcher). */
  readonly hooks: readonly HookFile[];
  readonly changes: readonly Change[];
  readonly warnings: readonly string[];
}

/** What rules work on: the plan under construction. Rules return a new draft, never mutate. */
export interface Draft {
  readonly dispatch: DispatchMode;
  readonly negotiation?: Negotiation;
  readonly invocation?: Invocation;
  /** Set when the payload runs uncontained (then invocation is undefined). */
  readonly uncontained?: readonly string[];
  readonly env: ReadonlyMap<string, string>;
  readonly binds: readonly BindEntry[];
  readonly hooks: readonly HookFile[];
  readonly changes: readonly Change[];
  readonly warnings: readonly string[];
}

export function addChange(d: Draft, rule: string, what: string, reason: string): Draft {
  return { ...d, changes: [...d.changes, { rule, what, reason }] };
}

export function addWarning(d: Draft, text: string): Draft {
  return { ...d, warnings: [...d.warnings, text] };
}
