// Site extra arguments (SPEC S5.6): CJW_EXTRA_ARGS entries become runtime argv entries before the
// image, one entry each (never shell-split), and must be flags the installed runtime knows.

import { WrapperError } from '../../errors';
import type { Facts } from '../../facts/types';
import { tableFor } from '../../invocation/families/index';
import type { Invocation } from '../../invocation/model';
import { parseInvocation } from '../../invocation/parse';
import { addChange, type Draft } from '../plan';
import { displayRuntime, missingFlagReason } from './compat';
import type { Rule } from './index';

export const RULE = 'extraArgs';

/** Stands in for the image while the entries are parsed alone: it can never be a flag. */
const PLACEHOLDER_IMAGE = '/nonexistent/cjw-extra-args-image';

function siteError(what: string, why: string): WrapperError {
  return new WrapperError('invocation.unknown-flag', what, why, { code: 78 });
}

/** CJW_EXTRA_ARGS parsed with the family's table: flag groups only, nothing positional. */
export function parseExtraArgs(args: readonly string[], inv: Invocation, f: Facts): Invocation['flags'] {
  const rt = { family: inv.family, ...(f.runtime?.version === undefined ? {} : { version: f.runtime.version }) };
  let parsed: Invocation;
  try {
    parsed = parseInvocation([inv.runtime, ...inv.action, ...args, PLACEHOLDER_IMAGE], tableFor(inv.family));
  } catch (e) {
    if (e instanceof WrapperError) throw siteError(`config CJW_EXTRA_ARGS`, `${e.what}: ${e.why}`);
    throw e;
  }
  if (parsed.image !== PLACEHOLDER_IMAGE || parsed.endOfFlags) {
    const stray = parsed.endOfFlags ? '--' : parsed.image;
    throw siteError('config CJW_EXTRA_ARGS', `entry "${stray}" is not a flag of ${displayRuntime(rt)} (each entry is one argv word before the image: write a flag and its value as two entries, or as --flag=value)`);
  }
  for (const g of parsed.flags) {
    for (const fl of g.flags) {
      const missing = missingFlagReason(rt, fl.name, inv.action);
      if (missing !== undefined) throw new WrapperError('runtime.unsupported-flag', `runtime flag ${fl.name} (from CJW_EXTRA_ARGS)`, missing);
    }
  }
  return parsed.flags;
}

export function applyExtraArgs(d: Draft, f: Facts): Draft {
  const inv = d.invocation;
  const args = f.config.extraArgs;
  if (inv === undefined || args.length === 0) return d;
  const groups = parseExtraArgs(args, inv, f);
  return addChange(
    { ...d, invocation: { ...inv, flags: [...inv.flags, ...groups] } },
    RULE,
    `added ${args.join(' ')}`,
    'site CJW_EXTRA_ARGS, one argv entry per list entry, before the image',
  );
}

export const extraArgsRule: Rule = { name: RULE, appliesTo: 'contained', apply: applyExtraArgs };
