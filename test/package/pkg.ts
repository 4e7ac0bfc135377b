// Shared by the package tests: builds the packages with scripts/package.mjs into a temporary dir,
// and skips (outside CI) or fails (in CI) when the tools are missing.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
export const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
export const DEB = (version: string = VERSION): string => `condor-job-wrapper_${version}_all.deb`;
export const RPM = (version: string = VERSION): string => `condor-job-wrapper-${version}-1.el9.noarch.rpm`;

export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1"`, 'sh', tool]).status === 0;
}

/** `describe` that skips with a one-line reason outside CI when `why` is set, and fails in CI. */
export function describeWhen(name: string, why: string | undefined, fn: () => void): void {
  if (why === undefined) {
    describe(name, fn);
  } else if (IN_CI) {
    describe(name, () => {
      test('fixtures present', () => {
        throw new Error(`${name}: ${why} (CI must install it: see the package tests' header)`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${why})`, fn);
  }
}

export function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
}

/** Runs `cmd` and returns its stdout; throws with its output when it fails. */
export function ok(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.status ?? r.signal)}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npm run package` into `out` (the script itself, from `root`). */
export function buildPackages(out: string, opts: { root?: string; version?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const root = opts.root ?? ROOT;
  ok(process.execPath, [join(root, 'scripts/package.mjs'), '--out', out, ...(opts.version === undefined ? [] : ['--version', opts.version])], { cwd: root, env: opts.env ?? process.env });
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
