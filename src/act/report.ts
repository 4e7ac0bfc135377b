// Reporting a failure (SPEC S7): the one line on stderr and in the starter's error file, and the
// choice of what HTCondor does with it (docs/troubleshooting-htcondor.md has the whole table).

import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WrapperError } from '../errors';
import { getAttr, readClassAdFile } from '../facts/classad';

/**
 * Job attribute an access point sets (condor-config/access-point.conf, a job transform) to say
 * "my SYSTEM_PERIODIC_HOLD turns a wrapper job error into a hold". Only then is a job error shown
 * to the starter; otherwise it would be requeued forever.
 */
export const HOLD_JOB_ERRORS_ATTR = 'CJW_HoldJobErrors';

/** The group-search bit: the starter looks for the file as condor with the owner's group. */
const GROUP_SEARCH = 0o010;

/**
 * Writes the error line to stderr and to `_CONDOR_WRAPPER_ERROR_FILE`, then decides whether the
 * starter may see that file (observed on HTCondor 24.0.23 and 25.13.2):
 * - seen: the starter fails the attempt and requeues the job (VacateReasonCode 1007, our line in
 *   VacateReason); the access point's policy then holds it. Node errors are always shown: the job
 *   belongs on another node, and a broken node must not "complete" every job it gets.
 * - not seen: the job completes with our exit code and the file comes back as an output file.
 *   Job errors are hidden unless the job ad says the access point holds them, because without that
 *   policy a shown job error would requeue the job forever.
 */
export function reportFailure(err: WrapperError, errorFile: string | undefined, jobAdFile?: string): void {
  process.stderr.write(`${err.line}\n`);
  if (errorFile === undefined || errorFile === '') return;
  try {
    writeFileSync(errorFile, `${err.line}\n`, { mode: 0o644 });
    chmodSync(errorFile, 0o644);
  } catch (e) {
    process.stderr.write(`condor-job-wrapper: warning: could not write the error file ${errorFile}: ${(e as Error).message}\n`);
    return;
  }
  setStarterVisibility(dirname(errorFile), err.errorClass === 'node' || accessPointHoldsJobErrors(jobAdFile));
}

/** True only when the job ad carries `CJW_HoldJobErrors = true`; any doubt means false. */
export function accessPointHoldsJobErrors(jobAdFile: string | undefined): boolean {
  if (jobAdFile === undefined || jobAdFile === '') return false;
  try {
    const v = getAttr(readClassAdFile(jobAdFile, 'job'), HOLD_JOB_ERRORS_ATTR);
    return v?.type === 'boolean' && v.value;
  } catch {
    // An unreadable or malformed ad is itself the job's error: it completes with our exit code.
    return false;
  }
}

/** Adds or removes only the group-search bit, keeping whatever JOB_EXECDIR_PERMISSIONS chose. */
function setStarterVisibility(dir: string, visible: boolean): void {
  try {
    const mode = statSync(dir).mode & 0o7777;
    const want = visible ? mode | GROUP_SEARCH : mode & ~GROUP_SEARCH;
    if (want !== mode) chmodSync(dir, want);
  } catch {
    // Not our directory (e.g. a shared-filesystem IWD): the exit code still tells the starter.
  }
}
