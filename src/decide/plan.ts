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

/** The container policy negotiation (SPEC S4), recorded whenever policy was consulted. */
export interface Negotiation {
  /** CJW_MODE and the file that set it ("default" when unset). */
  readonly site: string;
  readonly siteOrigin: string;
  /** CJW_VO_MODE as configured, and the file that set it. */
  readonly vo: string;
  readonly voOrigin: string;
  /** The request after the job's image raised it (equals `vo` otherwise). */
  readonly request: string;
  readonly effective: Effective;
  readonly reason: string;
}

export interface Plan {
  readonly dispatch: DispatchMode;
  /** Why argv[1] was taken as the starter's line, the job's own command or the sshd (SPEC S2). */
  readonly dispatchReason?: string;
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
  /** The inside launcher act/launcher.ts writes before the exec (SPEC S6); absent when not needed. */
  readonly launcher?: LauncherPlan;
  readonly changes: readonly Change[];
  readonly warnings: readonly string[];
}

/** The generated inside launcher (SPEC S6): where it goes and what it runs before `exec "$@"`. */
export interface LauncherPlan {
  /** The host dir SCRATCH/.condor-job-wrapper (a subdirectory: output transfer skips it). */
  readonly hostDir: string;
  /** The script, as the container sees it (first element of the payload, or after HTCondor's launcher). */
  readonly insidePath: string;
  /** Inside hooks by name and inside path, in order; the hook dir is bound read-only at `hookDirInside`. */
  readonly hooks: readonly { readonly name: string; readonly insidePath: string }[];
  readonly hookDirInside?: string;
  /** Where the starter's error file is inside (absent when no bind carries it). */
  readonly errorFile?: string;
  /** Inside environment that cannot be passed as runtime env (e.g. PATH on Singularity 2.6 with -C). */
  readonly env: ReadonlyMap<string, string>;
  /** The only environment inside hooks get (SPEC S6: never the job's), values as seen inside. */
  readonly hookEnv?: ReadonlyMap<string, string>;
  readonly timeoutSeconds: number;
}

/** What rules work on: the plan under construction. Rules return a new draft, never mutate. */
export interface Draft {
  readonly dispatch: DispatchMode;
  readonly dispatchReason?: string;
  readonly negotiation?: Negotiation;
  readonly invocation?: Invocation;
  /** Set when the payload runs uncontained (then invocation is undefined). */
  readonly uncontained?: readonly string[];
  readonly env: ReadonlyMap<string, string>;
  readonly binds: readonly BindEntry[];
  readonly hooks: readonly HookFile[];
  /** Inside environment a rule needs set by the launcher, because the runtime would not pass it. */
  readonly insideEnv?: ReadonlyMap<string, string>;
  readonly launcher?: LauncherPlan;
  readonly changes: readonly Change[];
  readonly warnings: readonly string[];
}

export function addChange(d: Draft, rule: string, what: string, reason: string): Draft {
  return { ...d, changes: [...d.changes, { rule, what, reason }] };
}

export function addWarning(d: Draft, text: string): Draft {
  return { ...d, warnings: [...d.warnings, text] };
}
