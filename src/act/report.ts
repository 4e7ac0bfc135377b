// Reporting a failure (SPEC S7): the one line on stderr and in the starter's error file, and the
// choice of what HTCondor does with it (docs/troubleshooting-htcondor.md has the whole table).

import { chmodSync, closeSync, constants, fchmodSync, lstatSync, openSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { WrapperError } from '../errors';
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
  const written = writeErrorFile(errorFile, `${err.line}\n`);
  if (written === 'blocked') return;
  if (written !== 'ok') {
    process.stderr.write(`condor-job-wrapper: warning: could not write the error file ${errorFile}: ${written.failed}\n`);
    return;
  }
  setStarterVisibility(dirname(errorFile), err.errorClass === 'node' || accessPointHoldsJobErrors(jobAdFile));
}

/**
 * What is at the error-file path, without following a symlink: the job owns its sandbox and can
 * put anything there (a FIFO, a socket, a symlink, a directory it transferred).
 */
function lstatKind(path: string): 'none' | 'file' | 'dir' | 'other' {
  try {
    const st = lstatSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}

/**
 * Removes a stale error file before the job starts (S7: the starter treats an existing one as a
 * wrapper failure). A FIFO, socket or symlink is removed like a file; an empty directory too.
 * A directory with content is the job's own data (it transferred it): it stays, and that is not
 * a wrapper error; the starter's reading of it is the job's doing. Never blocks, never follows.
 */
export function removeStaleErrorFile(path: string | undefined): void {
  if (path === undefined || path === '') return;
  const failed = removeAtPath(path);
  // Something other than the job's directory that cannot be removed would make the starter see
  // a failure after a good run: the node's problem (e.g. a sandbox the job user cannot write).
  if (failed !== undefined) throw new WrapperError('scratch.invalid', `error file ${path} (_CONDOR_WRAPPER_ERROR_FILE)`, `a stale one cannot be removed: ${failed}`);
}

/** Removes what is at the path (see removeStaleErrorFile); returns why, when a non-directory stays. */
function removeAtPath(path: string): string | undefined {
  // unlinkSync, not rmSync: rmSync loads Node's rimraf module on first use (start-up time).
  try {
    unlinkSync(path);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (lstatKind(path) !== 'dir') return code ?? (e as Error).message;
  }
  try {
    rmdirSync(path);
  } catch {
    // Not empty: the job's data, left as it is.
  }
  return undefined;
}

/** 'ok', 'blocked', or why the file could not be written. */
export type WriteOutcome = 'ok' | 'blocked' | { readonly failed: string };

/**
 * Writes the error file without ever blocking or writing through something that is not a
 * regular file: whatever is at the path is removed first (an open(2) of a FIFO for writing
 * waits for a reader forever), then the file is created with O_EXCL | O_NOFOLLOW | O_NONBLOCK.
 * Returns 'ok', 'blocked' when the job's own directory sits at the path (then the stderr line is
 * the whole report: a second line would only repeat the job's doing), or the reason it failed.
 */
export function writeErrorFile(path: string, text: string): WriteOutcome {
  const failed = removeAtPath(path);
  if (failed !== undefined) return { failed: `cannot remove what is there: ${failed}` };
  if (lstatKind(path) === 'dir') return 'blocked';
  let fd: number;
  try {
    // O_EXCL: if something appeared at the path since the removal, do not write through it.
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  } catch (e) {
    return { failed: (e as Error).message };
  }
  try {
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    // The starter reads it as condor: 0644 whatever the job's umask.
    fchmodSync(fd, 0o644);
    return 'ok';
  } catch (e) {
    return { failed: (e as Error).message };
  } finally {
    closeSync(fd);
  }
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
