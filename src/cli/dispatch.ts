// Which of the invocation modes (SPEC S2) an argv is. Built-in names are classified from argv
// alone, before any I/O; CJW_RUNTIME_NAMES / CJW_PASSTHROUGH need the config.

import { basename } from 'node:path';
import type { DispatchMode } from '../decide/plan';

const BUILTIN_RUNTIMES = new Set(['apptainer', 'singularity', 'run-singularity']);
const BUILTIN_PASSTHROUGH = new Set(['sshd']);

/** Built-in classification only; undefined when the config must be consulted. */
export function classifyBuiltin(program: string): DispatchMode | undefined {
  const base = basename(program);
  if (BUILTIN_PASSTHROUGH.has(base)) return 'passthrough';
  if (BUILTIN_RUNTIMES.has(base)) return 'starter-built';
  return undefined;
}

/** An entry with "/" matches the program exactly; one without matches its basename. */
export function matchesEntry(program: string, entries: readonly string[]): boolean {
  const base = basename(program);
  return entries.some((e) => (e.includes('/') ? e === program : e === base));
}

export function classify(program: string, runtimeNames: readonly string[], passthrough: readonly string[]): DispatchMode {
  const builtin = classifyBuiltin(program);
  if (builtin !== undefined) return builtin;
  if (matchesEntry(program, passthrough)) return 'passthrough';
  if (matchesEntry(program, runtimeNames)) return 'starter-built';
  return 'wrapper-built';
}
