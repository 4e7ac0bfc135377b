// Parses a runtime command line (argv[0] = the runtime) with the flag table of its family.
// Pure: no I/O. Every token ends up in exactly one place of the model, so rendering is lossless.

import { WrapperError } from '../errors';
import type { FamilyTable, FlagDef } from './flagTable';
import type { Flag, FlagGroup, Invocation } from './model';

const PFLAG_BOOL = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

class Cursor {
  i = 0;
  constructor(readonly argv: readonly string[]) {}
  peek(): string | undefined {
    return this.argv[this.i];
  }
  next(): string | undefined {
    return this.argv[this.i++];
  }
}

function index(defs: readonly FlagDef[]): Map<string, FlagDef> {
  const m = new Map<string, FlagDef>();
  for (const d of defs) for (const n of d.names) m.set(n, d);
  return m;
}

/** Tables are static; index each flag set once per process. */
const indexCache = new WeakMap<readonly FlagDef[], Map<string, FlagDef>>();
function lookupIn(defs: readonly FlagDef[]): Map<string, FlagDef> {
  let m = indexCache.get(defs);
  if (m === undefined) {
    m = index(defs);
    indexCache.set(defs, m);
  }
  return m;
}

function malformed(table: FamilyTable, why: string): WrapperError {
  return new WrapperError('invocation.malformed', `runtime command line (${table.displayName})`, why);
}

function unknownFlag(table: FamilyTable, token: string, where: string): WrapperError {
  return new WrapperError('invocation.unknown-flag', `runtime flag ${token}`, `not a flag of ${table.displayName} ${where}`);
}

/** Reads one option group starting at the cursor (which points at a token starting with "-"). */
function readGroup(table: FamilyTable, flags: Map<string, FlagDef>, cur: Cursor, where: string): FlagGroup {
  const token = cur.next() ?? '';
  if (token.startsWith('--')) {
    const eq = token.indexOf('=');
    const name = eq < 0 ? token : token.slice(0, eq);
    const def = flags.get(name);
    if (def === undefined || (eq >= 0 && table.style === 'shell')) throw unknownFlag(table, name, where);
    if (eq >= 0) {
      const value = token.slice(eq + 1);
      if (!def.takesValue && !PFLAG_BOOL.has(value)) {
        throw malformed(table, `boolean flag ${name} given the value "${value}"`);
      }
      return { raw: [token], flags: [{ def, name, value }] };
    }
    if (!def.takesValue) return { raw: [token], flags: [{ def, name }] };
    const value = cur.next();
    if (value === undefined) throw malformed(table, `flag ${name} needs a value but the line ends`);
    return { raw: [token, value], flags: [{ def, name, value }] };
  }

  if (table.style === 'shell') {
    // Singularity 2.6's bash loop matches whole words only: no clusters, no attached values.
    const def = flags.get(token);
    if (def === undefined) throw unknownFlag(table, token, where);
    if (!def.takesValue) return { raw: [token], flags: [{ def, name: token }] };
    const value = cur.next();
    if (value === undefined) throw malformed(table, `flag ${token} needs a value but the line ends`);
    return { raw: [token, value], flags: [{ def, name: token, value }] };
  }

  // pflag shorthand cluster: "-ci", "-B/x", "-B=/x", "-B /x", "-cB /x", "-c=true".
  const out: Flag[] = [];
  const raw = [token];
  for (let k = 1; k < token.length; k++) {
    const name = `-${token.charAt(k)}`;
    const def = flags.get(name);
    if (def === undefined) throw unknownFlag(table, name, where);
    const rest = token.slice(k + 1);
    if (def.takesValue) {
      if (rest.length > 0) {
        out.push({ def, name, value: rest.startsWith('=') ? rest.slice(1) : rest });
      } else {
        const value = cur.next();
        if (value === undefined) throw malformed(table, `flag ${name} needs a value but the line ends`);
        raw.push(value);
        out.push({ def, name, value });
      }
      break;
    }
    if (rest.startsWith('=')) {
      const value = rest.slice(1);
      if (!PFLAG_BOOL.has(value)) throw malformed(table, `boolean flag ${name} given the value "${value}"`);
      out.push({ def, name, value });
      break;
    }
    out.push({ def, name });
  }
  return { raw, flags: out };
}

/** Own properties only: an action named "constructor" must not find Object.prototype's. */
function actionFlags(table: FamilyTable, name: string): readonly FlagDef[] | undefined {
  return Object.hasOwn(table.actions, name) ? table.actions[name] : undefined;
}

function isOption(token: string): boolean {
  return token.length > 1 && token.startsWith('-');
}

/**
 * Parses `argv` (argv[0] is the runtime path). Throws WrapperError 64 for an unknown flag or
 * action before the image, naming the flag and the family.
 */
export function parseInvocation(argv: readonly string[], table: FamilyTable): Invocation {
  const runtime = argv[0];
  if (runtime === undefined) throw malformed(table, 'empty command line');
  const cur = new Cursor(argv);
  cur.next();

  const globalIndex = lookupIn(table.globalFlags);
  const globals: FlagGroup[] = [];
  for (let t = cur.peek(); t !== undefined && isOption(t) && t !== '--'; t = cur.peek()) {
    globals.push(readGroup(table, globalIndex, cur, 'before the action'));
  }

  const first = cur.next();
  if (first === undefined) throw malformed(table, 'no action (exec, run, ...) after the runtime');
  let action = [first];
  let defs = actionFlags(table, first);
  if (defs === undefined) {
    const second = cur.peek();
    const two = second === undefined ? undefined : actionFlags(table, `${first} ${second}`);
    if (two === undefined || second === undefined) {
      throw new WrapperError('invocation.unknown-flag', `runtime action ${first}`, `not an action the wrapper understands for ${table.displayName}`);
    }
    cur.next();
    action = [first, second];
    defs = two;
  }

  // pflag CLIs also accept the root's persistent (global) flags after the action; an action flag
  // of the same spelling wins. Singularity 2.6's action parser knows only its own flags.
  const actionIndex = table.style === 'pflag' ? new Map([...globalIndex, ...lookupIn(defs)]) : lookupIn(defs);
  const flags: FlagGroup[] = [];
  let endOfFlags = false;
  for (;;) {
    const t = cur.peek();
    if (t === undefined) throw malformed(table, `no image after "${action.join(' ')}"`);
    if (t === '--' && table.style === 'pflag') {
      cur.next();
      endOfFlags = true;
      break;
    }
    if (!isOption(t)) break;
    flags.push(readGroup(table, actionIndex, cur, 'before the image'));
  }
  const image = cur.next();
  if (image === undefined) throw malformed(table, `no image after "${action.join(' ')}"`);
  return {
    family: table.family,
    runtime,
    globals,
    action,
    flags,
    endOfFlags,
    image,
    payload: argv.slice(cur.i),
  };
}
