// Wrapper-built mode (SPEC S2, S4): the job's own executable reached the wrapper and policy asks
// for a container, so build the runtime line HTCondor 24 itself would build. The result is a
// normal parsed Invocation, so every later rule treats both modes alike.

import { posix } from 'node:path';
import { WrapperError } from '../../errors';
import { getString, getStringList } from '../../facts/classad';
import type { Config } from '../../facts/config/schema';
import type { ClassAd, Facts, RuntimeFact, ScratchFact } from '../../facts/types';
import type { FamilyId } from '../../invocation/flagTable';
import { tableFor } from '../../invocation/families/index';
import { render, type Invocation } from '../../invocation/model';
import { parseInvocation } from '../../invocation/parse';
import { insidePath, isWithin, normalize, type BindSpecParts } from '../paths';
import { addChange, addWarning, type BindEntry, type Draft } from '../plan';
import type { Rule } from './index';
import { wantsContainer } from './negotiate';

export const RULE = 'wrapperBuilt';

export interface ImageChoice {
  readonly image: string;
  /** For --explain: which attribute or key chose it. */
  readonly source: string;
}

function originOf(config: Config, key: 'CJW_IMAGES' | 'CJW_DEFAULT_IMAGE'): string {
  return config.origins.get(key) ?? 'default';
}

/**
 * SPEC S4 image selection: job SingularityImage / ContainerImage → job REQUIRED_OS (or DesiredOS)
 * through CJW_IMAGES → CJW_DEFAULT_IMAGE. A relative job image is relative to the job's working
 * dir, as HTCondor resolves it; URIs (docker://…) are left as written.
 */
export function chooseImage(jobAd: ClassAd | undefined, config: Config, cwd: string): ImageChoice {
  for (const attr of ['SingularityImage', 'ContainerImage']) {
    const v = (getString(jobAd, attr) ?? '').trim();
    if (v === '') continue;
    if (v.startsWith('-')) {
      throw new WrapperError('jobad.bad-attribute', `job attribute ${attr}`, `"${v}" starts with "-", which the runtime would read as a flag`);
    }
    const image = v.includes('://') || v.startsWith('/') ? v : posix.resolve(cwd, v);
    return { image, source: `the job's ${attr}` };
  }
  for (const attr of ['REQUIRED_OS', 'DesiredOS']) {
    const wanted = getStringList(jobAd, attr);
    if (wanted === undefined) continue;
    for (const os of wanted) {
      const hit = [...config.images].find(([name]) => name.toLowerCase() === os.toLowerCase());
      if (hit !== undefined) return { image: hit[1], source: `the job's ${attr} ${os} through CJW_IMAGES (${originOf(config, 'CJW_IMAGES')})` };
    }
    break; // DesiredOS is only the older name: the first attribute present decides
  }
  if (config.defaultImage !== '') return { image: config.defaultImage, source: `CJW_DEFAULT_IMAGE (${originOf(config, 'CJW_DEFAULT_IMAGE')})` };
  throw new WrapperError('image.none', 'image', 'the job runs in a container but names no image (SingularityImage, ContainerImage, REQUIRED_OS) and the site has no CJW_DEFAULT_IMAGE');
}

/** The scratch dir, checked: the starter's variable, absolute, an existing directory. */
export function checkedScratch(s: ScratchFact | undefined): string {
  if (s === undefined) {
    throw new WrapperError('scratch.invalid', 'scratch dir _CONDOR_SCRATCH_DIR', 'not set: the wrapper was not started by an HTCondor starter (use --explain to try a job line by hand)');
  }
  if (!s.path.startsWith('/')) throw new WrapperError('scratch.invalid', `scratch dir _CONDOR_SCRATCH_DIR=${s.path}`, 'not an absolute path');
  if (s.kind !== 'dir') throw new WrapperError('scratch.invalid', `scratch dir _CONDOR_SCRATCH_DIR=${s.path}`, `not a directory (${s.kind})`);
  return normalize(s.path);
}

export interface LineInput {
  readonly runtime: string;
  readonly scratch: string;
  readonly target: string;
  /** The job's working dir: the scratch, or its IWD on a shared filesystem. */
  readonly cwd: string;
  readonly image: string;
  /** The job's argv: its executable and arguments. */
  readonly command: readonly string[];
}

export interface BuiltLine {
  readonly argv: readonly string[];
  readonly binds: readonly BindSpecParts[];
  /** Set when the executable lies in the scratch and was retargeted into the target dir. */
  readonly retargeted?: { readonly from: string; readonly to: string };
  /** Set when the working dir lies outside the scratch (no file transfer) and is bound as is. */
  readonly sharedCwd?: string;
}

function unexpressible(what: string, path: string): WrapperError {
  return new WrapperError('bind.unexpressible', `${what} ${path}`, 'contains "," or ":", which a -B bind cannot carry');
}

/**
 * HTCondor 24's line for a target dir (observed: htcondor/observed/container-apptainer-srv):
 * `RUNTIME -s exec -S /tmp -S /var/tmp [-B IWD] -W SCRATCH --pwd DIR -B SCRATCH:TARGET
 * --home SCRATCH:TARGET -C IMAGE EXE ARGS…`. `--home` gets the inside path too, because the
 * runtimes refuse a HOME variable (S5.4). The same line for every family: the compat rule repairs
 * what a family lacks (Singularity 2.6 aborts on `-S /tmp` with -C).
 */
export function buildLine(i: LineInput): BuiltLine {
  const scratch = normalize(i.scratch);
  const target = normalize(i.target);
  if (/[,:]/.test(scratch)) throw unexpressible('scratch dir', scratch);
  if (/[,:]/.test(target)) throw unexpressible('target dir CJW_TARGET_DIR', target);
  const binds: BindSpecParts[] = [];
  const cwd = normalize(i.cwd);
  const shared = !isWithin(cwd, scratch);
  if (shared) {
    if (/[,:]/.test(cwd)) throw unexpressible('working dir', cwd);
    binds.push({ src: cwd, dst: cwd, opts: '' });
  }
  const scratchBind: BindSpecParts = { src: scratch, dst: target, opts: '' };
  binds.push(scratchBind);
  const pwd = insidePath(cwd, binds) ?? cwd;
  const [exe = '', ...args] = i.command;
  const movedExe = exe.startsWith('/') && isWithin(exe, scratch) ? insidePath(exe, [scratchBind]) : undefined;
  const argv = [
    i.runtime, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp',
    ...(shared ? ['-B', cwd] : []),
    '-W', scratch, '--pwd', pwd, '-B', `${scratch}:${target}`, '--home', `${scratch}:${target}`, '-C',
    i.image, movedExe ?? exe, ...args,
  ];
  return {
    argv,
    binds,
    ...(movedExe === undefined ? {} : { retargeted: { from: exe, to: movedExe } }),
    ...(shared ? { sharedCwd: cwd } : {}),
  };
}

/** Parses the built line with the family table, and checks the image and payload came out whole. */
export function parseBuilt(line: BuiltLine, runtime: RuntimeFact, input: LineInput): Invocation {
  const inv = parseInvocation(line.argv, tableFor(runtime.family));
  const payload = input.command.length === 0 ? [] : line.argv.slice(-input.command.length);
  if (inv.image !== input.image || inv.payload.length !== payload.length || inv.payload.some((a, k) => a !== payload[k])) {
    throw new WrapperError('internal.bug', 'internal error', `the built line did not parse back (image ${inv.image}); please report it`);
  }
  return inv;
}

/** The prefix through which the runtime passes a variable inside under -C/--cleanenv. */
export function envCopyPrefix(family: FamilyId): string {
  return `${runtimeVarPrefix(family)}ENV_`;
}

/** The prefix of the runtime's own variables (APPTAINER_TMPDIR, SINGULARITY_TMPDIR). */
export function runtimeVarPrefix(family: FamilyId): 'APPTAINER' | 'SINGULARITY' {
  return family === 'apptainer' ? 'APPTAINER' : 'SINGULARITY';
}

/**
 * The environment HTCondor gives the runtime for a container job (observed
 * container-apptainer-srv.wrapper.env.txt): every variable X also as PREFIX_X, because -C cleans
 * the environment; a value that is a path in the scratch is the path inside (by whole
 * components, not HTCondor's substring replace); HOME is dropped (the runtimes refuse it, --home
 * carries it); _CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER and the runtime's TMPDIR (its own temporary
 * files, e.g. image conversion) point at the scratch. Not copied: HTCondor's cosmetic PS1. Without the copies the job would run
 * with an empty environment. The env rule refines the copies afterwards, as in starter-built mode.
 */
export function starterEnv(env: ReadonlyMap<string, string>, prefix: string, scratch: string, scratchBinds: readonly BindSpecParts[]): Map<string, string> {
  const out = new Map<string, string>();
  const isCopy = (k: string): boolean => k.startsWith('APPTAINERENV_') || k.startsWith('SINGULARITYENV_');
  for (const [k, v] of env) if (k !== 'HOME') out.set(k, v);
  for (const [k, v] of env) {
    if (k === 'HOME' || isCopy(k)) continue;
    const inside = v.startsWith('/') ? insidePath(v, scratchBinds) : undefined;
    out.set(`${prefix}${k}`, inside ?? v);
  }
  // Added after the copies were made, so their copies keep the host path (as observed).
  const tmpdir = `${prefix.slice(0, -'ENV_'.length)}_TMPDIR`; // APPTAINER_TMPDIR, SINGULARITY_TMPDIR
  for (const k of ['_CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER', tmpdir]) {
    if (env.has(k)) continue;
    out.set(k, scratch);
    out.set(`${prefix}${k}`, scratch);
  }
  return out;
}

function build(d: Draft, f: Facts, runtime: RuntimeFact, command: readonly string[]): Draft {
  let out = d;
  if (f.scratch?.assumed !== undefined) out = addWarning(out, f.scratch.assumed);
  const scratch = checkedScratch(f.scratch);
  const choice = chooseImage(f.jobAd, f.config, f.cwd);
  const input: LineInput = { runtime: runtime.path, scratch, target: f.config.targetDir, cwd: f.cwd, image: choice.image, command };
  const line = buildLine(input);
  const invocation = parseBuilt(line, runtime, input);
  const effective = d.negotiation?.effective ?? 'REQUIRED';
  const binds: BindEntry[] = line.binds.map((b) => ({ ...b, origin: 'wrapper' }));
  // The job's argv now lives inside the built line, after the image.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { uncontained, ...rest } = out;
  const prefix = envCopyPrefix(runtime.family);
  const env = starterEnv(out.env, prefix, scratch, line.binds.filter((b) => b.src === scratch));
  out = { ...rest, invocation, env, binds: [...out.binds, ...binds] };
  out = addChange(out, RULE, `built the container line ${render(invocation).join(' ')}`, `policy ${effective} asks for a container; the line is the one HTCondor 24 builds (scratch ${scratch} at ${normalize(f.config.targetDir)}, -C)`);
  out = addChange(out, RULE, `image ${choice.image}`, `from ${choice.source}`);
  out = addChange(out, RULE, `environment: every variable also as ${prefix}NAME, scratch paths as seen inside, HOME dropped, _CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER and ${runtimeVarPrefix(runtime.family)}_TMPDIR = ${scratch}`, `-C cleans the environment; the runtime passes ${prefix}NAME inside as NAME, which is how HTCondor's starter hands the job its environment`);
  if (line.retargeted !== undefined) {
    out = addChange(out, RULE, `payload ${line.retargeted.from} -> ${line.retargeted.to}`, `the executable lies in the scratch dir, which is ${normalize(f.config.targetDir)} inside`);
  }
  if (line.sharedCwd !== undefined) {
    out = addChange(out, RULE, `bind ${line.sharedCwd} (the job's working dir)`, 'it lies outside the scratch dir (no file transfer): HTCondor binds it at the same path and starts there');
  }
  return out;
}

export const wrapperBuiltRule: Rule = {
  name: RULE,
  appliesTo: 'always',
  apply(d, f) {
    if (d.dispatch !== 'wrapper-built' || d.invocation !== undefined || d.uncontained === undefined) return d;
    if (!wantsContainer(d.negotiation)) return d;
    // An unusable runtime was settled by negotiate: REQUIRED stopped, PREFERRED fell back.
    if (f.runtime === undefined || !f.runtime.usable) return d;
    return build(d, f, f.runtime, d.uncontained);
  },
};
