// Whose command line this is (SPEC S2): the starter's container line, the sshd of
// condor_ssh_to_job, or the job's own executable. A name proves nothing (HTCondor keeps a
// transferred executable's name), so the name only proposes; the program's trust (facts/program.ts)
// and the job ad decide. Pure: the facts come in, a mode and its reason go out.

import { basename, posix } from 'node:path';
import type { AdValue, ClassAd } from '../facts/types';
import type { Invocation } from '../invocation/model';
import type { ProgramTrust } from '../facts/program';
import { normalize } from './paths';
import type { DispatchMode } from './plan';

const BUILTIN_RUNTIMES = new Set(['apptainer', 'singularity', 'run-singularity']);
const BUILTIN_PASSTHROUGH = new Set(['sshd']);

export type NameClass = 'sshd' | 'runtime' | 'other';

/** An entry with "/" matches the program exactly; one without matches its basename. */
export function matchesEntry(program: string, entries: readonly string[]): boolean {
  const base = basename(program);
  return entries.some((e) => (e.includes('/') ? e === program : e === base));
}

/** What argv[1]'s name proposes: built-in names from argv alone; config entries when given. */
export function nameClass(program: string, runtimeNames: readonly string[] = [], passthrough: readonly string[] = []): NameClass {
  const base = basename(program);
  if (BUILTIN_PASSTHROUGH.has(base) || matchesEntry(program, passthrough)) return 'sshd';
  if (BUILTIN_RUNTIMES.has(base) || matchesEntry(program, runtimeNames)) return 'runtime';
  return 'other';
}

export interface DispatchDecision {
  readonly mode: DispatchMode;
  /** One sentence for --explain and the log. */
  readonly reason: string;
}

/** The sshd of condor_ssh_to_job passes through only when the job cannot have written it. */
export function passthroughDecision(trust: ProgramTrust): DispatchDecision {
  if (trust.trusted) return { mode: 'passthrough', reason: `${trust.path} is the sshd of condor_ssh_to_job (${trust.why})` };
  return { mode: 'wrapper-built', reason: `${trust.path} is named like sshd but is the job's own program: ${trust.why}` };
}

/** What the job ad says about containerization: whether HTCondor containerized it, and with which image. */
export interface ContainerRequest {
  /** The image HTCondor's SINGULARITY_IMAGE_EXPR default picks: SingularityImage, else ContainerImage. */
  readonly image?: string;
  /** The job's Iwd: HTCondor prefixes a relative image with it when files are not transferred. */
  readonly iwd?: string;
  readonly evidence: string;
}

function str(v: AdValue | undefined): string | undefined {
  return v?.type === 'string' && v.value !== '' ? v.value : undefined;
}

function attr(ad: ClassAd, name: string): AdValue | undefined {
  return ad.attrs.get(name.toLowerCase());
}

export function containerRequestOf(ad: ClassAd): ContainerRequest {
  const sing = str(attr(ad, 'SingularityImage'));
  const cont = str(attr(ad, 'ContainerImage'));
  const image = sing ?? cont;
  const iwd = str(attr(ad, 'Iwd'));
  const evidence = sing !== undefined ? `SingularityImage = "${sing}"` : cont !== undefined ? `ContainerImage = "${cont}"` : 'neither SingularityImage nor ContainerImage';
  return { ...(image === undefined ? {} : { image }), ...(iwd === undefined ? {} : { iwd }), evidence };
}

/**
 * Whether the line's image is the job ad's image: the same path, the path under the Iwd (a
 * relative image without file transfer), or the copy HTCondor transferred into the scratch dir
 * (same file name, relative or directly under the scratch dir).
 */
export function imageAgrees(lineImage: string, req: ContainerRequest, scratch: string | undefined): boolean {
  const ad = req.image;
  if (ad === undefined || lineImage === '') return false;
  if (lineImage === ad || normalize(lineImage) === normalize(ad)) return true;
  if (!ad.startsWith('/') && !ad.includes('://') && req.iwd !== undefined && normalize(lineImage) === normalize(posix.join(req.iwd, ad))) return true;
  const name = posix.basename(normalize(ad));
  if (name === '' || ad.includes('://')) return false;
  if (lineImage === name) return true;
  return scratch !== undefined && normalize(lineImage) === normalize(posix.join(scratch, name));
}

export interface LineFacts {
  readonly trust: ProgramTrust;
  /** The job ad, when the starter gave one (it always does; absent only outside a starter). */
  readonly jobAd?: ClassAd;
  /** `_CONDOR_SCRATCH_DIR`, which the starter sets over any value the job asks for. */
  readonly scratch?: string;
  /** The line parsed as a runtime line (undefined when it does not parse as one). */
  readonly invocation?: Invocation;
  /** The line's -W value: every starter line carries the job's scratch dir there. */
  readonly workdir?: string;
  /** --explain: nothing to check against is an assumption to state, not a refusal. */
  readonly explain: boolean;
}

/**
 * A runtime line is the starter's when the job cannot have written the program, and the line
 * agrees with the job ad: HTCondor containerized the job with that image, and `-W` names the
 * job's scratch dir (unknown to the job when it was submitted). Otherwise the whole line is the
 * job's own command: wrapper-built, where site policy applies to it as to any payload.
 */
export function runtimeLineDecision(name: NameClass, f: LineFacts): DispatchDecision {
  const program = f.trust.path;
  const own = (why: string): DispatchDecision => ({ mode: 'wrapper-built', reason: `${program} is the job's own command, not the starter's container line: ${why}` });
  // A runtime that is not there runs nothing of the job's: the starter's line with a broken
  // runtime, which the fallback policy (S4) handles.
  if (!f.trust.trusted && !(name === 'runtime' && !f.trust.exists)) return own(f.trust.why);
  const req = f.jobAd === undefined ? undefined : containerRequestOf(f.jobAd);
  if (req !== undefined && req.image === undefined) return own(`the job ad names no image (${req.evidence}), so HTCondor did not containerize this job`);
  const inv = f.invocation;
  if (inv === undefined) return own('it does not parse as a container runtime line');
  if (req === undefined) {
    // Every starter passes _CONDOR_JOB_AD; without one this is an admin's or a test's run.
    return { mode: 'starter-built', reason: `${program} is a runtime (${f.trust.why}); no job ad to check the line against (not started by a starter)${f.explain ? ': assumed to be the starter\'s line' : ''}` };
  }
  if (!imageAgrees(inv.image, req, f.scratch)) return own(`its image ${inv.image === '' ? '(empty)' : inv.image} is not the job ad's (${req.evidence})`);
  if (f.scratch !== undefined && (f.workdir === undefined || normalize(f.workdir) !== normalize(f.scratch))) {
    return own(`its -W (${f.workdir ?? 'absent'}) is not the job's scratch dir ${f.scratch}`);
  }
  const named = name === 'runtime' ? '' : ' (whatever the runtime is called)';
  return { mode: 'starter-built', reason: `the starter's container line${named}: ${f.trust.why}, and its image agrees with the job ad (${req.evidence})` };
}
