// `--check` and `--check --classad` (SPEC S9): the node's readiness report for admins and for a
// STARTD_CRON health check. Loaded only when asked (dynamic import in run.ts).

import type { Handover } from '../act/front';
import type { OwnOptions } from './options';
import type { RunContext } from './run';

export function runCheck(opts: OwnOptions, ctx: RunContext): Promise<Handover> {
  // Placeholder until the checks land: report "not checked" rather than a false "healthy".
  if (opts.classad) ctx.stdout('CJW_Healthy = false\nCJW_Reason = "check not implemented"\n');
  else ctx.stderr('condor-job-wrapper: --check is not implemented yet\n');
  return Promise.resolve({ kind: 'exit', code: 69 });
}
