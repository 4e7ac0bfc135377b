// Shared helpers for the end-to-end tests: they run the bundled wrapper as a real process, with
// an explicit environment (never the test runner's), in front of the recording stand-in runtime.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const BUNDLE = join(ROOT, 'wrapper/condor-job-wrapper');
export const STANDIN = join(ROOT, 'test/fixtures/bin/standin-runtime');
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** The Node binaries the suite runs the bundle on: the system Node and, when installed, Node 22. */
export function nodeBinaries(): { label: string; path: string }[] {
  const list = [{ label: 'node-system', path: '/usr/bin/node' }];
  const n22 = process.env.CJW_TEST_NODE22 ?? '/opt/cjw-node22/bin/node';
  if (existsSync(n22)) list.push({ label: 'node22', path: n22 });
  else if (IN_CI) throw new Error(`Node 22 expected at ${n22} in CI`);
  else console.log(`skipping Node 22 runs: no Node 22 at ${n22} (set CJW_TEST_NODE22)`);
  return list;
}

/**
 * `describe.each` over the Node binaries for the suites that run the bundle on stand-in runtimes.
 * The wrapper takes a runtime line as the starter's only when the job cannot have written the
 * runtime (SPEC S2: root-owned, outside the job's dirs); stand-ins made by another user are the
 * "job's own", so those suites need root (as CI has). Elsewhere they skip with one line saying so.
 */
export function describeBundle(name: string, fn: (c: { label: string; path: string }) => void): void {
  const table = nodeBinaries();
  if (process.getuid?.() === 0 || IN_CI) {
    describe.each(table)(name, fn);
    return;
  }
  console.log('skipping the end-to-end suite: not root (stand-in runtimes must be root-owned to be trusted as the starter\'s, SPEC S2); run the tests as root, as CI does');
  describe.skip.each(table)(name, fn);
}

/** `describe` for a suite that needs root-owned stand-in runtimes (see describeBundle). */
export function describeAsRoot(name: string, fn: () => void): void {
  if (process.getuid?.() === 0 || IN_CI) {
    describe(name, fn);
    return;
  }
  console.log(`skipping "${name}": not root (stand-in runtimes must be root-owned to be trusted as the starter's, SPEC S2)`);
  describe.skip(name, fn);
}

/** `it` for one test that needs a root-owned stand-in runtime (see describeBundle). */
export const itAsRoot: jest.It = process.getuid?.() === 0 || IN_CI ? it : it.skip;

export function tempDir(prefix = 'cjw-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

/** Installs the bundle as a site would: a copy with the Node path set in its front. */
/** The static bash a hardened site puts on the bundle's first line (docs/deployment.md, "Hardening"). */
export const STATIC_BASH = '/bin/bash-static';

/** The bundle's text with the static bash as its front's shell. */
export function withStaticFront(text: string, bash: string = STATIC_BASH): string {
  const out = text.replace(/^#!\/bin\/bash -p\n/, `#!${bash} -p\n`);
  if (out === text) throw new Error('the bundle does not start with "#!/bin/bash -p"');
  return out;
}

export function installWrapper(nodePath: string, dir = tempDir()): string {
  const text = readFileSync(BUNDLE, 'utf8').replace(/^cjw_node=.*$/m, `cjw_node=${nodePath}`);
  const p = join(dir, 'condor-job-wrapper');
  writeFileSync(p, text, { mode: 0o755 });
  return p;
}

export interface Standin {
  readonly dir: string;
  readonly path: string;
  argv(): string[];
  env(): Map<string, string>;
  pid(): number;
}

/** A recording stand-in runtime named `name` (its basename decides the family). */
export function standin(name = 'apptainer', opts: { print?: boolean } = {}): Standin {
  const dir = tempDir('cjw-rt-');
  const path = join(dir, name);
  copyFileSync(STANDIN, path);
  chmodSync(path, 0o755);
  if (opts.print === true) writeFileSync(join(dir, 'print'), '');
  const nul = (f: string): string[] => {
    const t = readFileSync(join(dir, f), 'utf8');
    return t === '' ? [] : t.slice(0, -1).split('\0');
  };
  return {
    dir,
    path,
    argv: () => nul('argv.nul'),
    env: () => new Map(nul('env.nul').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    pid: () => Number(readFileSync(join(dir, 'pid'), 'utf8').trim()),
  };
}

export interface RunOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly wrapper?: string;
  readonly input?: string;
}

export function runWrapper(args: readonly string[], o: RunOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(o.wrapper ?? BUNDLE, [...args], {
    env: o.env ?? {},
    cwd: o.cwd ?? tempDir(),
    encoding: 'utf8',
    timeout: 20000,
    ...(o.input === undefined ? {} : { input: o.input }),
  });
}

/** Reads an observed starter argv (NUL-separated) from the fixtures. */
export function observedArgv(name: string): string[] {
  const t = readFileSync(join(ROOT, 'test/fixtures/observed', name), 'utf8');
  return t.replace(/\0$/, '').split('\0');
}
