// Which runtime will run the container, and whether it is usable: exists and is executable.
// No subprocess here (SPEC S4); family and version come from the root-written cache when there
// is one (facts/versionCache.ts), else from the basename.

import { accessSync, constants, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { familyFromBasename } from '../invocation/families/index';
import type { RuntimeFact } from './types';

/** Where wrapper-built mode looks for a runtime when CJW_RUNTIME is empty, in order. */
export const DEFAULT_RUNTIMES = ['/usr/bin/apptainer', '/usr/local/bin/apptainer', '/usr/bin/singularity', '/usr/local/bin/singularity'] as const;

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The runtime fact for a known path (starter-built: argv[1]; wrapper-built: CJW_RUNTIME). */
export function runtimeFact(path: string): RuntimeFact {
  return { path, usable: isExecutableFile(path), family: familyFromBasename(basename(path)), source: 'basename' };
}

/**
 * Wrapper-built mode: CJW_RUNTIME, else HTCondor's SINGULARITY as --check stored it (SPEC S2),
 * else the first default location that is usable.
 */
export function chooseRuntime(configured: string, stored: () => string | undefined = storedCondorRuntime): RuntimeFact {
  if (configured !== '') return runtimeFact(configured);
  const condor = stored();
  if (condor !== undefined) return runtimeFact(condor);
  for (const p of DEFAULT_RUNTIMES) {
    const f = runtimeFact(p);
    if (f.usable) return f;
  }
  return runtimeFact(DEFAULT_RUNTIMES[0]);
}

/** Where condor_config_val is looked for: fixed paths, never the job's or the caller's PATH. */
const CONDOR_CONFIG_VAL = ['/usr/bin/condor_config_val', '/usr/local/bin/condor_config_val', '/opt/condor/bin/condor_config_val'] as const;

/**
 * HTCondor's `SINGULARITY` as `condor_config_val` reports it (SPEC S2): the runtime every
 * starter-built line names. Only `--check` asks (one subprocess); jobs read what it stored.
 * `condorConfig` is the caller's CONDOR_CONFIG (the health check inherits the startd's).
 */
export function htcondorRuntime(condorConfig: string | undefined, timeoutMs = 10_000): { path?: string; why: string } {
  const ccv = CONDOR_CONFIG_VAL.find((p) => isExecutableFile(p));
  if (ccv === undefined) return { why: `no condor_config_val at ${CONDOR_CONFIG_VAL.join(', ')}` };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const env: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', ...(condorConfig === undefined || condorConfig === '' ? {} : { CONDOR_CONFIG: condorConfig }) };
  const r = spawnSync(ccv, ['SINGULARITY'], { env, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 });
  const out = (r.stdout ?? '').trim();
  if (r.status !== 0 || out === '') return { why: `${ccv} SINGULARITY: ${(r.stderr ?? '').trim() || out || `exit ${String(r.status)}`}` };
  if (!out.startsWith('/')) return { why: `${ccv} SINGULARITY gave "${out}", not an absolute path` };
  return { path: out, why: `${ccv} SINGULARITY` };
}

/** Where --check (root) stores HTCondor's SINGULARITY for wrapper-built jobs (no subprocess per job). */
export const CONDOR_RUNTIME_FILE = '/var/cache/condor-job-wrapper/htcondor-singularity';

/** The stored path, trusted only from a root-owned file in a root-only directory (a job cannot write it). */
export function storedCondorRuntime(file = CONDOR_RUNTIME_FILE, owner = 0): string | undefined {
  try {
    const dir = lstatSync(dirname(file));
    const st = lstatSync(file);
    const rootOnly = (s: Stats): boolean => s.uid === owner && (s.mode & 0o022) === 0;
    if (!dir.isDirectory() || !rootOnly(dir) || !st.isFile() || !rootOnly(st) || st.size > 4096) return undefined;
    const p = readFileSync(file, 'utf8').trim();
    return p.startsWith('/') && !p.includes('\n') ? p : undefined;
  } catch {
    return undefined;
  }
}

/** --check as root: store (or, when HTCondor names none, remove) the path; atomically. */
export function storeCondorRuntime(path: string | undefined, file = CONDOR_RUNTIME_FILE): void {
  if (path === undefined) {
    rmSync(file, { force: true });
    return;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.${String(process.pid)}.tmp`;
  writeFileSync(tmp, `${path}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}
