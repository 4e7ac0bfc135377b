// A model of what an HTCondor starter hands USER_JOB_WRAPPER: the argv for a vanilla job and the
// container line (`RUNTIME -s exec …`) with the starter's own self-test before it, and (23.9.6,
// 25.14.1) the environment. Every rule
// here was read off a recording of a real starter (test/fixtures/observed: 24.0.23 and 25.13.2
// unprefixed / `v25-`, 25.14.1 `v25.14-`, 23.9.6 `v23.9-`; docs/htcondor-versions.md), and
// test/unit/starterSim.test.ts checks the model against every one of them. Unit and e2e tests
// use it to make starter lines for any scratch dir, image or runtime.

import { posix } from 'node:path';
import { getBool, getString } from '../src/facts/classad';
import type { ClassAd } from '../src/facts/types';

export const STARTER_VERSIONS = ['23.9.6', '24.0.23', '25.13.2', '25.14.1'] as const;
export type StarterVersion = (typeof STARTER_VERSIONS)[number];

/** Where the launcher script is bound inside (SINGULARITY_USE_LAUNCHER, 24.3+). */
export const LAUNCHER_INSIDE = '/condor_container_launcher.sh';
/** Where 25.x binds the slot dir when the job's IWD takes the target dir (no file transfer). */
export const SHARED_SLOT_INSIDE = '/condor_scratch';

/** The site's knobs (condor_config), as far as they change the line. */
export interface StarterKnobs {
  /** SINGULARITY: the runtime, the line's first element. */
  readonly runtime: string;
  /** SINGULARITY_TARGET_DIR (unset: the scratch keeps its host path inside). */
  readonly targetDir?: string;
  /** MOUNT_UNDER_SCRATCH (default /tmp, /var/tmp): one `-S DIR` each. */
  readonly mountUnderScratch?: readonly string[];
  /** SINGULARITY_BIND_EXPR's entries whose sources exist (the starter drops the others). */
  readonly binds?: readonly string[];
  /** SINGULARITY_EXTRA_ARGUMENTS, split. */
  readonly extraArgs?: readonly string[];
  /** SINGULARITY_USE_PID_NAMESPACES (default true: `-C`; false: `--contain --ipc --cleanenv`). */
  readonly pidNamespaces?: boolean;
  /** SINGULARITY_USE_LAUNCHER = True: the host path of condor_container_launcher.sh (24.3+; 24.0 ignores it). */
  readonly launcher?: string;
  /** STARTER_NESTED_SCRATCH (default true from 25.4, absent before). */
  readonly nestedScratch?: boolean;
}

/** The job, as submitted. */
export interface StarterJob {
  /** Cmd: the executable as submitted. */
  readonly executable: string;
  readonly args: readonly string[];
  /** container_image / +SingularityImage as submitted; undefined for a job run without a container. */
  readonly image?: string;
  /** container universe (WantContainer): only its image is transferred. */
  readonly containerUniverse?: boolean;
  /** transfer_container (default true). */
  readonly transferContainer?: boolean;
  /** should_transfer_files = YES (false: NO, a shared filesystem). */
  readonly transferFiles: boolean;
  /** transfer_executable (default true). */
  readonly transferExecutable?: boolean;
  /** The submit dir (OrigIwd): the job's IWD when nothing is transferred. */
  readonly submitDir: string;
}

/** The execute node: EXECUTE and the starter's pid, which names the job's dir. */
export interface StarterSite {
  readonly executeDir: string;
  readonly starterPid: number;
  /** For the environment: the slot's name (_CONDOR_SLOT, default slot1_1), the host's short name (PS1), $(BIN). */
  readonly slot?: string;
  readonly host?: string;
  readonly bin?: string;
  /** The job owner's home (25.x hands vanilla jobs HOME). */
  readonly home?: string;
}

export interface StarterLine {
  /** What the wrapper gets as "$@". */
  readonly argv: readonly string[];
  /** EXECUTE/dir_PID: the slot dir (25.4+) or the scratch dir itself. */
  readonly slotDir: string;
  /** _CONDOR_SCRATCH_DIR: the wrapper's cwd when files are transferred. */
  readonly scratch: string;
  /** The wrapper's cwd: the scratch, or the submit dir without file transfer. */
  readonly cwd: string;
  /** The starter's own `RUNTIME -s -q test … IMAGE`, run before the wrapper (container jobs only). */
  readonly selfTest?: readonly string[];
}

/** major*10000 + minor*100 + patch, for comparisons. */
function versionNumber(v: StarterVersion): number {
  const [a = 0, b = 0, c = 0] = v.split('.').map(Number);
  return a * 10000 + b * 100 + c;
}

function atLeast(v: StarterVersion, want: string): boolean {
  return versionNumber(v) >= versionNumber(want as StarterVersion);
}

/** A local image path (not docker://, oras://, …): the only kind HTCondor transfers. */
function isLocalPath(image: string): boolean {
  return !image.includes('://');
}

/** The line a starter of `version` hands USER_JOB_WRAPPER for `job` on `site` with `knobs`. */
export function simulateStarter(version: StarterVersion, knobs: StarterKnobs, job: StarterJob, site: StarterSite): StarterLine {
  const nested = knobs.nestedScratch ?? atLeast(version, '25.4.0');
  const slotDir = posix.join(site.executeDir, `dir_${site.starterPid}`);
  const scratch = nested ? `${slotDir}/scratch` : slotDir;
  const shared = !job.transferFiles;
  const cwd = shared ? job.submitDir : scratch;
  const exeTransferred = job.transferFiles && (job.transferExecutable ?? true);
  const exeName = posix.basename(job.executable);

  if (job.image === undefined) {
    // Vanilla: the transferred executable by its absolute path in the scratch, else as submitted.
    const exe = exeTransferred ? `${scratch}/${exeName}` : posix.resolve(job.submitDir, job.executable);
    return { argv: [exe, ...job.args], slotDir, scratch, cwd };
  }

  // The image: a transferred one lands in the scratch and is named relatively (the runtime runs
  // in the scratch); an untransferred relative one gets the IWD prefixed on a shared filesystem.
  const imageTransferred = job.containerUniverse === true && job.transferFiles && (job.transferContainer ?? true) && isLocalPath(job.image);
  let image = job.image;
  if (imageTransferred) image = posix.basename(job.image);
  else if (shared && isLocalPath(image) && !image.startsWith('/')) image = posix.join(job.submitDir, image);

  const target = knobs.targetDir;
  const opts: string[] = [];
  for (const d of knobs.mountUnderScratch ?? ['/tmp', '/var/tmp']) opts.push('-S', d);
  const launcher = knobs.launcher !== undefined && atLeast(version, '24.3.0') ? knobs.launcher : undefined;
  if (launcher !== undefined) opts.push('-B', `${launcher}:${LAUNCHER_INSIDE}`);
  if (!shared) {
    // The slot dir is bound (at the target dir, if any) and the job starts in its scratch.
    const pwd = target === undefined ? scratch : nested ? `${target}/scratch` : target;
    opts.push('-W', scratch, '--pwd', pwd, '-B', target === undefined ? slotDir : `${slotDir}:${target}`);
  } else if (!nested) {
    // 23.9 / 24.0: IWD at its own path; the scratch at the target dir (then no --pwd at all, 23.9).
    opts.push('-B', job.submitDir, '-W', scratch);
    if (target === undefined) opts.push('--pwd', job.submitDir, '-B', scratch);
    else opts.push('-B', `${scratch}:${target}`);
  } else if (target === undefined) {
    // 25.x: the IWD twice, the scratch (ads, error file) not bound at all.
    opts.push('-B', job.submitDir, '-W', scratch, '--pwd', job.submitDir, '-B', job.submitDir);
  } else {
    // 25.14: the IWD at the target dir, the slot dir at /condor_scratch.
    opts.push('-B', job.submitDir, '-W', scratch, '--pwd', target, '-B', `${slotDir}:${SHARED_SLOT_INSIDE}`, '-B', `${job.submitDir}:${target}`);
  }
  for (const b of knobs.binds ?? []) opts.push('-B', b);
  if (!shared) opts.push('--home', scratch); // the host path, even with a target dir
  opts.push(...((knobs.pidNamespaces ?? true) ? ['-C'] : ['--contain', '--ipc', '--cleanenv']));
  opts.push(...(knobs.extraArgs ?? []));

  let exe = job.executable;
  if (exeTransferred) {
    // The transferred executable, as the job sees it inside: with a target dir the slot-dir prefix
    // becomes "TARGET/", so the path keeps a double slash (/srv//scratch/job.sh, /srv//job.sh).
    const inScratch = `${scratch}/${exeName}`;
    exe = target === undefined ? inScratch : `${target}/${inScratch.slice(slotDir.length)}`;
  }
  const payload = [...(launcher === undefined ? [] : [LAUNCHER_INSIDE]), exe, ...job.args];
  return {
    argv: [knobs.runtime, '-s', 'exec', ...opts, image, ...payload],
    slotDir,
    scratch,
    cwd,
    selfTest: [knobs.runtime, '-s', '-q', 'test', ...opts, image, ...(launcher === undefined ? [] : [LAUNCHER_INSIDE])],
  };
}

/**
 * HTCondor's "new" argument syntax (`arguments = "…"`, the Arguments attribute): blanks separate,
 * single quotes group, '' inside quotes is one quote.
 */
export function splitArgumentsV2(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (quoted) {
      if (c === "'" && s.charAt(i + 1) === "'") { cur += "'"; i++; }
      else if (c === "'") quoted = false;
      else cur += c;
    } else if (c === "'") { quoted = true; have = true; }
    else if (/\s/.test(c)) { if (have) out.push(cur); cur = ''; have = false; }
    else { cur += c; have = true; }
  }
  if (quoted) throw new Error(`unterminated quote in arguments ${JSON.stringify(s)}`);
  if (have) out.push(cur);
  return out;
}

/**
 * The job as submitted, read back from the ad the starter gave the wrapper. That ad already names a
 * transferred image by its basename (ContainerImage = "busybox-sandbox") and lists the submitted
 * path in TransferInput.
 */
export function jobFromAd(ad: ClassAd): StarterJob {
  const cmd = getString(ad, 'Cmd');
  if (cmd === undefined) throw new Error('job ad has no Cmd');
  const v2 = getString(ad, 'Arguments');
  const args = v2 !== undefined ? splitArgumentsV2(v2) : (getString(ad, 'Args') ?? '').split(/\s+/).filter((a) => a !== '');
  const transferFiles = (getString(ad, 'ShouldTransferFiles') ?? 'YES').toUpperCase() !== 'NO';
  const submitDir = getString(ad, 'OrigIwd') ?? getString(ad, 'Iwd') ?? '';
  const containerUniverse = getBool(ad, 'WantContainer') === true;
  const seen = getString(ad, 'ContainerImage') ?? getString(ad, 'SingularityImage');
  let image = seen;
  let transferContainer = getBool(ad, 'TransferContainer');
  if (seen !== undefined && containerUniverse) {
    const inputs = (getString(ad, 'TransferInput') ?? '').split(',').map((x) => x.trim());
    const submitted = inputs.find((p) => p !== seen && posix.basename(p) === seen);
    if (submitted !== undefined) { image = submitted; transferContainer = true; }
  }
  const transferExecutable = getBool(ad, 'TransferExecutable');
  return {
    executable: cmd,
    args,
    ...(image === undefined ? {} : { image }),
    ...(containerUniverse ? { containerUniverse } : {}),
    ...(transferContainer === undefined ? {} : { transferContainer }),
    transferFiles,
    ...(transferExecutable === undefined ? {} : { transferExecutable }),
    submitDir,
  };
}

/** The site from the scratch dir the starter reported (_CONDOR_SCRATCH_DIR). */
export function siteFromScratch(scratch: string, nested: boolean): StarterSite {
  const slot = nested ? posix.dirname(scratch) : scratch;
  const m = /^(.*)\/dir_(\d+)$/.exec(slot);
  if (m === null || (nested && posix.basename(scratch) !== 'scratch')) throw new Error(`not a starter's scratch dir: ${scratch}`);
  return { executeDir: m[1] ?? '', starterPid: Number(m[2]) };
}

/** What the starter sets for every job on a slot without GPUs (the recorded Debian pools). */
const FIXED_ENV: readonly (readonly [string, string])[] = [
  ['BATCH_SYSTEM', 'HTCondor'], ['CUBACORES', '1'], ['CUDA_VISIBLE_DEVICES', '10000'], ['GOMAXPROCS', '1'],
  ['GPU_DEVICE_ORDINAL', '10000'], ['JULIA_NUM_THREADS', '1'], ['MKL_NUM_THREADS', '1'], ['NUMEXPR_NUM_THREADS', '1'],
  ['NVIDIA_VISIBLE_DEVICES', 'none'], ['OMP_NUM_THREADS', '1'], ['OMP_THREAD_LIMIT', '1'], ['OPENBLAS_NUM_THREADS', '1'],
  ['PYTHON_CPU_COUNT', '1'], ['ROOT_MAX_THREADS', '1'], ['TEMP', '/tmp'], ['TF_LOOP_PARALLEL_ITERATIONS', '1'],
  ['TF_NUM_THREADS', '1'], ['TMP', '/tmp'], ['TMPDIR', '/tmp'], ['_CHIRP_DELAYED_UPDATE_PREFIX', 'Chirp*'],
  ['_CONDOR_AssignedGPUs', '10000'], ['_CONDOR_JOB_PIDS', ''],
];

/**
 * The environment the wrapper gets (HTCondor 23.9.6 and 25.14.1 with Apptainer; job `environment`
 * empty), without the _CONDOR_ANCESTOR_<pid> process-tracking variables (their values are pids
 * and times). For a container job: every variable also as APPTAINERENV_NAME, where the bound dir's
 * host prefix becomes its inside path; HOME removed; the runtime's own temp and cache variables
 * added afterwards (their copies keep the host path).
 */
export function simulateStarterEnv(version: StarterVersion, knobs: StarterKnobs, job: StarterJob, site: StarterSite, line: StarterLine): Map<string, string> {
  const v25 = atLeast(version, '25.0.0');
  const ownDir = line.slotDir; // .chirp.config: user/ in the slot dir (25.x), else the scratch
  const env = new Map<string, string>(FIXED_ENV);
  env.set('APPTAINER_CACHEDIR', line.scratch);
  env.set('SINGULARITY_CACHEDIR', line.scratch);
  env.set('_CONDOR_BIN', site.bin ?? '/usr/bin');
  env.set('_CONDOR_CHIRP_CONFIG', v25 ? `${ownDir}/user/.chirp.config` : `${line.scratch}/.chirp.config`);
  env.set('_CONDOR_JOB_AD', `${line.scratch}/.job.ad`);
  env.set('_CONDOR_JOB_IWD', line.cwd);
  env.set('_CONDOR_MACHINE_AD', `${line.scratch}/.machine.ad`);
  env.set('_CONDOR_SCRATCH_DIR', line.scratch);
  env.set('_CONDOR_SLOT', site.slot ?? 'slot1_1');
  env.set('_CONDOR_WRAPPER_ERROR_FILE', `${line.scratch}/.job_wrapper_failure`);
  if (v25) {
    env.set('CONDOR_STARTER_PID', String(site.starterPid));
    env.set('HOME', site.home ?? '/home/condoruser');
  }
  if (job.image === undefined) return env;

  env.delete('HOME');
  if (v25) {
    // "Removing APPTAINER_CACHEDIR / SINGULARITY_CACHEDIR from job environment before launching container"
    env.delete('APPTAINER_CACHEDIR');
    env.delete('SINGULARITY_CACHEDIR');
  }
  // The host dir the line binds at an inside path, and that path (none: same path inside).
  const target = knobs.targetDir;
  let bound: readonly [string, string] | undefined;
  if (target !== undefined) {
    if (job.transferFiles) bound = [line.slotDir, target];
    else bound = v25 ? [line.slotDir, SHARED_SLOT_INSIDE] : [line.scratch, target];
  }
  const inside = (val: string): string => (bound !== undefined && (val === bound[0] || val.startsWith(`${bound[0]}/`)) ? bound[1] + val.slice(bound[0].length) : val);
  const prefix = 'APPTAINERENV_';
  const out = new Map(env);
  for (const [k, val] of env) out.set(`${prefix}${k}`, inside(val));
  const late: [string, string][] = [[v25 ? 'APPTAINER_TMPDIR' : 'APPTAINER_TEMPDIR', line.scratch]];
  if (v25) late.push(['APPTAINER_CACHEDIR', line.scratch]);
  if (target !== undefined) late.push(['_CONDOR_SCRATCH_DIR_OUTSIDE_CONTAINER', line.scratch]);
  for (const [k, val] of late) { out.set(k, val); out.set(`${prefix}${k}`, val); }
  if (v25) out.set(`${prefix}PS1`, `${site.slot ?? 'slot1_1'}@${site.host ?? 'localhost'}$ `);
  return out;
}
