// Binds (SPEC S5.2): adds the site's binds (CJW_BINDS, setup hooks), holds the job's own binds
// (its SingularityBind) to CJW_BIND_ALLOW / CJW_BIND_DENY by realpath, keeps one bind per
// destination (site beats job, the starter's scratch bind is never overridden), and writes paths
// that a -B cannot carry (`,` `:`) with --mount where the runtime has it.

import { Exit, WrapperError } from '../../errors';
import { getStringList } from '../../facts/classad';
import type { Facts, PathFact } from '../../facts/types';
import type { FamilyId, FlagDef } from '../../invocation/flagTable';
import { tableFor } from '../../invocation/families/index';
import { CONDOR_LAUNCHER, groupFor, type FlagGroup, type Invocation } from '../../invocation/model';
import { firstMatch } from '../glob';
import { insidePath, isWithin, normalize, parseBindSpec, type BindSpecParts } from '../paths';
import { addChange, addWarning, type BindEntry, type BindOrigin, type Draft } from '../plan';
import { compareVersions } from './compat';
import type { Rule } from './index';
import { LAUNCHER_DIR } from './launcher';

export const RULE = 'binds';

// ---- the scratch dir and the starter's own binds (also used by the env rule) ----

/** The value of the first action flag with `meaning`, if any. */
function flagValue(inv: Invocation, meaning: string): string | undefined {
  for (const g of inv.flags) for (const f of g.flags) if (f.def.meaning === meaning && f.value !== undefined) return f.value;
  return undefined;
}

/**
 * The job's scratch dir: `_CONDOR_SCRATCH_DIR` (the starter sets it over any value the job asks
 * for), else the line's `-W`, else the wrapper's cwd (the starter starts the job there).
 */
export function scratchDirOf(inv: Invocation, f: Facts): string {
  const fromEnv = f.scratch?.path ?? f.env.get('_CONDOR_SCRATCH_DIR');
  if (fromEnv !== undefined && fromEnv.startsWith('/')) return normalize(fromEnv);
  const workdir = flagValue(inv, 'workdir');
  if (workdir !== undefined && workdir.startsWith('/')) return normalize(workdir);
  return normalize(f.cwd);
}

/** One bind spec of the line, with where it sits. */
interface LineBind {
  readonly group: number;
  /** The whole value of its -B flag (one spec unless the flag held a comma list). */
  readonly value: string;
  readonly parts: BindSpecParts;
}

function lineBinds(inv: Invocation): LineBind[] {
  const out: LineBind[] = [];
  inv.flags.forEach((g, group) => {
    for (const f of g.flags) {
      if (f.def.meaning !== 'bind' || f.value === undefined) continue;
      for (const spec of f.value.split(',')) if (spec !== '') out.push({ group, value: f.value, parts: parseBindSpec(spec) });
    }
  });
  return out;
}

/**
 * The bind that carries the scratch dir into the container: the one with the longest source
 * containing it (HTCondor 24 binds the scratch itself, 25 the slot dir above it). Undefined when
 * no bind carries it.
 */
export function scratchBindOf(binds: readonly BindSpecParts[], scratch: string): BindSpecParts | undefined {
  let best: BindSpecParts | undefined;
  for (const b of binds) {
    if (!b.src.startsWith('/') || normalize(b.src) === '/' || !isWithin(scratch, b.src)) continue;
    if (best === undefined || normalize(b.src).length >= normalize(best.src).length) best = b;
  }
  return best;
}

// ---- how a bind is written ----

function bindDef(inv: Invocation, meaning: 'bind' | 'mount'): FlagDef | undefined {
  const table = tableFor(inv.family);
  const defs = table.actions[inv.action.join(' ')] ?? table.actions.exec ?? [];
  return defs.find((d) => d.meaning === meaning);
}

/**
 * Whether the runtime really has --mount: every Apptainer 1.x, SingularityCE 3.9+; not
 * Singularity 2.6 nor 3.x before 3.9. An unknown 3.x version is assumed not to have it.
 */
export function hasMountFlag(family: FamilyId, version: string | undefined): boolean {
  if (family === 'apptainer') return true;
  if (family === 'singularity2') return false;
  return version !== undefined && compareVersions(version, '3.9') >= 0;
}

/** `src[:dst[:opts]]`, as short as the runtimes read it. */
export function bindSpec(src: string, dst: string, opts: string): string {
  if (opts !== '') return `${src}:${dst}:${opts}`;
  return src === dst ? src : `${src}:${dst}`;
}

/** One CSV field of a --mount spec: quoted when it holds a comma, a quote or a line break. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A --mount value (Apptainer / SingularityCE read it as one CSV record). */
export function mountSpec(src: string, dst: string, opts: string): string {
  const fields = ['type=bind', `source=${src}`, `destination=${dst}`];
  if (opts === 'ro') fields.push('ro');
  return fields.map(csvField).join(',');
}

function needsMount(src: string, dst: string): boolean {
  return /[,:]/.test(src) || /[,:]/.test(dst);
}

interface Written {
  readonly group: FlagGroup;
  readonly viaMount: boolean;
}

/** The flag group for a bind, or the error when the runtime cannot express it. */
function writeBind(inv: Invocation, f: Facts, b: BindSpecParts, site: boolean, what: string): Written {
  if (!needsMount(b.src, b.dst)) {
    const def = bindDef(inv, 'bind');
    if (def === undefined) throw new WrapperError('internal.bug', 'internal error', `no bind flag for ${inv.family}; please report it`);
    return { group: groupFor(def, bindSpec(b.src, b.dst, b.opts)), viaMount: false };
  }
  const mountDef = bindDef(inv, 'mount');
  if (mountDef !== undefined && hasMountFlag(inv.family, f.runtime?.version)) {
    return { group: groupFor(mountDef, mountSpec(b.src, b.dst, b.opts)), viaMount: true };
  }
  const runtime = `${tableFor(inv.family).displayName}${f.runtime?.version === undefined ? ' (version unknown)' : ` ${f.runtime.version}`}`;
  const why = `a path with "," or ":" needs --mount, which ${runtime} lacks`;
  if (site) throw new WrapperError('bind.unexpressible', what, `${why}; rename the path or use a runtime with --mount (Apptainer 1.x, SingularityCE 3.9+)`);
  throw new WrapperError('bind.job-unexpressible', what, `${why}; use a path without "," and ":"`);
}

// ---- policy ----

function pathFact(f: Facts, src: string, origin: string): PathFact {
  const fact = f.paths.get(src);
  if (fact === undefined) {
    throw new WrapperError('internal.bug', 'internal error', `the ${origin} bind source ${src} was not probed (facts/paths.ts); please report it`);
  }
  return fact;
}

/**
 * Job and hook binds must match CJW_BIND_ALLOW (when set) by realpath and no CJW_BIND_DENY glob.
 * Returns why the bind is allowed, for --explain.
 */
function checkPolicy(f: Facts, src: string, real: string, what: string, code: typeof Exit.DATAERR | typeof Exit.CONFIG): string {
  const { bindAllow, bindDeny } = f.config;
  const shownReal = real === src ? '' : ` (it resolves to ${real})`;
  const denied = firstMatch(bindDeny, real) ?? (src.startsWith('/') ? firstMatch(bindDeny, normalize(src)) : undefined);
  if (denied !== undefined) throw new WrapperError('bind.not-allowed', what, `${src}${shownReal} matches the CJW_BIND_DENY glob ${denied}`, { code });
  const deny = bindDeny.length === 0 ? '' : ' and no CJW_BIND_DENY glob';
  if (bindAllow.length === 0) return `CJW_BIND_ALLOW is empty (any source)${deny === '' ? '' : `, and ${real} matches no CJW_BIND_DENY glob`}`;
  const allowed = firstMatch(bindAllow, real);
  if (allowed === undefined) {
    throw new WrapperError('bind.not-allowed', what, `${src}${shownReal} matches no CJW_BIND_ALLOW glob (${bindAllow.join(', ')})`, { code });
  }
  return `its realpath ${real} matches the CJW_BIND_ALLOW glob ${allowed}${deny}`;
}

/**
 * Inside paths no added bind may touch, above or below: the wrapper's launcher dir in the scratch
 * (a bind there would swap the site's inside hooks for the job's files) and HTCondor's launcher.
 */
function guardedPaths(inv: Invocation, scratchInside: string | undefined): string[] {
  const out = scratchInside === undefined ? [] : [normalize(`${scratchInside}/${LAUNCHER_DIR}`)];
  if (inv.payload[0] === CONDOR_LAUNCHER) out.push(CONDOR_LAUNCHER);
  return out;
}

/** True when a bind at `dst` would replace or hide the protected destination `p`. */
function covers(dst: string, p: string): boolean {
  return dst.startsWith('/') && isWithin(p, dst);
}

// ---- the rule ----

interface Candidate {
  readonly parts: BindSpecParts;
  readonly origin: BindOrigin;
  /** Where it was asked for, for messages: "site bind /x (CJW_BINDS)". */
  readonly what: string;
  readonly required: boolean;
}

function withoutGroups(inv: Invocation, drop: ReadonlySet<number>): Invocation {
  return { ...inv, flags: inv.flags.filter((_, i) => !drop.has(i)) };
}

export function applyBinds(d: Draft, f: Facts): Draft {
  const inv0 = d.invocation;
  if (inv0 === undefined) return d;
  let out = d;
  let inv = inv0;
  const scratch = scratchDirOf(inv, f);
  const onLine = lineBinds(inv);
  const iwd = f.env.get('_CONDOR_JOB_IWD');
  const scratchBind = scratchBindOf(onLine.map((b) => b.parts), scratch);

  // The binds the starter (or wrapper-built mode) put on the line: protected ones, job ones, others.
  const jobEntries = new Set(getStringList(f.jobAd, 'SingularityBind') ?? []);
  const isProtected = (b: LineBind): boolean =>
    b.parts === scratchBind || (iwd !== undefined && iwd.startsWith('/') && normalize(b.parts.src) === normalize(iwd));
  const protectedDsts = onLine.filter(isProtected).map((b) => normalize(b.parts.dst));
  const guarded = guardedPaths(inv, insidePath(scratch, onLine.map((b) => b.parts)));
  const touchesGuarded = (dst: string): string | undefined => (dst.startsWith('/') ? guarded.find((g) => isWithin(g, dst) || isWithin(dst, g)) : undefined);
  const jobOnLine = onLine.filter((b) => !isProtected(b) && jobEntries.has(b.value));
  const starterSite = onLine.filter((b) => !isProtected(b) && !jobEntries.has(b.value));

  const recorded = new Set(d.binds.map((b) => `${normalize(b.src)}\0${normalize(b.dst)}`));
  const newEntries: BindEntry[] = [];
  const record = (parts: BindSpecParts, origin: BindOrigin): void => {
    const key = `${normalize(parts.src)}\0${normalize(parts.dst)}`;
    if (recorded.has(key)) return;
    recorded.add(key);
    newEntries.push({ src: parts.src, dst: parts.dst, opts: parts.opts, origin });
  };
  for (const b of onLine) if (!jobOnLine.includes(b)) record(b.parts, 'starter');

  // Destinations the site already holds: the starter's own binds (protected or not).
  const siteDsts = new Set([...protectedDsts, ...starterSite.map((b) => normalize(b.parts.dst))]);
  const added: FlagGroup[] = [];

  // Site binds: CJW_BINDS, then what setup hooks contributed (those pass the bind policy too).
  const siteCandidates: Candidate[] = [
    ...f.config.binds.map((b) => ({ parts: { src: b.src, dst: b.dst, opts: b.opts }, origin: 'site' as const, what: `site bind ${b.text} (CJW_BINDS)`, required: b.required })),
    ...f.contributions.flatMap((c) =>
      c.binds.map((spec) => ({ parts: parseBindSpec(spec), origin: `hook:${c.hook}` as const, what: `bind ${spec} from setup hook ${c.hook}`, required: false })),
    ),
  ];
  for (const c of siteCandidates) {
    const fact = pathFact(f, c.parts.src, c.origin);
    if (fact.kind === 'missing') {
      if (c.required) throw new WrapperError('bind.missing-required', c.what, `the source ${c.parts.src} does not exist (or this user cannot reach it); it is marked required with "!"`);
      out = addWarning(out, `${c.what}: source ${c.parts.src} does not exist, skipped`);
      out = addChange(out, RULE, `skipped ${c.what}`, `the source ${c.parts.src} does not exist; a bind without "!" is optional`);
      continue;
    }
    const real = fact.real ?? normalize(c.parts.src);
    if (c.origin !== 'site') checkPolicy(f, c.parts.src, real, c.what, Exit.CONFIG);
    const dst = normalize(c.parts.dst);
    const hidden = protectedDsts.find((p) => covers(dst, p));
    if (hidden !== undefined) {
      out = addWarning(out, `${c.what}: destination ${dst} would hide the job's scratch bind at ${hidden}, skipped`);
      out = addChange(out, RULE, `skipped ${c.what}`, `its destination ${dst} would replace or hide the starter's scratch bind at ${hidden}`);
      continue;
    }
    const guard = touchesGuarded(dst);
    if (guard !== undefined) {
      out = addWarning(out, `${c.what}: destination ${dst} would cover or sit inside ${guard}, skipped`);
      out = addChange(out, RULE, `skipped ${c.what}`, `its destination ${dst} would cover or sit inside ${guard}, which belongs to the wrapper or HTCondor`);
      continue;
    }
    if (siteDsts.has(dst)) {
      out = addChange(out, RULE, `skipped ${c.what}`, `${dst} is already bound by the starter's line or an earlier site bind: one bind per destination`);
      continue;
    }
    const parts = { src: real, dst, opts: c.parts.opts };
    const w = writeBind(inv, f, parts, true, c.what);
    added.push(w.group);
    siteDsts.add(dst);
    record(parts, c.origin);
    const resolved = real === normalize(c.parts.src) ? '' : ` (source resolved from ${c.parts.src})`;
    out = addChange(out, RULE, `added ${w.group.raw.join(' ')}${resolved}`, `${c.what}${w.viaMount ? '; written with --mount because the path holds "," or ":"' : ''}`);
  }

  // Job binds: those on the starter's line, and in wrapper-built mode the job ad's directly.
  const jobCandidates: { parts: BindSpecParts; group?: number; value: string }[] = jobOnLine.map((b) => ({ parts: b.parts, group: b.group, value: b.value }));
  if (d.dispatch === 'wrapper-built') {
    const present = new Set(onLine.map((b) => b.value));
    for (const e of jobEntries) if (!present.has(e)) jobCandidates.push({ parts: parseBindSpec(e), value: e });
  }
  const dropGroups = new Set<number>();
  const jobDsts = new Set<string>();
  for (const j of jobCandidates) {
    const what = `job bind ${j.value} (SingularityBind)`;
    const drop = (reason: string, warn: boolean): void => {
      if (j.group !== undefined) dropGroups.add(j.group);
      if (warn) out = addWarning(out, `${what}: ${reason}`);
      out = addChange(out, RULE, `dropped ${what}`, reason);
    };
    const fact = pathFact(f, j.parts.src, 'job');
    if (fact.kind === 'missing') {
      // HTCondor skips missing sources too; a 3.4 userns runtime would instead try to create it.
      drop(`the source ${j.parts.src} does not exist, skipped`, true);
      continue;
    }
    const real = fact.real ?? normalize(j.parts.src);
    const allowedBecause = checkPolicy(f, j.parts.src, real, what, Exit.DATAERR);
    const dst = j.parts.dst.startsWith('/') ? normalize(j.parts.dst) : j.parts.dst;
    const hidden = protectedDsts.find((p) => covers(dst, p));
    if (hidden !== undefined) {
      drop(`its destination ${dst} would replace or hide the starter's scratch bind at ${hidden}`, true);
      continue;
    }
    const guard = touchesGuarded(dst);
    if (guard !== undefined) {
      drop(`its destination ${dst} would cover or sit inside ${guard}, which belongs to the wrapper or HTCondor`, true);
      continue;
    }
    if (siteDsts.has(dst)) {
      drop(`${dst} is already bound by the site: one bind per destination, the site's wins`, false);
      continue;
    }
    if (jobDsts.has(dst)) {
      drop(`${dst} is already bound by an earlier job bind: one bind per destination`, false);
      continue;
    }
    jobDsts.add(dst);
    const parts = { src: real, dst, opts: j.parts.opts };
    record(parts, 'job');
    // A -B holding a comma list is rewritten spec by spec: its group goes if any spec in it goes.
    const unchanged = j.group !== undefined && !j.value.includes(',') && real === j.parts.src && !needsMount(real, dst);
    if (unchanged) {
      out = addChange(out, RULE, `kept ${what}`, allowedBecause);
      continue;
    }
    const w = writeBind(inv, f, parts, false, what);
    if (j.group !== undefined) dropGroups.add(j.group);
    added.push(w.group);
    const why = j.group === undefined
      ? `the job asks for it in SingularityBind (wrapper-built mode); ${allowedBecause}`
      : real !== j.parts.src
        ? `the source resolves to ${real}: the runtime gets the path that was checked`
        : j.value.includes(',')
          ? `its -B held several specs (${j.value}): each is written as its own flag, kept or dropped on its own`
          : 'a path with "," or ":" needs --mount';
    out = addChange(out, RULE, `${j.group === undefined ? 'added' : 'rewrote'} ${what} as ${w.group.raw.join(' ')}`, why);
  }

  inv = withoutGroups(inv, dropGroups);
  if (added.length > 0) inv = { ...inv, flags: [...inv.flags, ...added] };
  return { ...out, invocation: inv, binds: [...out.binds, ...newEntries] };
}

export const bindsRule: Rule = {
  name: RULE,
  appliesTo: 'contained',
  apply: applyBinds,
};
