// Runtime compatibility (SPEC S5.7): HTCondor writes one line for every runtime, but Singularity
// 2.6 and 3.x before 3.5 reject parts of it. This rule fits the line to the family and version
// really installed (facts.runtime, from the root-written version cache), and says why.

import { WrapperError } from '../../errors';
import type { FamilyId, FlagDef } from '../../invocation/flagTable';
import { tableFor } from '../../invocation/families/index';
import { allFlags, CONDOR_LAUNCHER, type Flag, type FlagGroup, type Invocation } from '../../invocation/model';
import { parseInvocation } from '../../invocation/parse';
import type { Facts, RuntimeFact } from '../../facts/types';
import { isWithin, normalize, parseBindSpec } from '../paths';
import { addChange, addWarning, type Draft } from '../plan';
import type { Rule } from './index';

export const RULE = 'compat';

// ---- what each family and version accepts ----

/** The runtime as far as the flag tables care: family and (when known) version. */
export type RuntimeKind = Pick<RuntimeFact, 'family' | 'version'>;

/**
 * SingularityCE/Singularity 3.x flags newer than 3.0, with the release that added them (release
 * notes; 3.4.2 verified: `unknown flag: --rocm`). Apptainer 1.x has them all.
 */
const SINGULARITY3_SINCE: Readonly<Record<string, string>> = {
  '--rocm': '3.5',
  '--env': '3.6',
  '--env-file': '3.6',
  '--mount': '3.9',
  '--nvccli': '3.9',
  '--no-eval': '3.10',
};

/** Flags whose absence only loses a convenience: dropped with a warning, never an error. */
const HARMLESS_WHEN_MISSING = new Set(['--rocm', '--writable-tmpfs']);

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function displayRuntime(rt: RuntimeKind): string {
  const name = rt.family === 'apptainer' ? 'Apptainer' : 'Singularity';
  if (rt.version !== undefined) return `${name} ${rt.version}`;
  return rt.family === 'singularity2' ? 'Singularity 2.6' : name;
}

function longName(def: FlagDef): string {
  return def.names.find((n) => n.startsWith('--')) ?? def.names[0] ?? '?';
}

/** The 2.6 definition of a flag spelled `name` for `action`, if 2.6 has one. */
function singularity2Def(action: readonly string[], name: string): FlagDef | undefined {
  const defs = tableFor('singularity2').actions[action.join(' ')] ?? [];
  return defs.find((d) => d.names.includes(name));
}

/**
 * Why the runtime lacks the flag spelled `name` (any spelling of it), or undefined when it has it
 * or we cannot tell (unknown version: never guess a flag away).
 */
export function missingFlagReason(rt: RuntimeKind, name: string, action: readonly string[] = ['exec']): string | undefined {
  if (rt.family === 'singularity2') {
    const def = tableFor('singularity3').actions[action.join(' ')]?.find((d) => d.names.includes(name));
    const names = def === undefined ? [name] : def.names;
    if (names.some((n) => singularity2Def(action, n) !== undefined)) return undefined;
    return `${displayRuntime(rt)} has no ${name}`;
  }
  if (rt.family === 'singularity3' && rt.version !== undefined) {
    const def = tableFor('singularity3').actions[action.join(' ')]?.find((d) => d.names.includes(name));
    const long = def === undefined ? name : longName(def);
    const since = SINGULARITY3_SINCE[long];
    if (since !== undefined && compareVersions(rt.version, since) < 0) return `${displayRuntime(rt)} has no ${long} (added in ${since})`;
  }
  return undefined;
}

// ---- editing flag groups without losing the spelling of what stays ----

const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** A boolean flag is on unless written `--flag=false`. */
export function isOn(f: Flag): boolean {
  return f.def.takesValue || f.value === undefined || !FALSE_VALUES.has(f.value);
}

/** One flag as its own group, spelled as it was written (`-Cu` → `-u` keeps `-u`). */
export function groupOfFlag(f: Flag): FlagGroup {
  if (f.value === undefined) return { raw: [f.name], flags: [f] };
  if (f.def.takesValue) return { raw: [f.name, f.value], flags: [f] };
  return { raw: [`${f.name}=${f.value}`], flags: [f] };
}

/** The groups left when the flags matching `drop` are removed from `g` (a cluster is split). */
export function withoutFlags(g: FlagGroup, drop: (f: Flag) => boolean): FlagGroup[] {
  if (!g.flags.some(drop)) return [g];
  return g.flags.filter((f) => !drop(f)).map(groupOfFlag);
}

/** True when the line makes /tmp and /var/tmp private (-c/--contain, or -C/--containall). */
export function isContained(inv: Invocation): boolean {
  return allFlags(inv).some((f) => (f.def.meaning === 'contain' || f.def.meaning === 'containall') && isOn(f));
}

// ---- parsing with the installed family's table ----

/**
 * Parses a runtime line for the installed family. A line 2.6's own parser would reject is parsed
 * with the 3.x table (a superset of what HTCondor writes) and marked 2.6, so that this rule can
 * repair what is harmless (HTCondor 25's --rocm) and refuse the rest by name.
 */
export function parseForRuntime(command: readonly string[], family: FamilyId): Invocation {
  try {
    return parseInvocation(command, tableFor(family));
  } catch (e) {
    if (family !== 'singularity2' || !(e instanceof WrapperError) || e.id !== 'invocation.unknown-flag') throw e;
    try {
      return { ...parseInvocation(command, tableFor('singularity3')), family: 'singularity2' };
    } catch {
      throw e;
    }
  }
}

/** Flags whose support or behaviour depends on the version: worth a `--version` on a cache miss. */
const VERSION_SENSITIVE = new Set(['scratch', 'contain', 'containall', 'rocm', 'writable-tmpfs', 'env', 'env-file', 'mount', 'no-eval']);

/**
 * Whether the repairs need the version of the runtime: Singularity 2.6 and 3.x share the name
 * `singularity`, so only the version tells them apart. Apptainer 1.x has every flag HTCondor writes.
 */
export function lineNeedsVersion(inv: Invocation, gpuFlag: string): boolean {
  if (inv.family === 'apptainer') return false;
  return gpuFlag !== '--nv' || allFlags(inv).some((f) => VERSION_SENSITIVE.has(f.def.meaning) || f.name === '--nvccli');
}

// ---- the repairs ----

const SHARED_TMP = ['/tmp', '/var/tmp'];

/** The destination of a `--mount` value (one CSV record: `type=bind,source=…,destination=…`). */
export function mountDestination(spec: string): string | undefined {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i] ?? '';
    if (quoted) {
      if (c === '"' && spec[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  for (const fl of fields) {
    const m = /^(?:destination|dst|target)=(.*)$/s.exec(fl);
    if (m !== null) return m[1];
  }
  return undefined;
}

/** Where the line mounts things inside: bind and --mount destinations. */
export function insideDestinations(inv: Invocation): string[] {
  const out: string[] = [];
  for (const f of allFlags(inv)) {
    if (f.value === undefined) continue;
    if (f.def.meaning === 'bind') for (const spec of f.value.split(',')) if (spec !== '') out.push(parseBindSpec(spec).dst);
    if (f.def.meaning === 'mount') {
      const dst = mountDestination(f.value);
      if (dst !== undefined) out.push(dst);
    }
  }
  return out.filter((p) => p.startsWith('/'));
}

/**
 * `-S /tmp` / `-S /var/tmp` under -C that the runtime cannot take: 2.6 aborts on them ("Not
 * mounting requested scratch directory"); Apptainer 1.4 (user namespace) mounts the scratch tmpfs
 * first and then fails every bind below it ("destination … doesn't exist in container"), which is
 * HTCondor's default line (the slot dir under /tmp, bound at its own path). `drops` says which.
 */
function dropScratchOverTmp(d: Draft, inv: Invocation, rt: RuntimeKind, drops: (dir: string) => boolean = () => true, why?: string): Draft {
  let draft = d;
  const flags: FlagGroup[] = [];
  for (const g of inv.flags) {
    const f = g.flags[0];
    if (g.flags.length !== 1 || f === undefined || f.def.meaning !== 'scratch' || f.value === undefined) {
      flags.push(g);
      continue;
    }
    const dirs = f.value.split(',');
    const keep = dirs.filter((x) => !(SHARED_TMP.includes(normalize(x)) && drops(normalize(x))));
    if (keep.length === dirs.length) {
      flags.push(g);
      continue;
    }
    if (keep.length > 0) flags.push(groupOfFlag({ ...f, value: keep.join(',') }));
    draft = addChange(
      draft,
      RULE,
      `dropped ${g.raw.join(' ')}${keep.length > 0 ? ` (kept ${keep.join(',')})` : ''}`,
      why ?? `${displayRuntime(rt)} aborts on a scratch dir over /tmp or /var/tmp under --contain ("Not mounting requested scratch directory (already mounted in container)"); the contained /tmp and /var/tmp are already private to the job`,
    );
  }
  return { ...draft, invocation: { ...inv, flags } };
}

/** Flags the runtime lacks: harmless ones dropped with a warning, policy-carrying ones refused. */
function dropOrRefuseMissing(d: Draft, inv: Invocation, rt: RuntimeKind): Draft {
  let draft = d;
  const flags: FlagGroup[] = [];
  for (const g of inv.flags) {
    const kept: Flag[] = [];
    let changed = false;
    for (const f of g.flags) {
      const reason = missingFlagReason(rt, f.name, inv.action);
      if (reason === undefined) {
        kept.push(f);
        continue;
      }
      const long = longName(f.def);
      if (!HARMLESS_WHEN_MISSING.has(long)) {
        throw new WrapperError('runtime.unsupported-flag', `runtime flag ${f.name}`, `${reason}; it carries site policy, so the job is not run without it (remove it from SINGULARITY_EXTRA_ARGUMENTS / CJW_EXTRA_ARGS, or upgrade the runtime)`);
      }
      changed = true;
      const why = long === '--rocm' ? `${reason}; HTCondor 25 adds it after --nv on GPU slots (SINGULARITY_ADD_ROCM_FLAG), and this runtime would refuse the whole line` : `${reason}; it only adds a writable tmpfs overlay, and this runtime would refuse the whole line`;
      draft = addWarning(addChange(draft, RULE, `dropped ${f.name}`, why), `dropped runtime flag ${f.name}: ${reason}`);
    }
    if (!changed) flags.push(g);
    else flags.push(...kept.map(groupOfFlag));
  }
  return { ...draft, invocation: { ...inv, flags } };
}

/** A 2.6 line that was parsed with the 3.x table: `--bind=/x` becomes `--bind /x`, `-ci` becomes `-c -i`. */
function respellForSingularity2(d: Draft, inv: Invocation, rt: RuntimeKind): Draft {
  let draft = d;
  const flags: FlagGroup[] = [];
  for (const g of inv.flags) {
    const f = g.flags[0];
    const plain = g.flags.length === 1 && f !== undefined && g.raw[0] === f.name && g.raw.length === (f.def.takesValue ? 2 : 1);
    if (plain && f !== undefined && singularity2Def(inv.action, f.name) !== undefined) {
      flags.push(g);
      continue;
    }
    const out: FlagGroup[] = [];
    for (const fl of g.flags) {
      const def = singularity2Def(inv.action, fl.name) ?? fl.def.names.map((n) => singularity2Def(inv.action, n)).find((x) => x !== undefined);
      if (def === undefined) throw new WrapperError('runtime.unsupported-flag', `runtime flag ${fl.name}`, `${displayRuntime(rt)} has no ${fl.name}`);
      if (!isOn(fl)) continue;
      const name = def.names.includes(fl.name) ? fl.name : longName(def);
      out.push(def.takesValue ? { raw: [name, fl.value ?? ''], flags: [{ def, name, value: fl.value ?? '' }] } : { raw: [name], flags: [{ def, name }] });
    }
    flags.push(...out);
    draft = addChange(draft, RULE, `respelled ${g.raw.join(' ')} as ${out.flatMap((x) => x.raw).join(' ') || '(nothing: a false boolean)'}`, `${displayRuntime(rt)} reads only "--flag value" and separate single-letter flags`);
  }
  return { ...draft, invocation: { ...inv, flags } };
}

/** The value of the last flag with `meaning`, if any. */
function lastValue(inv: Invocation, meaning: string): string | undefined {
  let v: string | undefined;
  for (const f of allFlags(inv)) if (f.def.meaning === meaning && f.value !== undefined) v = f.value;
  return v;
}

function underSharedTmp(p: string): boolean {
  return SHARED_TMP.some((t) => isWithin(p, t));
}

function retarget(p: string, from: string, to: string): string {
  return normalize(`${to}/${normalize(p).slice(normalize(from).length)}`);
}

/**
 * Singularity 2.6 mounts its private /tmp over the binds: a scratch dir under /tmp or /var/tmp,
 * bound at its own path, is hidden under -C ("Could not change directory to: /tmp/.../dir_N").
 * The scratch bind is moved to CJW_TARGET_DIR, and --pwd, --home and the payload program with it.
 */
function bindHiddenScratchAtTarget(d: Draft, inv: Invocation, rt: RuntimeKind, f: Facts): Draft {
  const scratch = lastValue(inv, 'workdir') ?? f.env.get('_CONDOR_SCRATCH_DIR');
  if (scratch === undefined || scratch === '' || !underSharedTmp(scratch)) return d;
  const target = normalize(f.config.targetDir);
  // The bind that carries the scratch dir: the longest source containing it.
  let carrier: { group: number; entry: number; src: string; dst: string; opts: string } | undefined;
  let targetTaken = false;
  inv.flags.forEach((g, gi) => {
    const fl = g.flags[0];
    if (g.flags.length !== 1 || fl?.def.meaning !== 'bind' || fl.value === undefined) return;
    fl.value.split(',').forEach((spec, ei) => {
      if (spec === '') return;
      const b = parseBindSpec(spec);
      if (normalize(b.dst) === target) targetTaken = true;
      if (isWithin(scratch, b.src) && (carrier === undefined || normalize(b.src).length >= normalize(carrier.src).length)) {
        carrier = { group: gi, entry: ei, ...b };
      }
    });
  });
  const c = carrier;
  if (c === undefined || !underSharedTmp(c.dst)) return d;
  if (targetTaken) {
    return addWarning(d, `the scratch dir ${scratch} is under /tmp, which ${displayRuntime(rt)} hides under --contain, and CJW_TARGET_DIR ${target} is already bound: the job may not see its scratch dir`);
  }
  const from = c.dst;
  const newSpec = `${c.src}:${target}${c.opts === '' ? '' : `:${c.opts}`}`;
  let draft = d;
  const why = `${displayRuntime(rt)} mounts its private /tmp and /var/tmp over binds under -C, which would hide the scratch dir ${scratch}`;
  const flags = inv.flags.map((g, gi) => {
    const fl = g.flags[0];
    if (gi === c.group && fl?.value !== undefined) {
      const value = fl.value.split(',').map((s, ei) => (ei === c.entry ? newSpec : s)).join(',');
      draft = addChange(draft, RULE, `bind ${c.src} at ${target} instead of ${from}`, why);
      return groupOfFlag({ ...fl, value });
    }
    if (fl === undefined || g.flags.length !== 1 || fl.value === undefined) return g;
    if (fl.def.meaning === 'pwd' && isWithin(fl.value, from)) {
      const value = retarget(fl.value, from, target);
      draft = addChange(draft, RULE, `--pwd ${fl.value} → ${value}`, `the scratch dir is now bound at ${target}`);
      return groupOfFlag({ ...fl, value });
    }
    if (fl.def.meaning === 'home') {
      const [src = '', dst] = fl.value.split(':');
      const inside = dst ?? src;
      if (isWithin(inside, from)) {
        const value = `${src}:${retarget(inside, from, target)}`;
        draft = addChange(draft, RULE, `--home ${fl.value} → ${value}`, `the scratch dir is now bound at ${target}`);
        return groupOfFlag({ ...fl, value });
      }
    }
    return g;
  });
  const at = inv.payload[0] === CONDOR_LAUNCHER ? 1 : 0;
  const program = inv.payload[at];
  let payload = inv.payload;
  if (program !== undefined && program.startsWith('/') && isWithin(program, from)) {
    const moved = retarget(program, from, target);
    payload = inv.payload.map((a, i) => (i === at ? moved : a));
    draft = addChange(draft, RULE, `program ${program} → ${moved}`, `the scratch dir is now bound at ${target}`);
  }
  return { ...draft, invocation: { ...inv, flags, payload } };
}

export function applyCompat(d: Draft, f: Facts): Draft {
  const inv = d.invocation;
  if (inv === undefined) return d;
  const rt: RuntimeKind = { family: inv.family, ...(f.runtime?.version === undefined ? {} : { version: f.runtime.version }) };
  let draft = d;
  const current = (): Invocation => draft.invocation ?? inv;
  draft = dropOrRefuseMissing(draft, current(), rt);
  if (inv.family === 'apptainer' && isContained(current())) {
    const hidden = insideDestinations(current()).filter(underSharedTmp);
    draft = dropScratchOverTmp(
      draft,
      current(),
      rt,
      (dir) => hidden.some((p) => isWithin(p, dir)),
      `${displayRuntime(rt)} mounts the scratch tmpfs over /tmp or /var/tmp before the binds, so a bind below it (${hidden.join(', ')}) fails ("destination … doesn't exist in container"); the contained /tmp and /var/tmp are already private to the job`,
    );
  }
  if (inv.family === 'singularity2') {
    draft = respellForSingularity2(draft, current(), rt);
    if (isContained(current())) {
      draft = dropScratchOverTmp(draft, current(), rt);
      draft = bindHiddenScratchAtTarget(draft, current(), rt, f);
    }
  }
  return draft;
}

export const compatRule: Rule = { name: RULE, appliesTo: 'contained', apply: applyCompat };
