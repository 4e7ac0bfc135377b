// Environment (SPEC S5.4): the job gets its own environment inside the container, minus what the
// site drops, never steered by runtime variables a pilot or the job left behind, with HOME and
// scratch paths as seen inside, and the site's CJW_ENV_SET last.

import type { Facts } from '../../facts/types';
import type { FamilyId } from '../../invocation/flagTable';
import { tableFor } from '../../invocation/families/index';
import { allFlags, groupFor, type Flag, type Invocation } from '../../invocation/model';
import { bindsOf, insidePath, isWithin, normalize, type BindSpecParts } from '../paths';
import { addChange, type Draft } from '../plan';
import { scratchBindOf, scratchDirOf } from './binds';
import { groupOfFlag, isOn } from './compat';
import type { Rule } from './index';

export const RULE = 'env';

/** The copies the runtimes turn into inside variables (`APPTAINERENV_X` → `X`). */
export const COPY_PREFIXES = ['APPTAINERENV_', 'SINGULARITYENV_'] as const;

/**
 * The copy prefixes the runtime in use reads, the one to write first. Apptainer 1.x also reads
 * SINGULARITYENV_ (APPTAINERENV_ wins); Singularity 2.6 and 3.x ignore APPTAINERENV_ (verified
 * on 2.6.1 and 3.4.2, ../shared/runtimes/README.md).
 */
export function activePrefixes(family: FamilyId): readonly string[] {
  return family === 'apptainer' ? ['APPTAINERENV_', 'SINGULARITYENV_'] : ['SINGULARITYENV_'];
}

/** The inside name of a copy, or undefined for a plain variable. */
export function copyOf(name: string): { readonly prefix: string; readonly inner: string } | undefined {
  for (const prefix of COPY_PREFIXES) if (name.startsWith(prefix)) return { prefix, inner: name.slice(prefix.length) };
  return undefined;
}

/**
 * Runtime variables a job may keep: where the runtime keeps its cache and temporary files (the
 * starter itself points them at the scratch dir) and registry credentials for `docker://` images.
 * Everything else `APPTAINER_*` / `SINGULARITY_*` steers the runtime like a flag (BINDPATH,
 * CONTAINALL, NO_HOME, OVERLAY, …) and is not the job's to set.
 */
const RUNTIME_VARS_KEPT: ReadonlySet<string> = new Set(['CACHEDIR', 'TMPDIR', 'DOCKER_USERNAME', 'DOCKER_PASSWORD']);

export function isRuntimeBehaviourVar(name: string): boolean {
  // startsWith, not a regular expression: this runs for every variable, several times per job.
  const rest = name.startsWith('APPTAINER_') ? name.slice(10) : name.startsWith('SINGULARITY_') ? name.slice(12) : undefined;
  return rest !== undefined && !RUNTIME_VARS_KEPT.has(rest);
}

/** GPU visibility (S5.4): set by HTCondor for the slot, never dropped or rewritten. */
export const GPU_VARS: ReadonlySet<string> = new Set(['CUDA_VISIBLE_DEVICES', 'ROCR_VISIBLE_DEVICES', 'GPU_DEVICE_ORDINAL', 'NVIDIA_VISIBLE_DEVICES', '_CONDOR_AssignedGPUs']);

/** HTCondor's own record of the host path: its copy is the host path on purpose. */
const HOST_PATH_VARS: ReadonlySet<string> = new Set(['_CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER']);

const PATH_COPIES: ReadonlySet<string> = new Set(['PATH', 'PREPEND_PATH', 'APPEND_PATH']);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The CJW_ENV_DROP entry that matches `name` (a trailing `*` matches a prefix), if any. */
export function dropEntry(patterns: readonly string[], name: string): string | undefined {
  return patterns.find((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/**
 * `value` with every absolute path inside the carrying bind's source rewritten to the path
 * inside, by whole components (`/x/dir_1` never touches `/x/dir_10`); a `:`-separated list is
 * rewritten element by element. Values that are not paths come back unchanged.
 */
export function retargetValue(value: string, carrier: BindSpecParts): string {
  if (!value.includes('/')) return value;
  return value
    .split(':')
    .map((el) => (el.startsWith('/') && isWithin(el, carrier.src) ? insidePath(el, [carrier]) ?? el : el))
    .join(':');
}

/** Long or hostile values are shortened in --explain (the plan itself keeps them whole). */
function shown(v: string): string {
  const flat = JSON.stringify(v);
  return flat.length > 120 ? `${flat.slice(0, 80)}…" (${v.length} characters)` : flat;
}

function names(list: readonly string[]): string {
  const shownList = list.slice(0, 12).map((n) => (ENV_NAME.test(n) ? n : JSON.stringify(n)));
  return list.length > 12 ? `${shownList.join(', ')} and ${list.length - 12} more` : shownList.join(', ');
}

function cleansEnv(inv: Invocation): boolean {
  return allFlags(inv).some((x) => (x.def.meaning === 'cleanenv' || x.def.meaning === 'containall') && isOn(x));
}

/**
 * `--home SCRATCH` → `--home SCRATCH:INSIDE` when the bind that carries it puts it elsewhere, and
 * `--no-home` (starters before 23.10) → the same `--home`: with `--no-home` the runtimes set HOME
 * to the job owner's host home, which does not exist inside (S5.4).
 */
function homeInside(d: Draft, inv: Invocation, f: Facts): Draft {
  const binds = bindsOf(inv);
  let out = d;
  const flags = inv.flags.map((g) => {
    const f0 = g.flags[0];
    if (g.flags.length !== 1 || f0 === undefined) return g;
    if (f0.def.meaning === 'no-home') {
      const scratch = scratchDirOf(inv, f);
      const inside = insidePath(scratch, binds);
      const def = tableFor(inv.family).actions[inv.action.join(' ')]?.find((x) => x.meaning === 'home');
      // Not bound (no starter builds such a line) or no --home in this action: left as it is.
      if (inside === undefined || def === undefined || /[,:]/.test(scratch) || /[,:]/.test(inside)) return g;
      const spec = inside === scratch ? scratch : `${scratch}:${inside}`;
      const home = groupFor(def, spec);
      out = addChange(out, RULE, `${g.raw.join(' ')} → ${home.raw.join(' ')}`, `with --no-home the runtime sets HOME to the job owner's host home, which does not exist inside; HOME inside must be the scratch dir as the job sees it (${inside}), and the runtimes refuse a HOME variable, so --home carries it`);
      return home;
    }
    if (f0.def.meaning !== 'home' || f0.value === undefined || f0.value.includes(':')) return g;
    const inside = f0.value.startsWith('/') ? insidePath(f0.value, binds) : undefined;
    if (inside === undefined || inside === normalize(f0.value)) return g;
    const moved: Flag = { ...f0, value: `${f0.value}:${inside}` };
    out = addChange(out, RULE, `${g.raw.join(' ')} → ${f0.name} ${moved.value ?? ''}`, `HOME inside must be the scratch dir as the job sees it (${inside}); the runtimes refuse a HOME variable, so --home carries it`);
    return groupOfFlag(moved);
  });
  return { ...out, invocation: { ...inv, flags } };
}

export function applyEnv(d: Draft, f: Facts): Draft {
  const inv0 = d.invocation;
  if (inv0 === undefined) return d;
  let out = homeInside(d, inv0, f);
  const inv = out.invocation ?? inv0;
  const env = new Map(out.env);
  const prefixes = activePrefixes(inv.family);
  const primary = prefixes[0] ?? 'SINGULARITYENV_';
  const change = (what: string, reason: string): void => {
    out = addChange(out, RULE, what, reason);
  };

  // 1–3 in one pass over the names (each name is looked at once; the lists keep the
  // environment's order, as the changes name them).
  const behaviour: string[] = [];
  const behaviourCopies: string[] = [];
  const dropped = new Map<string, string>();
  const keptGpu = new Set<string>();
  const badNames: string[] = [];
  for (const k of env.keys()) {
    const c = copyOf(k);
    const inner = c?.inner ?? k;
    // 1. The runtime's own behaviour variables, inherited from the job or a pilot around it,
    // and their copies (APPTAINERENV_APPTAINER_BINDPATH): inside they are the plain variable,
    // which would steer a nested run there the same way.
    if (isRuntimeBehaviourVar(inner)) {
      (c === undefined ? behaviour : behaviourCopies).push(k);
      continue;
    }
    // 2. CJW_ENV_DROP: the variable and its copies; GPU visibility stays.
    const entry = dropEntry(f.config.envDrop, inner);
    if (entry !== undefined) {
      if (GPU_VARS.has(inner)) keptGpu.add(inner);
      else if (!dropped.has(inner)) dropped.set(inner, entry);
      if (!GPU_VARS.has(inner)) continue;
    }
    // 3. Copies a runtime's shell front end could misread: only variable names pass inside.
    if (c !== undefined && !ENV_NAME.test(inner)) badNames.push(k);
  }
  for (const k of behaviour) env.delete(k);
  if (behaviour.length > 0) {
    change(`removed ${names(behaviour)} from the runtime's environment`, 'the runtime reads these like flags (binds, containment, home, overlays); they came from the job\'s environment, which must not change the site\'s line behind its back');
  }
  for (const k of behaviourCopies) env.delete(k);
  if (behaviourCopies.length > 0) {
    change(`removed ${names(behaviourCopies)}`, 'copies of the runtime\'s behaviour variables: the runtime passes each inside as the plain variable (binds, containment, home, overlays), where it would steer a nested run behind the site\'s back');
  }
  for (const k of [...env.keys()]) {
    const inner = copyOf(k)?.inner ?? k;
    if (dropped.has(inner)) env.delete(k);
  }
  for (const [name, entry] of dropped) change(`dropped ${names([name])} and its ${primary} copies`, `CJW_ENV_DROP entry ${entry}${entry === name ? '' : ' (a prefix)'} (${f.config.origins.get('CJW_ENV_DROP') ?? 'default'}): never passed into the container`);
  if (keptGpu.size > 0) change(`kept ${names([...keptGpu])}`, 'GPU visibility variables are the slot\'s assignment and are never dropped, even when CJW_ENV_DROP matches them');
  for (const k of badNames) env.delete(k);
  if (badNames.length > 0) change(`removed ${names(badNames)}`, 'not a valid variable name inside ([A-Za-z_][A-Za-z0-9_]*): Singularity 2.6 handles the copies in shell code');

  // 4. HOME and PATH copies: the runtimes refuse HOME (--home carries it); PATH inside is reset.
  for (const p of COPY_PREFIXES) {
    if (env.delete(`${p}HOME`)) change(`removed ${p}HOME`, 'the runtimes refuse to set HOME from the environment; HOME inside is the --home destination');
    for (const name of PATH_COPIES) {
      const k = `${p}${name}`;
      if (env.delete(k)) change(`removed ${k}`, 'PATH inside is reset to the standard system PATH (the runtime\'s default, plus what the image itself sets): the host\'s or the job\'s PATH does not fit the image');
    }
  }

  // 5. Scratch paths as seen inside, recomputed from the plain variables by whole components.
  const carrier = scratchBindOf(bindsOf(inv), scratchDirOf(inv, f));
  for (const [k, v] of [...env]) {
    if (copyOf(k) !== undefined || isRuntimeBehaviourVar(k) || k.startsWith('APPTAINER_') || k.startsWith('SINGULARITY_')) continue;
    if (HOST_PATH_VARS.has(k) || GPU_VARS.has(k) || !ENV_NAME.test(k) || dropped.has(k)) continue;
    const want = carrier === undefined ? v : retargetValue(v, carrier);
    for (const p of prefixes) {
      const ck = `${p}${k}`;
      const have = env.get(ck);
      // The primary copy is added when a scratch path needs one; other prefixes only when present.
      if (have === undefined && (p !== primary || want === v)) continue;
      if (have === want) continue;
      env.set(ck, want);
      const why = have === undefined
        ? `${k} points into the scratch dir, which is ${carrier?.dst ?? '?'} inside (bind ${carrier?.src ?? '?'}); the runtime passes ${ck} inside as ${k}`
        : `recomputed from ${k} by whole path components through the bind ${carrier?.src ?? '?'}:${carrier?.dst ?? '?'}; the starter's copy (${shown(have)}) used a substring replace or none`;
      change(`${ck}=${shown(want)}`, why);
    }
  }

  // 6. What setup hooks contributed, then CJW_ENV_SET, last.
  const insideEnv = new Map(out.insideEnv ?? []);
  const family = inv.family;
  const cleans = cleansEnv(inv);
  const setInside = (k: string, v: string, source: string): void => {
    // HOME is refused as a copy; Singularity 2.6 under cleanenv ignores the PATH copies.
    if (k === 'HOME' || (family === 'singularity2' && cleans && PATH_COPIES.has(k))) {
      insideEnv.set(k, v);
      change(`${k}=${shown(v)} inside (set by the inside launcher)`, `${source}; the runtime would not pass ${k} from a copy`);
      return;
    }
    env.set(`${primary}${k}`, v);
    for (const p of prefixes) if (p !== primary && env.has(`${p}${k}`)) env.set(`${p}${k}`, v);
    change(`${primary}${k}=${shown(v)}`, source);
  };
  for (const c of f.contributions) {
    for (const [k, v] of c.env) {
      // A hook's variable meets the same drop list as the job's (an LD_PRELOAD from a hook is still refused).
      const entry = GPU_VARS.has(k) ? undefined : dropEntry(f.config.envDrop, k);
      if (entry !== undefined) {
        change(`dropped ${k} from setup hook ${c.hook}`, `CJW_ENV_DROP entry ${entry} (${f.config.origins.get('CJW_ENV_DROP') ?? 'default'}) applies to hook output too`);
        continue;
      }
      setInside(k, v, `inside environment from setup hook ${c.hook}`);
    }
  }
  const setOrigin = f.config.origins.get('CJW_ENV_SET') ?? 'default';
  for (const [k, v] of f.config.envSet) setInside(k, v, `CJW_ENV_SET (${setOrigin}), applied last`);

  // 7. Apptainer reads SINGULARITYENV_X too, but prints an INFO for each one that has no
  // APPTAINERENV_X and two WARNINGs when both differ (1.4.5, even with -q); an equal pair is
  // silent. Pair each copy with its APPTAINERENV_ one, whose value wins (as in the runtime).
  if (family === 'apptainer') {
    const paired: string[] = [];
    for (const [k, v] of [...env]) {
      // Never create a copy of a runtime behaviour variable (that is the drop rules' business).
      if (!k.startsWith('SINGULARITYENV_') || isRuntimeBehaviourVar(k.slice('SINGULARITYENV_'.length))) continue;
      const ak = `APPTAINERENV_${k.slice('SINGULARITYENV_'.length)}`;
      const a = env.get(ak);
      if (a === v) continue;
      if (a === undefined) env.set(ak, v);
      else env.set(k, a);
      paired.push(k);
    }
    if (paired.length > 0) change(`paired ${names(paired)} with equal APPTAINERENV_ copies`, 'Apptainer prints an INFO on the job\'s stderr for every SINGULARITYENV_ copy without an APPTAINERENV_ one, and two WARNINGs when both differ; an equal pair is silent, and the APPTAINERENV_ value wins as in the runtime');
  }

  return { ...out, env, ...(insideEnv.size > 0 ? { insideEnv } : {}) };
}

export const envRule: Rule = { name: RULE, appliesTo: 'contained', apply: applyEnv };
