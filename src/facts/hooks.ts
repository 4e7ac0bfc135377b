// Which hooks a site configured (SPEC S6): the executables of the setup, test and inside
// directories, in byte order, with the skip rules of run-parts. --check reuses listHooks so that
// the report and the run agree on what counts as a hook.

import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WrapperError } from '../errors';
import type { Config } from './config/schema';
import type { HookFile } from './types';

export type HookStage = HookFile['stage'];

/** The config key of each stage's directory, for messages. */
export const HOOK_DIR_KEY: Readonly<Record<HookStage, string>> = { setup: 'CJW_SETUP_DIR', test: 'CJW_TEST_DIR', inside: 'CJW_INSIDE_DIR' };

/** Package-manager leftovers, editor backups and hidden files are never hooks. */
export function isSkippedName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || name.endsWith('.rpmnew') || name.endsWith('.rpmsave') || /\.dpkg-[^/]*$/.test(name);
}

/** Byte order of the UTF-8 names (SPEC S6), not the locale's collation. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function errnoOf(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : String(e);
}

/**
 * The hooks of one directory. Subdirectories (and other non-regular files such as sockets) are
 * skipped, as run-parts does; a broken symlink or a regular file the job user cannot execute is
 * a config error (78): silently not running a site check would be worse than not running the job.
 */
export function listHooks(dir: string, stage: HookStage): HookFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new WrapperError('hook.dir-unreadable', `${stage} hook directory ${dir} (${HOOK_DIR_KEY[stage]})`, `cannot read it: ${errnoOf(e)}`);
  }
  const hooks: HookFile[] = [];
  for (const name of names.filter((n) => !isSkippedName(n)).sort(byteOrder)) {
    const path = join(dir, name);
    let isFile: boolean;
    try {
      const st = statSync(path);
      if (st.isDirectory()) continue;
      isFile = st.isFile();
    } catch (e) {
      throw new WrapperError('hook.not-executable', `${stage} hook ${path}`, `cannot stat it (broken symlink?): ${errnoOf(e)}`);
    }
    if (!isFile) continue;
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new WrapperError('hook.not-executable', `${stage} hook ${path}`, 'not executable by the job user; chmod 0755 it, or rename it with a skipped suffix (~, .rpmsave, .dpkg-old)');
    }
    hooks.push({ stage, path, name });
  }
  return hooks;
}

/** All configured hooks in stage order (setup, test, inside); no I/O for an unset directory. */
export function configuredHooks(config: Pick<Config, 'setupDir' | 'testDir' | 'insideDir'>): HookFile[] {
  const out: HookFile[] = [];
  if (config.setupDir !== '') out.push(...listHooks(config.setupDir, 'setup'));
  if (config.testDir !== '') out.push(...listHooks(config.testDir, 'test'));
  if (config.insideDir !== '') out.push(...listHooks(config.insideDir, 'inside'));
  return out;
}
