// Entry point of the bundle. Under the bash front (the normal case) the job's argv and
// environment are read byte-exact from /proc and the decision goes back over fd 3; run directly
// with node, process.argv/env are used and act/exec.ts performs the handover.

import { asWrapperError } from './errors';
import { reportFailure } from './act/report';
import { execDirect } from './act/exec';
import { FRONT_MARKER, readFrontArgv, readFrontEnvironment, writeHandover, type Handover } from './act/front';
import { run } from './cli/run';

async function main(): Promise<void> {
  const front = process.argv[2] === FRONT_MARKER;
  // Until the whole environment decodes, the failure path uses the entries it needs (S7).
  const reporting = new Map<string, string>();
  let env: ReadonlyMap<string, string> = reporting;
  let handover: Handover;
  try {
    env = front ? readFrontEnvironment(process.ppid, reporting) : new Map(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
    const argv = front ? readFrontArgv() : process.argv.slice(2);
    handover = await run({
      argv,
      env,
      cwd: process.cwd(),
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
    });
  } catch (e) {
    const err = asWrapperError(e);
    reportFailure(err, env.get('_CONDOR_WRAPPER_ERROR_FILE'), env.get('_CONDOR_JOB_AD'));
    handover = { kind: 'exit', code: err.code };
  }
  if (front) {
    try {
      writeHandover(handover);
    } catch (e) {
      // EPIPE: the front is gone (the starter killed it); nobody is left to run or report anything.
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(handover.kind === 'exit' ? handover.code : 70);
      // A plan the front cannot carry (encodeHandover refuses it before writing a byte): reported
      // like every other failure, with the error file, and the front exits with its code.
      const err = asWrapperError(e);
      reportFailure(err, env.get('_CONDOR_WRAPPER_ERROR_FILE'), env.get('_CONDOR_JOB_AD'));
      writeHandover({ kind: 'exit', code: err.code });
      process.exit(0);
    }
    // The front has the whole decision and waits only for this process to be gone before it
    // execs the runtime: Node's orderly exit (platform threads, OpenSSL and V8 teardown, atexit)
    // costs ~1.5 ms of every job's start (docs/benchmarks.md) and has nothing left to do. Every
    // write before this point was synchronous (the log, the launcher, stdout/stderr), and the
    // front reads the decision, not this status. Only on the job's path: --check, --explain and
    // errors keep the orderly exit.
    if (handover.kind !== 'exit') process.kill(process.pid, 'SIGKILL');
    process.exit(0);
  }
  if (handover.kind === 'exit') process.exit(handover.code);
  // Run directly with node (no front): the trusted sshd gets what we were given.
  execDirect(handover.kind === 'pass' ? { kind: 'exec', argv: process.argv.slice(2 + handover.skip), env } : handover);
}

// A rejection here would be a bug in the handler itself: still no stack trace alone, still no run.
main().catch((e: unknown) => {
  process.stderr.write(`condor-job-wrapper: node error: internal error: ${String(e)}\n`);
  process.exit(70);
});
