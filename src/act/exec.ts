// Handing the process over (SPEC S1, S7). Through the bundled front, the front execs (see
// act/front.ts). Run directly with `node` (no front), we use process.execve where Node has it
// (22.15+) and otherwise fall back to supervising a child: the documented last resort.

import type { Handover } from './front';

const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

const INHERITED_IGNORED: readonly NodeJS.Signals[] = ['SIGPIPE', 'SIGXFSZ'];

type Execve = (file: string, args: string[], env: Record<string, string>) => never;

export function execDirect(h: Extract<Handover, { kind: 'exec' }>): void {
  const [file, ...args] = h.argv;
  if (file === undefined) throw new Error('nothing to exec');
  const env = Object.fromEntries(h.env);
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (typeof execve === 'function') {
    // Node ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across execve(2): the
    // runtime and the payload would inherit that. A caught signal is reset to its default by
    // execve, so catch them here first.
    for (const sig of INHERITED_IGNORED) process.on(sig, () => undefined);
    execve(file, [file, ...args], env);
  }
  supervise(file, args, env);
}

/** Last resort: child with inherited stdio, signals forwarded, exit status mirrored. */
function supervise(file: string, args: string[], env: Record<string, string>): void {
  // Loaded only here: child_process costs start-up time on every job otherwise.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn(file, args, { stdio: 'inherit', env, argv0: file });
  for (const sig of FORWARDED) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    process.stderr.write(`condor-job-wrapper: node error: exec ${file}: ${e.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      for (const sig of FORWARDED) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
      // A signal that does not kill us (ignored by default): mirror it as the shell would.
      // node:os only here: loading it costs every job start-up time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { constants } = require('node:os') as typeof import('node:os');
      process.exit(128 + (constants.signals[signal] ?? 0));
    }
    process.exit(code ?? 70);
  });
}
