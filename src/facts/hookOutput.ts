// What a setup hook contributes (SPEC S6): the dotenv lines it wrote to $CJW_HOOK_OUTPUT, read
// strictly (one `KEY=VALUE` per line) so that a typo is an error instead of a silently lost bind.
// The result is a fact; the same policy as everything else (binds, env drop list) decides on it.

import { parse } from 'dotenv';
import { WrapperError } from '../errors';
import type { HookContribution } from './types';

/** The one reserved key; every other `CJW_*` key is refused (a misspelt CJW_ADD_BINDS must not become inside env). */
export const ADD_BIND_KEY = 'CJW_ADD_BIND';
const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

function badOutput(hook: string, line: number, why: string): WrapperError {
  return new WrapperError('hook.bad-output', `setup hook ${hook}`, `CJW_HOOK_OUTPUT line ${line}: ${why}`);
}

/** Checks one `src[:dst[:opts]]` entry the way CJW_BINDS entries are checked (without escapes). */
function checkBind(entry: string): string | undefined {
  const fields = entry.split(':');
  const [src = '', dst = src, opts] = fields;
  if (fields.length > 3) return `CJW_ADD_BIND entry "${entry}" is not src[:dst[:opts]] (a path with ":" cannot be added by a hook)`;
  if (!src.startsWith('/')) return `CJW_ADD_BIND entry "${entry}" needs an absolute source path`;
  if (!dst.startsWith('/')) return `CJW_ADD_BIND entry "${entry}" needs an absolute destination path`;
  if (opts !== undefined && opts !== 'ro' && opts !== 'rw') return `CJW_ADD_BIND entry "${entry}" has options "${opts}", not ro or rw`;
  return undefined;
}

/**
 * Parses a hook's output. `CJW_ADD_BIND` may repeat (each line adds) and may hold a comma
 * list; other keys are inside environment, a later line replacing an earlier one. Blank lines
 * and `#` comments are allowed; anything else (multi-line values included) is an error (78).
 */
export function parseHookOutput(hook: string, text: string): HookContribution {
  const binds: string[] = [];
  const env = new Map<string, string>();
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((raw, i) => {
    const n = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = LINE.exec(raw);
    const key = m?.[1];
    if (key === undefined) throw badOutput(hook, n, 'expected KEY=VALUE with KEY a variable name');
    if (raw.includes('\0')) throw badOutput(hook, n, 'contains a NUL byte');
    const value = parse(raw)[key] ?? '';
    if (key === ADD_BIND_KEY) {
      for (const entry of value.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
        const why = checkBind(entry);
        if (why !== undefined) throw badOutput(hook, n, why);
        binds.push(entry);
      }
    } else if (key.startsWith('CJW_')) {
      throw badOutput(hook, n, `${key} is not something a hook can set (only ${ADD_BIND_KEY} and inside environment variables)`);
    } else {
      env.set(key, value);
    }
  });
  return { hook, binds, env };
}
