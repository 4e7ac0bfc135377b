// Reporting a failure (SPEC S7): the one line on stderr and in the starter's error file.

import { chmodSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WrapperError } from '../errors';

/**
 * Writes the error line to stderr and to `_CONDOR_WRAPPER_ERROR_FILE`. The starter checks that
 * file as user condor carrying the job owner's group, so the scratch dir needs g+x for the file
 * to be seen (observed on HTCondor 24.0.23 and 25.13.2; docs/troubleshooting.md).
 */
export function reportFailure(err: WrapperError, errorFile: string | undefined): void {
  process.stderr.write(`${err.line}\n`);
  if (errorFile === undefined || errorFile === '') return;
  try {
    writeFileSync(errorFile, `${err.line}\n`, { mode: 0o644 });
    chmodSync(errorFile, 0o644);
  } catch (e) {
    process.stderr.write(`condor-job-wrapper: warning: could not write the error file ${errorFile}: ${(e as Error).message}\n`);
    return;
  }
  try {
    chmodSync(dirname(errorFile), 0o710);
  } catch {
    // Not our directory (e.g. shared-filesystem IWD); the exit code still tells the starter.
  }
}
