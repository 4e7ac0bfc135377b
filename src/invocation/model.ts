// The invocation model (SPEC S3): a runtime command line split into what it means, while every
// part keeps the exact tokens it was written with, so render(parse(argv)) === argv.

import type { FamilyId, FlagDef, FlagMeaning } from './flagTable';

/** One flag as understood: its definition, the spelling used, and its value if it takes one. */
export interface Flag {
  readonly def: FlagDef;
  /** The spelling, e.g. "-B" or "--bind". */
  readonly name: string;
  /** The value for value flags; for booleans written `--flag=false` the literal after `=`. */
  readonly value?: string;
}

/**
 * What was written as one unit: `-B /x` (two tokens, one flag), `--bind=/x` (one token),
 * `-ci` (one token, two flags). Rules replace whole groups; untouched groups render verbatim.
 */
export interface FlagGroup {
  readonly raw: readonly string[];
  readonly flags: readonly Flag[];
}

export interface Invocation {
  readonly family: FamilyId;
  /** argv[0] of the runtime line: the runtime's path as the starter gave it. */
  readonly runtime: string;
  readonly globals: readonly FlagGroup[];
  /** The action words, e.g. ["exec"] or ["instance", "start"]. */
  readonly action: readonly string[];
  readonly flags: readonly FlagGroup[];
  /** True when a literal `--` ended the flags before the image. */
  readonly endOfFlags: boolean;
  readonly image: string;
  /** Everything after the image, opaque: carried byte for byte, never re-split. */
  readonly payload: readonly string[];
}

export const CONDOR_LAUNCHER = '/condor_container_launcher.sh';

/** The payload without HTCondor's launcher script in front (what runs if we must run uncontained). */
export function payloadWithoutLauncher(inv: Invocation): readonly string[] {
  return inv.payload[0] === CONDOR_LAUNCHER ? inv.payload.slice(1) : inv.payload;
}

export function render(inv: Invocation): string[] {
  const out: string[] = [inv.runtime];
  for (const g of inv.globals) out.push(...g.raw);
  out.push(...inv.action);
  for (const g of inv.flags) out.push(...g.raw);
  if (inv.endOfFlags) out.push('--');
  out.push(inv.image, ...inv.payload);
  return out;
}

/** All action flags in order, flattened out of their groups. */
export function allFlags(inv: Invocation): Flag[] {
  return inv.flags.flatMap((g) => g.flags);
}

/** The value of the first action flag with `meaning` (e.g. the line's -W), if any. */
export function flagValueOf(inv: Invocation, meaning: FlagMeaning): string | undefined {
  for (const f of allFlags(inv)) if (f.def.meaning === meaning && f.value !== undefined) return f.value;
  return undefined;
}

export function hasMeaning(inv: Invocation, meaning: FlagMeaning): boolean {
  return allFlags(inv).some((f) => f.def.meaning === meaning);
}

/** The canonical tokens for a flag created by a rule: the long name, value as a separate token. */
export function groupFor(def: FlagDef, value?: string): FlagGroup {
  const name = def.names.find((n) => n.startsWith('--')) ?? def.names[0];
  if (name === undefined) throw new Error('flag definition without a name');
  const flag: Flag = value === undefined ? { def, name } : { def, name, value };
  return { raw: value === undefined ? [name] : [name, value], flags: [flag] };
}
