// Shared by the package tests: builds the packages with scripts/package.mjs into a temporary dir,
// and skips (outside CI) or fails (in CI) when the tools are missing.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
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

/** The Debian root the install tests lay an overlay on (../shared/pool/install.sh). */
export const POOL_ROOT = process.env.CJW_POOL_ROOT ?? '/srv/cjw-pool-sid';
/** The version an upgrade test moves to. */
export const NEXT = `${VERSION}.1`;

/**
 * For the install tests: version N from this checkout into DIR/n, version NEXT into DIR/n1 from a
 * copy whose example config changed (a conffile the upgrade must not overwrite once edited), and a
 * copy-on-write overlay of the pool root at DIR/merged (the shared root is never written).
 * Returns the merged root; the caller unmounts it.
 */
export function packagesAndOverlay(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  buildPackages(join(dir, 'n'), { env });
  const src = join(dir, 'src');
  for (const p of ['package.json', 'README.md', 'scripts', 'src', 'packaging', 'condor-config', 'docs', 'wrapper']) cpSync(join(ROOT, p), join(src, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  appendFileSync(join(src, 'condor-config/wrapper.env.example'), '\n# changed in the next version\n');
  const epoch = ok('git', ['log', '-1', '--format=%ct'], { cwd: ROOT }).trim();
  buildPackages(join(dir, 'n1'), { root: src, version: NEXT, env: { ...env, SOURCE_DATE_EPOCH: epoch } });
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d));
  const merged = join(dir, 'merged');
  ok('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${POOL_ROOT},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, merged]);
  return merged;
}
