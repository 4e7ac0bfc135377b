// Nested runs (SPEC S5.1): inside a container the runtime cannot make new PID or devpts
// namespaces ("Multiple devpts instances unsupported"), and a setuid runtime cannot start at all
// for a normal user ("Failed to set effective UID to 0"). Fit the line, or say so clearly.
// Exception, verified on Apptainer 1.4.5: an unprivileged Apptainer keeps -C nested.

import { WrapperError } from '../../errors';
import type { FlagDef, FlagMeaning } from '../../invocation/flagTable';
import { tableFor } from '../../invocation/families/index';
import { allFlags, groupFor, type Flag, type FlagGroup, type Invocation } from '../../invocation/model';
import type { Facts } from '../../facts/types';
import { addChange, type Draft } from '../plan';
import { isOn, withoutFlags } from './compat';
import type { Rule } from './index';

export const RULE = 'nested';

/** What -C means minus what a nested runtime cannot do (the PID namespace). */
const CONTAINALL_WITHOUT_PID: readonly FlagMeaning[] = ['contain', 'ipc', 'cleanenv'];

function defFor(inv: Invocation, meaning: FlagMeaning): FlagDef {
  const def = tableFor(inv.family).actions[inv.action.join(' ')]?.find((d) => d.meaning === meaning);
  if (def === undefined) throw new WrapperError('internal.bug', 'internal error', `no ${meaning} flag in the ${inv.family} table; please report it`);
  return def;
}

function isContainAllOrPid(f: Flag): boolean {
  return (f.def.meaning === 'containall' || f.def.meaning === 'pid') && isOn(f);
}

/** Replaces -C/--containall with --contain --ipc --cleanenv and drops -p/--pid (clusters split). */
export function dropContainAllWhenNested(d: Draft, inv: Invocation, evidence: string): Draft {
  const found = allFlags(inv).filter(isContainAllOrPid);
  if (found.length === 0) return d;
  const present = new Set(allFlags(inv).filter(isOn).map((f) => f.def.meaning));
  const flags: FlagGroup[] = [];
  let draft = d;
  for (const g of inv.flags) {
    const rest = withoutFlags(g, isContainAllOrPid);
    flags.push(...rest);
    for (const f of g.flags.filter(isContainAllOrPid)) {
      if (f.def.meaning === 'pid') {
        draft = addChange(draft, RULE, `dropped ${f.name}`, `inside a container (${evidence}) the runtime cannot make a new PID namespace ("Multiple devpts instances unsupported")`);
        continue;
      }
      const added = CONTAINALL_WITHOUT_PID.filter((m) => !present.has(m)).map((m) => groupFor(defFor(inv, m)));
      for (const a of added) present.add(a.flags[0]?.def.meaning ?? 'other');
      flags.push(...added);
      draft = addChange(
        draft,
        RULE,
        `${f.name} → ${added.map((a) => a.raw.join(' ')).join(' ') || '(already there)'}`,
        `inside a container (${evidence}) the runtime cannot make a new PID namespace: keep what ${f.name} means except --pid`,
      );
    }
  }
  return { ...draft, invocation: { ...inv, flags } };
}

/** Families whose setuid install can switch to its unprivileged starter with -u (3.4 → 3.4u verified). */
function hasUsableUserns(inv: Invocation): boolean {
  return inv.family !== 'singularity2';
}

/** A setuid runtime cannot start inside a container for a normal user: add -u, or refuse clearly. */
export function userNamespaceWhenSetuidNested(d: Draft, inv: Invocation, f: Facts): Draft {
  const n = f.nested;
  if (n?.runtimeSetuid?.setuid !== true || n.asRoot === true) return d;
  if (allFlags(inv).some((x) => x.def.meaning === 'userns' && isOn(x))) return d;
  if (!hasUsableUserns(inv)) {
    throw new WrapperError(
      'runtime.nested-setuid',
      `container runtime ${inv.runtime}`,
      `it is a setuid install (${n.runtimeSetuid.evidence}) and the wrapper runs inside a container (${n.evidence}), where setuid does not work for a normal user; Singularity 2.6 has no user-namespace mode that works there either: use an unprivileged runtime (Apptainer, Singularity 3.x with -u) on this node`,
    );
  }
  const userns = groupFor(defFor(inv, 'userns'));
  return addChange(
    { ...d, invocation: { ...inv, flags: [...inv.flags, userns] } },
    RULE,
    `added ${userns.raw.join(' ')}`,
    `the runtime is a setuid install (${n.runtimeSetuid.evidence}) and the wrapper runs inside a container (${n.evidence}): setuid does not work there ("Failed to set effective UID to 0"), its user-namespace mode does`,
  );
}

/**
 * An unprivileged (user-namespace) Apptainer makes its own PID namespace inside a container: on
 * 1.4.5 an inner `-C` works nested and its payload gets a new PID namespace (test/runtime/nested.test.ts).
 * Replacing -C there would only lose that isolation, so -C and --pid stay.
 */
export function keepsContainAllNested(inv: Invocation, f: Facts): boolean {
  return inv.family === 'apptainer' && f.nested?.runtimeSetuid?.setuid === false;
}

export function applyNested(d: Draft, f: Facts): Draft {
  const inv = d.invocation;
  if (inv === undefined || f.nested?.inside !== true) return d;
  if (keepsContainAllNested(inv, f)) return d;
  const draft = dropContainAllWhenNested(d, inv, f.nested.evidence);
  return userNamespaceWhenSetuidNested(draft, draft.invocation ?? inv, f);
}

export const nestedRule: Rule = { name: RULE, appliesTo: 'contained', apply: applyNested };
