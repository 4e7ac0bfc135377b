// V8's code cache for the bundle (scripts/loader.js reads it; --check as root writes it). With it
// a job skips most parsing and compiling of the wrapper, the largest part of its start-up
// (docs/benchmarks.md). Jobs only read it, and only when it is root-owned and root-writable alone.

import { closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** What the loader left on globalThis (absent when src/ runs without the bundle, as in jest). */
export interface LoaderInfo {
  readonly file: string;
  readonly state: string;
  readonly build: string;
  readonly script: { createCachedData(): Buffer };
  /** How the loader read the code (scripts/loader.js); absent from older loaders. */
  readonly read?: unknown;
}

function isLoaderInfo(v: unknown): v is LoaderInfo {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.file === 'string' && typeof o.state === 'string' && typeof o.build === 'string' && typeof o.script === 'object' && o.script !== null;
}

export function loaderInfo(): LoaderInfo | undefined {
  const v: unknown = (globalThis as Record<string, unknown>).__cjwCodeCache;
  return isLoaderInfo(v) ? v : undefined;
}

/** Lines for --version: how the loader read the code, which cache this build would use, and whether it did. */
export function codeCacheLine(): string {
  const info = loaderInfo();
  if (info === undefined) return 'code cache: not loaded through the bundle';
  const read = typeof info.read === 'string' ? `code: ${info.read}\n` : '';
  return `${read}code cache: ${info.file}: ${info.state}`;
}

export interface CacheWrite {
  readonly ok: boolean;
  readonly text: string;
}

/**
 * Writes the code cache for the functions compiled so far (call it after a warm-up decision),
 * atomically, 0644, and removes caches of other builds for this Node. Root only: a cache a job
 * user could write would be code the wrapper runs.
 */
export function writeCodeCache(isRoot: boolean): CacheWrite {
  const info = loaderInfo();
  if (info === undefined) return { ok: false, text: 'not running from the bundle: nothing to cache' };
  if (!isRoot) return { ok: false, text: `not written: only root writes ${info.file} (jobs then compile the wrapper each time, about 8 ms more)` };
  const dir = dirname(info.file);
  const data = info.script.createCachedData();
  const tmp = `${info.file}.${String(process.pid)}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, info.file);
  } catch (e) {
    rmSync(tmp, { force: true });
    return { ok: false, text: `could not write ${info.file}: ${(e as Error).message}` };
  }
  // Older builds' caches for this Node are dead weight (V8 would reject them anyway).
  const suffix = `-${process.version}-${process.arch}.bin`;
  for (const f of readdirSync(dir)) {
    if (f.startsWith('code-') && f.endsWith(suffix) && f !== basename(info.file)) rmSync(join(dir, f), { force: true });
  }
  return { ok: true, text: `wrote ${info.file} (${String(Math.round(data.length / 1024))} KiB; was ${info.state})` };
}
