// The inside launcher (SPEC S6): when there is inside work (inside hooks, or environment the
// runtime cannot pass), put a generated sh script between the image and the payload, after
// HTCondor's own /condor_container_launcher.sh, which must run first. Without inside work the
// payload reaches the runtime untouched. Registered last: it wraps the final payload.

import { WrapperError } from '../../errors';
import type { Facts } from '../../facts/types';
import { tableFor } from '../../invocation/families/index';
import { CONDOR_LAUNCHER, groupFor, type Invocation } from '../../invocation/model';
import { bindsOf, insidePath, normalize } from '../paths';
import { addChange, addWarning, type Draft, type LauncherPlan } from '../plan';
import { scratchDirOf } from './binds';
import type { Rule } from './index';

export const RULE = 'launcher';
/** The wrapper's own subdirectory of the scratch dir: HTCondor does not transfer directories back. */
export const LAUNCHER_DIR = '.condor-job-wrapper';
export const LAUNCHER_FILE = 'launcher.sh';
/** Mount point of CJW_INSIDE_DIR below LAUNCHER_DIR (a new top-level dir would be skipped by Singularity 2.6 in user-namespace mode). */
export const HOOK_MOUNT = 'inside.d';
/** The PATH inside hooks get: the system PATH the runtimes set inside. */
export const INSIDE_HOOK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The scratch dir on the host: the starter's variable (the fact wrapper-built mode checked), else the cwd the starter gave. */
export function scratchOnHost(f: Facts): string {
  return normalize(f.scratch?.path ?? f.env.get('_CONDOR_SCRATCH_DIR') ?? f.cwd);
}

function withPayload(inv: Invocation, launcher: string): Invocation {
  const p = inv.payload;
  const payload = p[0] === CONDOR_LAUNCHER ? [CONDOR_LAUNCHER, launcher, ...p.slice(1)] : [launcher, ...p];
  return { ...inv, payload };
}

export function insertLauncher(d: Draft, f: Facts): Draft {
  const inv = d.invocation;
  const insideHooks = d.hooks.filter((h) => h.stage === 'inside');
  const env = d.insideEnv ?? new Map<string, string>();
  if (inv === undefined || (insideHooks.length === 0 && env.size === 0)) return d;
  const action = inv.action[0] ?? '';
  if (action !== 'exec') {
    // `run` hands its arguments to the image's runscript, which need not exec them.
    const skipped = addChange({ ...d, hooks: d.hooks.filter((h) => h.stage !== 'inside') }, RULE, 'no inside launcher', `the runtime action is "${inv.action.join(' ')}", not exec: the payload is not a command the launcher could run`);
    return addWarning(skipped, `inside hooks and inside environment fix-ups not applied: the runtime action is "${inv.action.join(' ')}", not exec`);
  }
  // The starter's scratch dir: its variable, else the line's -W (a StarterLog line in --explain).
  const scratch = scratchDirOf(inv, f);
  const scratchInside = insidePath(scratch, bindsOf(inv));
  if (scratchInside === undefined && f.scratch?.assumed !== undefined) {
    // --explain without a starter: the scratch dir is a guess, so its absence from the binds says
    // nothing about the node (SPEC S9: say what could not be known, do not invent an error).
    const unplaced = addChange(d, RULE, 'inside launcher not placed', `${f.scratch.assumed}, and no bind on the line carries ${scratch}: where the launcher would run inside is not known; with the starter's real line and _CONDOR_SCRATCH_DIR it goes into SCRATCH/${LAUNCHER_DIR}/`);
    return addWarning(unplaced, `--explain could not place the inside launcher: no bind on the line carries the assumed scratch dir ${scratch}`);
  }
  if (scratchInside === undefined) {
    throw new WrapperError('inside.unreachable', 'inside hooks (CJW_INSIDE_DIR) or inside environment', `the scratch dir ${scratch} is not bound into the container, so the launcher in it cannot be reached`);
  }
  const hostDir = `${scratch}/${LAUNCHER_DIR}`;
  const insideDir = normalize(`${scratchInside}/${LAUNCHER_DIR}`);
  const launcherInside = `${insideDir}/${LAUNCHER_FILE}`;
  let next: Draft = d;
  let flags = inv.flags;
  let hookDirInside: string | undefined;
  if (insideHooks.length > 0) {
    hookDirInside = `${insideDir}/${HOOK_MOUNT}`;
    const src = f.config.insideDir;
    if (/[,:]/.test(src) || /[,:]/.test(hookDirInside)) {
      throw new WrapperError('inside.bad-path', `inside hook directory ${src} (CJW_INSIDE_DIR) bound at ${hookDirInside}`, 'a path with "," or ":" cannot be bound with -B');
    }
    const def = tableFor(inv.family).actions[action]?.find((x) => x.meaning === 'bind');
    if (def === undefined) throw new WrapperError('internal.bug', 'launcher', `no bind flag for ${inv.family} ${action}; please report it`);
    // After every other bind: it is mounted on a directory inside the scratch bind.
    flags = [...flags, groupFor(def, `${src}:${hookDirInside}:ro`)];
    next = { ...next, binds: [...next.binds, { src, dst: hookDirInside, opts: 'ro', origin: 'wrapper' }] };
    next = addChange(next, RULE, `bind ${src} read-only at ${hookDirInside}`, 'the inside hooks must be visible in the container; below the scratch bind because a new top-level mount point is skipped by Singularity 2.6 in user-namespace mode');
  }
  const withLauncher = withPayload({ ...inv, flags }, launcherInside);
  const errorFileHost = f.env.get('_CONDOR_WRAPPER_ERROR_FILE');
  const errorFile = errorFileHost === undefined || errorFileHost === '' ? undefined : insidePath(errorFileHost, bindsOf(withLauncher));
  // What outside hooks get (act/hooks.ts hookEnvironment), with paths as the container sees them.
  const inside = (p: string | undefined): string => (p === undefined || p === '' ? '' : insidePath(p, bindsOf(withLauncher)) ?? '');
  const hookEnv = new Map<string, string>([
    ['PATH', INSIDE_HOOK_PATH],
    ['LANG', 'C'],
    ['CJW_STAGE', 'inside'],
    ['CJW_IMAGE', inv.image],
    ['CJW_SCRATCH', scratchInside],
    ['CJW_TARGET_DIR', f.config.targetDir],
    ['CJW_SLOT', f.env.get('_CONDOR_SLOT') ?? ''],
    ['CJW_JOB_AD', inside(f.env.get('_CONDOR_JOB_AD'))],
    ['CJW_MACHINE_AD', inside(f.env.get('_CONDOR_MACHINE_AD'))],
    ['CJW_MODE', d.negotiation?.effective ?? f.config.mode],
  ]);
  const launcher: LauncherPlan = {
    hostDir,
    insidePath: launcherInside,
    hooks: insideHooks.map((h) => ({ name: h.name, insidePath: `${hookDirInside ?? ''}/${h.name}` })),
    ...(hookDirInside === undefined ? {} : { hookDirInside }),
    ...(errorFile === undefined ? {} : { errorFile }),
    env,
    ...(insideHooks.length > 0 ? { hookEnv } : {}),
    timeoutSeconds: f.config.hookTimeoutSeconds,
  };
  const work = [
    ...(insideHooks.length > 0 ? [`inside hooks ${insideHooks.map((h) => h.name).join(', ')} (CJW_INSIDE_DIR)`] : []),
    ...(env.size > 0 ? [`inside environment ${[...env.keys()].join(', ')} that the runtime would not pass`] : []),
  ].join(' and ');
  const where = inv.payload[0] === CONDOR_LAUNCHER ? `after ${CONDOR_LAUNCHER}, ` : '';
  next = addChange({ ...next, invocation: withLauncher, launcher }, RULE, `run ${launcherInside} ${where}before the payload`, `the container must run ${work} first; the payload follows as "$@", untouched`);
  return next;
}

export const launcherRule: Rule = { name: RULE, appliesTo: 'contained', apply: insertLauncher };
