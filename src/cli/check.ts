// `--check` and `--check --classad` (SPEC S9): is this node ready to run jobs through the wrapper?
// Config valid, runtime found with its version (cache refreshed when root), images and required
// bind sources present, hooks executable, user namespaces or setuid available. A human report for
// admins; ClassAd attributes for a STARTD_CRON health check, so that an unhealthy node stops
// matching jobs instead of failing each one. Loaded only when asked (dynamic import in run.ts).

import { version as wrapperVersion } from '../../package.json';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Handover } from '../act/front';
import { loaderInfo, writeCodeCache } from '../act/codeCache';
import { chooseNodeFlags } from '../act/nodeFlags';
import { fileLinkage, shebangInterpreter } from '../facts/elf';
import { displayRuntime, missingFlagReason } from '../decide/rules/compat';
import { parseExtraArgs } from '../decide/rules/extraArgs';
import { Exit, WrapperError } from '../errors';
import type { Config } from '../facts/config/schema';
import { CONFIG_DIR, CONFIG_FILE, configProblemsOf, loadConfig } from '../facts/config/load';
import { LOGGER_PATHS, SYSLOG_SOCKET } from '../act/log';
import { HOOK_DIR_KEY, isSkippedName, listHooks, type HookStage } from '../facts/hooks';
import { detectNested, detectSetuidRuntime, nodeHostProbe, type HostProbe } from '../facts/host';
import { isUri, probePath } from '../facts/paths';
import { DEFAULT_RUNTIMES, htcondorRuntime, isExecutableFile, storeCondorRuntime } from '../facts/runtime';
import type { Facts, NestedFact, SetuidFact } from '../facts/types';
import { refreshCache, type RuntimeVersion } from '../facts/versionCache';
import { familyFromBasename, tableFor } from '../invocation/families/index';
import type { Invocation } from '../invocation/model';
import { parseInvocation } from '../invocation/parse';
import { LAYOUT, withInstallCheck } from './checkInstall';
import type { OwnOptions } from './options';
import type { RunContext } from './run';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the report. A failure carries the exit code class it stands for (78 config, 69 node). */
export interface CheckItem {
  readonly status: CheckStatus;
  readonly area: string;
  readonly text: string;
  readonly code?: typeof Exit.CONFIG | typeof Exit.UNAVAILABLE;
}

export interface CheckResult {
  readonly items: readonly CheckItem[];
  readonly healthy: boolean;
  readonly exitCode: number;
  readonly mode?: string;
  readonly runtime?: { readonly path: string; readonly family: string; readonly version?: string };
  readonly nested?: NestedFact;
  readonly userNamespaces: boolean;
  readonly setuid?: SetuidFact;
}

/** The host reads --check needs, injectable so that tests can stage a broken node. */
export interface CheckEnv {
  readonly host: HostProbe;
  /** `RUNTIME --version` and the cache write (root only). */
  readonly refresh: (path: string) => { version?: RuntimeVersion; notWritten?: string; file: string; pruned?: readonly string[] };
  readonly loadConfig: (file: string | undefined) => Config;
  /** Mode, owner and kind of a path (following symlinks), undefined when it is absent. */
  readonly stat: (path: string) => ModeStat | undefined;
  readonly syslogSocket: string;
  /** HTCondor's SINGULARITY (condor_config_val): the runtime of every starter-built line (SPEC S2). */
  readonly condorRuntime: () => { path?: string; why: string };
  /** As root: keep it for wrapper-built jobs with CJW_RUNTIME unset (facts/runtime.ts). */
  readonly storeCondorRuntime: (path: string | undefined) => void;
}

export interface ModeStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly isDir: boolean;
}

function nodeStat(path: string): ModeStat | undefined {
  try {
    const st = statSync(path);
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, isDir: st.isDirectory() };
  } catch {
    return undefined;
  }
}

const defaultEnv: CheckEnv = {
  host: nodeHostProbe,
  refresh: (path) => refreshCache(path),
  loadConfig: (file) => loadConfig(file),
  stat: nodeStat,
  syslogSocket: SYSLOG_SOCKET,
  condorRuntime: () => htcondorRuntime(undefined),
  storeCondorRuntime: (path) => {
    if (process.getuid?.() === 0) storeCondorRuntime(path);
  },
};

const ok = (area: string, text: string): CheckItem => ({ status: 'ok', area, text });
const warn = (area: string, text: string): CheckItem => ({ status: 'warn', area, text });
const fail = (area: string, text: string, code: CheckItem['code'] = Exit.UNAVAILABLE): CheckItem => ({ status: 'fail', area, text, code });

function readNumber(host: HostProbe, path: string): number | undefined {
  const t = host.read(path);
  if (t === undefined) return undefined;
  const n = Number.parseInt(t.trim(), 10);
  return Number.isNaN(n) ? undefined : n;
}

/** Unprivileged user namespaces: the kernel limit, and Debian's older switch where it exists. */
export function userNamespacesAvailable(host: HostProbe): { available: boolean; why: string } {
  const max = readNumber(host, '/proc/sys/user/max_user_namespaces');
  if (max === undefined) return { available: false, why: '/proc/sys/user/max_user_namespaces unreadable' };
  if (max === 0) return { available: false, why: 'user.max_user_namespaces = 0' };
  const clone = readNumber(host, '/proc/sys/kernel/unprivileged_userns_clone');
  if (clone === 0) return { available: false, why: 'kernel.unprivileged_userns_clone = 0' };
  return { available: true, why: `user.max_user_namespaces = ${max}` };
}

interface RuntimeToCheck {
  readonly path: string;
  readonly explicit: boolean;
}

/**
 * HTCondor's SINGULARITY first (what every starter-built line runs, SPEC S2), then CJW_RUNTIME
 * (wrapper-built mode) when it is another one, else the default locations when neither names
 * one; plus any runtime named by absolute path in CJW_RUNTIME_NAMES.
 */
function runtimesToCheck(config: Config, condor: string | undefined): RuntimeToCheck[] {
  const out: RuntimeToCheck[] = [];
  const add = (path: string, explicit: boolean): void => {
    if (!out.some((r) => r.path === path)) out.push({ path, explicit });
  };
  if (condor !== undefined) add(condor, true);
  if (config.runtime !== '') add(config.runtime, true);
  else if (condor === undefined) {
    const found = DEFAULT_RUNTIMES.find((p) => isExecutableFile(p));
    if (found !== undefined) add(found, false);
  }
  for (const n of config.runtimeNames) if (n.startsWith('/')) add(n, true);
  return out;
}

/** A minimal line for the family, so CJW_EXTRA_ARGS is checked by the same parser a job uses. */
function probeLine(path: string, family: Invocation['family']): Invocation {
  return parseInvocation([path, 'exec', '/nonexistent/cjw-check-image', '/bin/true'], tableFor(family));
}

function checkRuntime(config: Config, rt: { path: string; explicit: boolean }, env: CheckEnv, items: CheckItem[]): CheckResult['runtime'] & { setuid?: SetuidFact } | undefined {
  const area = `runtime ${rt.path}`;
  if (!isExecutableFile(rt.path)) {
    const why = rt.explicit ? 'not found or not executable' : 'not found';
    // Under REQUIRED every container job would fail; a named runtime that is gone is a broken install.
    items.push(config.mode === 'REQUIRED' || rt.explicit ? fail(area, `${why} (CJW_MODE=${config.mode})`) : warn(area, `${why}: jobs that want a container run uncontained (CJW_MODE=${config.mode})`));
    return undefined;
  }
  const r = env.refresh(rt.path);
  const family = r.version?.family ?? familyFromBasename(rt.path.split('/').pop() ?? '');
  const v = r.version?.version;
  const kind = { family, ...(v === undefined ? {} : { version: v }) };
  if (r.version === undefined) items.push(fail(area, `cannot tell its version: ${r.notWritten ?? 'unknown'}`));
  else items.push(ok(area, `${displayRuntime(kind)}${r.notWritten === undefined ? ` (version cached in ${r.file})` : ` (cache not written: ${r.notWritten})`}`));
  if (r.pruned !== undefined && r.pruned.length > 0) items.push(ok(area, `removed ${r.pruned.length} cached version(s) of runtimes that no longer exist`));

  // S5.5: a GPU flag the runtime lacks would be silently missing from every GPU job.
  const gpuMissing = missingFlagReason(kind, config.gpuFlag) ?? (tableFor(family).actions.exec?.some((d) => d.names.includes(config.gpuFlag)) === true ? undefined : `${displayRuntime(kind)} has no ${config.gpuFlag}`);
  if (gpuMissing !== undefined) items.push(fail('CJW_GPU_FLAG', `${config.gpuFlag}: ${gpuMissing}`, Exit.CONFIG));
  else items.push(ok('CJW_GPU_FLAG', `${config.gpuFlag} is a flag of ${displayRuntime(kind)}`));

  if (config.extraArgs.length > 0) {
    try {
      const facts: Facts = { env: new Map(), config, cwd: '/', runtime: { path: rt.path, usable: true, ...kind, source: 'probe' }, paths: new Map(), hooks: [], contributions: [] };
      parseExtraArgs(config.extraArgs, probeLine(rt.path, family), facts);
      items.push(ok('CJW_EXTRA_ARGS', `${config.extraArgs.join(' ')}: flags of ${displayRuntime(kind)}`));
    } catch (e) {
      if (!(e instanceof WrapperError)) throw e;
      items.push(fail('CJW_EXTRA_ARGS', `${e.what}: ${e.why}`, Exit.CONFIG));
    }
  }
  const setuid = detectSetuidRuntime(rt.path, family, env.host);
  return { path: rt.path, family, ...(v === undefined ? {} : { version: v }), setuid };
}

function checkImages(config: Config, items: CheckItem[]): void {
  const images = [...(config.defaultImage === '' ? [] : [['CJW_DEFAULT_IMAGE', config.defaultImage]]), ...[...config.images].map(([os, img]) => [`CJW_IMAGES ${os}`, img])];
  for (const [key, img] of images) {
    if (img === undefined || key === undefined) continue;
    if (isUri(img)) {
      items.push(ok(`image ${img}`, `${key}: a URI, fetched by the runtime`));
      continue;
    }
    const p = probePath(img);
    if (p.kind === 'missing') items.push(fail(`image ${img}`, `${key}: does not exist (unreachable repository or a typo)`));
    else items.push(ok(`image ${img}`, `${key}: ${p.kind}${p.real !== undefined && p.real !== img ? ` → ${p.real}` : ''}`));
  }
}

function checkBinds(config: Config, items: CheckItem[]): void {
  for (const b of config.binds) {
    const p = probePath(b.src);
    if (p.kind !== 'missing') items.push(ok(`bind ${b.src}`, `CJW_BINDS ${b.text}: present`));
    else if (b.required) items.push(fail(`bind ${b.src}`, `CJW_BINDS ${b.text}: required source is missing: every job would fail`));
    else items.push(warn(`bind ${b.src}`, `CJW_BINDS ${b.text}: source missing: jobs run without it`));
  }
}

function checkHooks(config: Config, items: CheckItem[]): void {
  const dirs: [HookStage, string][] = [['setup', config.setupDir], ['test', config.testDir], ['inside', config.insideDir]];
  for (const [stage, dir] of dirs) {
    if (dir === '') continue;
    try {
      const hooks = listHooks(dir, stage);
      items.push(ok(`${stage} hooks ${dir}`, hooks.length === 0 ? `${HOOK_DIR_KEY[stage]}: empty` : `${HOOK_DIR_KEY[stage]}: ${hooks.map((h) => h.name).join(', ')}`));
    } catch (e) {
      if (!(e instanceof WrapperError)) throw e;
      items.push(fail(`${stage} hooks ${dir}`, `${e.what}: ${e.why}`, Exit.CONFIG));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What a job user meets (SPEC S9). --check usually runs as root (or as the condor user from the
// startd), who can read a 0600 file a job cannot. Jobs run as ordinary users who are neither the
// owner of the site's files nor in their group, so the "other" permission bits decide; a file
// open to its group only is a warning (every job user would have to be in that group).

type Want = 'r' | 'w' | 'x';
const BITS: Readonly<Record<Want, number>> = { r: 4, w: 2, x: 1 };
const WORDS: Readonly<Record<Want, string>> = { r: 'read', w: 'write', x: 'execute' };

export interface AccessVerdict {
  /** ok: every job user; group: only members of the file's group; no: no job user. */
  readonly level: 'ok' | 'group' | 'no';
  readonly why: string;
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function bitsFor(st: ModeStat, want: readonly Want[]): 'ok' | 'group' | 'no' {
  const need = want.reduce((a, w) => a | BITS[w], 0);
  if ((st.mode & need) === need) return 'ok';
  // Group root (gid 0) is no group job users are in.
  if (st.gid !== 0 && ((st.mode >> 3) & need) === need) return 'group';
  return 'no';
}

/**
 * Whether a job user can use `path` as `want` says: every directory on the way must let it pass
 * (x), the path itself must grant `want`. Pure but for `stat`; `path` should be the real path.
 */
export function jobUserAccess(path: string, want: readonly Want[], stat: (p: string) => ModeStat | undefined): AccessVerdict {
  const parts = path.split('/').filter((p) => p !== '');
  let level: AccessVerdict['level'] = 'ok';
  let why = '';
  const note = (l: AccessVerdict['level'], text: string): void => {
    if (l === 'no' && level !== 'no') { level = 'no'; why = text; }
    else if (l === 'group' && level === 'ok') { level = 'group'; why = text; }
  };
  for (let i = 0; i < parts.length; i++) {
    const dir = `/${parts.slice(0, i).join('/')}`;
    const st = stat(dir);
    if (st === undefined) continue;
    const l = bitsFor(st, ['x']);
    if (l !== 'ok') note(l, `directory ${dir} (mode ${octal(st.mode)}, uid ${st.uid}, gid ${st.gid}) does not let ${l === 'group' ? 'users outside group ' + String(st.gid) : 'job users'} reach it`);
  }
  const st = stat(path);
  if (st !== undefined) {
    const l = bitsFor(st, want);
    const words = want.map((w) => WORDS[w]).join(' and ');
    if (l !== 'ok') note(l, l === 'group' ? `only group ${st.gid} may ${words} it (mode ${octal(st.mode)}): every job user must be in that group` : `a job user cannot ${words} it (mode ${octal(st.mode)}, uid ${st.uid}, gid ${st.gid})`);
  }
  return { level, why };
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function accessItem(area: string, path: string, want: readonly Want[], env: CheckEnv, items: CheckItem[], what: string, code: CheckItem['code'] = Exit.CONFIG): void {
  const v = jobUserAccess(realOrSelf(path), want, env.stat);
  if (v.level === 'no') items.push(fail(area, `${v.why}: ${what}`, code));
  else if (v.level === 'group') items.push(warn(area, v.why));
}

function dirEntries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The config files jobs read: each must be readable by a job user, or every job fails (78). */
function checkConfigAccess(configFile: string | undefined, config: Config | undefined, env: CheckEnv, items: CheckItem[]): void {
  const before = items.length;
  const every = 'every job fails with "config …: cannot read it"';
  if (env.stat(CONFIG_FILE) !== undefined) accessItem(`config ${CONFIG_FILE}`, CONFIG_FILE, ['r'], env, items, every);
  if (env.stat(CONFIG_DIR) !== undefined) {
    accessItem(`config ${CONFIG_DIR}`, CONFIG_DIR, ['r', 'x'], env, items, every);
    for (const n of dirEntries(CONFIG_DIR).filter((f) => f.endsWith('.env') && !f.startsWith('.'))) accessItem(`config ${CONFIG_DIR}/${n}`, `${CONFIG_DIR}/${n}`, ['r'], env, items, every);
  }
  if (configFile !== undefined && env.stat(configFile) !== undefined) accessItem(`config ${configFile}`, resolve(configFile), ['r'], env, items, every);
  if (config !== undefined && config.glideinConfig !== '' && env.stat(config.glideinConfig) !== undefined) accessItem(`config ${config.glideinConfig}`, config.glideinConfig, ['r'], env, items, every);
  if (items.length === before) items.push(ok('job user', 'every config file is readable by job users'));
}

/** A script needs read permission to be interpreted; a binary only execute. */
function isScript(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b.toString('latin1') === '#!';
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Hooks run as the job user (setup and test on the host, inside ones in the container). */
function checkHookAccess(config: Config, env: CheckEnv, items: CheckItem[]): void {
  const dirs: [HookStage, string][] = [['setup', config.setupDir], ['test', config.testDir], ['inside', config.insideDir]];
  for (const [stage, dir] of dirs) {
    if (dir === '' || env.stat(dir) === undefined) continue;
    const before = items.length;
    const consequence = `every job fails (${HOOK_DIR_KEY[stage]})`;
    accessItem(`${stage} hooks ${dir}`, dir, ['r', 'x'], env, items, consequence);
    for (const name of dirEntries(dir).filter((n) => !isSkippedName(n))) {
      const p = join(dir, name);
      const st = env.stat(p);
      if (st === undefined || st.isDir) continue;
      accessItem(`${stage} hook ${p}`, p, isScript(p) ? ['r', 'x'] : ['x'], env, items, consequence);
    }
    if (items.length === before) items.push(ok(`${stage} hooks ${dir}`, 'job users can run them'));
  }
}

/** CJW_LOG (SPEC S10): can a job write its record, and can it forge other jobs' records? */
function checkLog(config: Config, env: CheckEnv, items: CheckItem[]): void {
  const area = 'CJW_LOG';
  const log = config.log;
  if (log.kind === 'off') return;
  if (log.kind === 'syslog') {
    const logger = LOGGER_PATHS.find((p) => env.stat(p) !== undefined);
    if (logger === undefined) items.push(warn(area, `syslog: logger(1) not found (${LOGGER_PATHS.join(', ')}): no job record is written (install util-linux or bsdutils)`));
    else if (env.stat(env.syslogSocket) === undefined) items.push(warn(area, `syslog: ${env.syslogSocket} does not exist (no syslog daemon or journald on this node): job records are dropped without a word to jobs; start rsyslog/journald or use CJW_LOG=file:`));
    else items.push(ok(area, `syslog through ${logger} to ${env.syslogSocket} (the system log stamps the real uid)`));
    return;
  }
  const st = env.stat(log.path);
  const target = st !== undefined ? log.path : dirname(log.path);
  const tst = st ?? env.stat(target);
  if (tst === undefined) {
    items.push(warn(area, `file ${log.path}: neither it nor its directory exists: no job record is written (each job warns on its stderr)`));
    return;
  }
  const v = jobUserAccess(realOrSelf(target), st === undefined ? ['w', 'x'] : ['w'], env.stat);
  const noun = st === undefined ? `directory ${target} (the file does not exist yet)` : `file ${log.path}`;
  if (v.level === 'no') items.push(warn(area, `${noun}: ${v.why}: no job record is written (each job warns on its stderr)`));
  else if (v.level === 'group') items.push(warn(area, `${noun}: ${v.why}; those job users can forge or erase records (CJW_LOG=syslog cannot be forged)`));
  else items.push(warn(area, `${noun}: every job user can write it, so a job can forge or erase records; CJW_LOG=syslog cannot be forged`));
}

/** Runs every check; never throws for a node problem (that is what the report is for). */
export function runChecks(configFile: string | undefined, env: CheckEnv = defaultEnv): CheckResult {
  const items: CheckItem[] = [];
  let config: Config;
  try {
    config = env.loadConfig(configFile);
  } catch (e) {
    if (!(e instanceof WrapperError)) throw e;
    // Every problem on its own line (SPEC S8); `what` already names the file ("config /etc/…").
    for (const p of configProblemsOf(e)) items.push(fail(p.what, p.why, p.code === Exit.CONFIG ? Exit.CONFIG : Exit.UNAVAILABLE));
    checkConfigAccess(configFile, undefined, env, items);
    return finish(items, { userNamespaces: userNamespacesAvailable(env.host).available });
  }
  const files = [...new Set(config.origins.values())];
  items.push(ok('config', `${files.length === 0 ? 'defaults only' : files.join(', ')} (CJW_MODE=${config.mode}, CJW_VO_MODE=${config.voMode})`));

  const condor = env.condorRuntime();
  if (condor.path !== undefined) items.push(ok('runtime', `HTCondor's SINGULARITY is ${condor.path} (${condor.why}): starter-built jobs run it${config.runtime === '' ? ', and so do wrapper-built ones (CJW_RUNTIME unset)' : ''}`));
  else items.push(ok('runtime', `HTCondor names no SINGULARITY here (${condor.why})`));
  env.storeCondorRuntime(condor.path);
  const runtimes = runtimesToCheck(config, condor.path);
  if (runtimes.length === 0) {
    items.push(config.mode === 'REQUIRED' ? fail('runtime', `none of ${DEFAULT_RUNTIMES.join(', ')} exists and CJW_RUNTIME is unset (CJW_MODE=REQUIRED)`) : warn('runtime', `none found (set CJW_RUNTIME): jobs that want a container run uncontained (CJW_MODE=${config.mode})`));
  }
  let main: ReturnType<typeof checkRuntime>;
  for (const rt of runtimes) {
    const r = checkRuntime(config, rt, env, items);
    main ??= r;
  }

  // S5.1 and the runtime table: setuid works on the host; inside a container only user namespaces.
  const userns = userNamespacesAvailable(env.host);
  const nested = detectNested(config.nested, env.host);
  const keepsC = main?.family === 'apptainer' && main.setuid?.setuid === false;
  items.push(ok('nested', nested.inside ? `inside a container (${nested.evidence}): ${keepsC ? '-C stays for job users (an unprivileged Apptainer makes its PID namespace nested too)' : '-C becomes --contain --ipc --cleanenv, no --pid'}` : `not inside a container (${nested.evidence})`));
  if (main !== undefined) {
    const setuid = main.setuid ?? { setuid: false, evidence: 'not probed' };
    const area = 'privileges';
    if (nested.inside && setuid.setuid && main.family === 'singularity2') {
      items.push(fail(area, `${main.path} is a setuid Singularity 2.6 (${setuid.evidence}) inside a container: it cannot start there for a normal user, and 2.6 has no user-namespace mode that works nested`));
    } else if (nested.inside && !userns.available) {
      items.push(fail(area, `inside a container only user-namespace runtimes work, and ${userns.why}`));
    } else if (setuid.setuid) {
      items.push(ok(area, `${setuid.evidence}${nested.inside ? '; nested: --userns is added for job users' : ''}; user namespaces ${userns.available ? 'available' : `unavailable (${userns.why})`}`));
    } else if (userns.available) {
      items.push(ok(area, `unprivileged runtime (${setuid.evidence}); user namespaces available (${userns.why})`));
    } else {
      items.push(fail(area, `no setuid helper (${setuid.evidence}) and no user namespaces (${userns.why}): the runtime cannot start containers for job users`));
    }
  }
  checkImages(config, items);
  checkBinds(config, items);
  checkHooks(config, items);
  checkConfigAccess(configFile, config, env, items);
  checkHookAccess(config, env, items);
  checkLog(config, env, items);
  return finish(items, {
    mode: config.mode,
    userNamespaces: userns.available,
    nested,
    ...(main === undefined ? {} : { runtime: { path: main.path, family: main.family, ...(main.version === undefined ? {} : { version: main.version }) } }),
    ...(main?.setuid === undefined ? {} : { setuid: main.setuid }),
  });
}

function finish(items: CheckItem[], rest: Omit<CheckResult, 'items' | 'healthy' | 'exitCode'>): CheckResult {
  const failed = items.filter((i) => i.status === 'fail');
  // A config error is the more basic one: report 78 when there is one, else 69.
  const exitCode = failed.length === 0 ? 0 : failed.some((i) => i.code === Exit.CONFIG) ? Exit.CONFIG : Exit.UNAVAILABLE;
  return { items, healthy: failed.length === 0, exitCode, ...rest };
}

/** A ClassAd string literal: backslash and quote escaped, one line. */
export function adString(s: string): string {
  return `"${s.replace(/[\r\n]+/g, ' ').replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The STARTD_CRON output: one `Attr = value` per line (the startd publishes them in the slot ads). */
export function classAdOutput(r: CheckResult): string {
  const reason = r.items.filter((i) => i.status === 'fail').map((i) => `${i.area}: ${i.text}`).join('; ');
  const lines = [
    `CJW_Healthy = ${r.healthy ? 'true' : 'false'}`,
    `CJW_Reason = ${adString(reason)}`,
    // When the verdict was made: the START expression ignores a stale one (the check stopped running).
    `CJW_CheckedAt = ${String(Math.floor(Date.now() / 1000))}`,
    `CJW_WrapperVersion = ${adString(wrapperVersion)}`,
    `CJW_CheckExitCode = ${r.exitCode}`,
    `CJW_UserNamespaces = ${r.userNamespaces ? 'true' : 'false'}`,
  ];
  if (r.mode !== undefined) lines.push(`CJW_Mode = ${adString(r.mode)}`);
  if (r.runtime !== undefined) {
    lines.push(`CJW_Runtime = ${adString(r.runtime.path)}`, `CJW_RuntimeFamily = ${adString(r.runtime.family)}`);
    if (r.runtime.version !== undefined) lines.push(`CJW_RuntimeVersion = ${adString(r.runtime.version)}`);
  }
  if (r.nested !== undefined) lines.push(`CJW_Nested = ${r.nested.inside ? 'true' : 'false'}`);
  if (r.setuid !== undefined) lines.push(`CJW_RuntimeSetuid = ${r.setuid.setuid ? 'true' : 'false'}`);
  return `${lines.join('\n')}\n`;
}

const MARK: Readonly<Record<CheckStatus, string>> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export function humanOutput(r: CheckResult): string {
  const lines = [`condor-job-wrapper ${wrapperVersion} --check`];
  for (const i of r.items) lines.push(`${MARK[i.status]}  ${i.area}: ${i.text}`);
  const failed = r.items.filter((i) => i.status === 'fail').length;
  lines.push(r.healthy ? 'healthy: this node can run jobs through the wrapper' : `UNHEALTHY: ${failed} check(s) failed (exit ${r.exitCode})`);
  return `${lines.join('\n')}\n`;
}

/**
 * Stores V8's code cache for the job path (root only; scripts/loader.js). The cache holds the
 * functions compiled when it is written, so it is written by a fresh run of the bundle that makes
 * one decision exactly as a job would (through the bash front, on HTCondor 24's default line for
 * the runtime found, with a starter-like environment and ads; nothing runs: see
 * `--warm-code-cache` in run.ts). Warming up in this process instead would store --check's own
 * code and miss the job's (measured: ≈ 3 ms more per job). Never affects the verdict.
 */
function withCodeCache(r: CheckResult, configFile: string | undefined): CheckResult {
  const add = (status: CheckStatus, text: string): CheckResult => ({ ...r, items: [...r.items, { status, area: 'code cache', text }] });
  const info = loaderInfo();
  if (info === undefined || process.getuid?.() !== 0) return add('warn', writeCodeCache(process.getuid?.() === 0).text);
  const bundle = resolve(process.argv[1] ?? '');
  const top = mkdtempSync(join(tmpdir(), 'cjw-check-'));
  const scratch = join(top, 'scratch');
  try {
    mkdirSync(scratch);
    mkdirSync(join(scratch, 'image'));
    writeFileSync(join(scratch, '.machine.ad'), WARM_MACHINE_AD);
    const warm = warmImage(configFile, scratch);
    const image = warm.image;
    // The line must agree with the job ad to be taken as the starter's (SPEC S2), as a real one does.
    writeFileSync(join(scratch, '.job.ad'), `${WARM_JOB_AD}ContainerImage = ${JSON.stringify(image)}\n`);
    // Nothing is run: the line is decided on, not executed. Without a runtime on this node the
    // decision would stop at once, so a stand-in named like the default runtime takes its place.
    let runtime = r.runtime?.path;
    if (runtime === undefined) {
      // Beside the scratch dir, not in it: a program in the job's sandbox is the job's own (S2).
      runtime = join(top, 'apptainer');
      symlinkSync('/bin/true', runtime);
    }
    const line = [runtime, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', scratch, '--pwd', '/srv', '-B', `${scratch}:/srv`, '-B', '/etc/hosts:/etc/hosts:ro', '--home', scratch, '-C', image, '/bin/true'];
    // The child runs in the scratch dir: a relative --config must still name the same file.
    const warmConfig = warm.config ?? (configFile === undefined ? undefined : resolve(configFile));
    const res = spawnSync(bundle, ['--warm-code-cache', ...(warmConfig === undefined ? [] : ['--config', warmConfig]), ...line], {
      env: warmEnvironment(scratch),
      cwd: scratch,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const m = /^code cache: (ok|not written): (.*)$/m.exec(res.stdout);
    if (m?.[2] !== undefined) return add(m[1] === 'ok' ? 'ok' : 'warn', m[2]);
    const why = res.error?.message ?? `exit ${String(res.status ?? res.signal)}: ${res.stderr.trim().split('\n').pop() ?? ''}`;
    return add('warn', `not written: the warm-up run of ${bundle} failed (${why})`);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}

/**
 * Chooses the V8 flags jobs start Node with (act/nodeFlags.ts), before the code cache is warmed:
 * V8 keeps a cache only for the flags it was made with. Never affects the verdict.
 */
function withNodeFlags(r: CheckResult): CheckResult {
  if (loaderInfo() === undefined) return r;
  const c = chooseNodeFlags(process.getuid?.() === 0);
  return { ...r, items: [...r.items, { status: c.ok ? 'ok' : 'warn', area: 'node flags', text: c.text }] };
}

/**
 * The bundle's first line names the shell its front runs under. The dynamic linker starts that
 * shell with the job's environment, so a dynamically linked one runs a job's LD_PRELOAD library
 * before any policy applies (every program the front starts gets an empty environment). A
 * warning, not a failure: it is the default on every distribution (docs/deployment.md).
 */
function withFrontCheck(r: CheckResult): CheckResult {
  if (loaderInfo() === undefined) return r;
  const bundle = resolve(process.argv[1] ?? '');
  let first = '';
  try {
    first = readFileSync(bundle, 'latin1').slice(0, 200).split('\n')[0] ?? '';
  } catch {
    return r;
  }
  // The starter runs the wrapper as the job user: the bundle must be readable and executable
  // (a failure here changes the verdict, so the result is finished again).
  const access: CheckItem[] = [];
  accessItem(`wrapper ${bundle}`, realOrSelf(bundle), ['r', 'x'], defaultEnv, access, 'the starter cannot run it for any job', Exit.UNAVAILABLE);
  const checked = access.length === 0 ? r : finishAgain(r, access);
  const shell = shebangInterpreter(first);
  if (shell === undefined) return checked;
  const l = fileLinkage(shell);
  // A packaged front: the install check names the fix (update-alternatives), not an edit of the file.
  const packaged: readonly string[] = [LAYOUT.fronts.bash, LAYOUT.fronts.static];
  if (l.kind === 'dynamic' && packaged.includes(realOrSelf(bundle))) return checked;
  const item: CheckItem =
    l.kind === 'static'
      ? ok('front', `${shell} is statically linked: the front loads no LD_PRELOAD/LD_AUDIT of the job (a shim named by USER_JOB_WRAPPER must be static too, and HTCondor's own per-job runtime self test, run with the job's environment before the wrapper, still loads it unless SINGULARITY_RUN_TEST_BEFORE_JOB = False)`)
      : l.kind === 'dynamic'
        ? warn('front', `${shell} is dynamically linked (${l.interpreter}): a job's LD_PRELOAD runs code in it before the policy applies; install the static bash (Debian: bash-static) and make it the first line of ${bundle} (docs/deployment.md, "Hardening")`)
        : warn('front', `${shell}: cannot tell how it is linked (${l.why})`);
  return { ...checked, items: [...checked.items, item] };
}

/** The result with more items, its verdict and exit code recomputed. */
function finishAgain(r: CheckResult, more: readonly CheckItem[]): CheckResult {
  const rest: Omit<CheckResult, 'items' | 'healthy' | 'exitCode'> = {
    userNamespaces: r.userNamespaces,
    ...(r.mode === undefined ? {} : { mode: r.mode }),
    ...(r.runtime === undefined ? {} : { runtime: r.runtime }),
    ...(r.nested === undefined ? {} : { nested: r.nested }),
    ...(r.setuid === undefined ? {} : { setuid: r.setuid }),
  };
  return finish([...r.items, ...more], rest);
}

/** A list entry in wrapper.env syntax: "\\" and "," escaped. */
function listEntry(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
}

/**
 * The image of the warm-up line: one the site's policy allows, so that the decision runs to its
 * end as an ordinary job's does (a refused image stops it early and the cache then lacks the
 * rest of the job path). The site's own images (CJW_DEFAULT_IMAGE, CJW_IMAGES) are allowed by
 * definition; without a local one, a sandbox dir in the scratch dir, added to CJW_IMAGE_ALLOW
 * through a copy of the --config file with one more line (a later line wins), so the allow-list
 * globs are still matched as for a job.
 */
function warmImage(configFile: string | undefined, scratch: string): { image: string; config?: string } {
  const own = join(scratch, 'image');
  let config: Config;
  try {
    config = loadConfig(configFile);
  } catch {
    return { image: own };
  }
  const site = [config.defaultImage, ...config.images.values()].find((img) => img !== '' && !isUri(img) && existsSync(img));
  if (site !== undefined) return { image: site };
  // An entry with a single quote cannot be written in the single-quoted value: warm up as is.
  if (config.imageAllow.length === 0 || config.imageAllow.some((g) => g.includes("'"))) return { image: own };
  const text = configFile === undefined ? '' : readFileSync(configFile, 'utf8');
  const file = join(scratch, 'warm.env');
  writeFileSync(file, `${text}\nCJW_IMAGE_ALLOW='${[...config.imageAllow, own].map(listEntry).join(',')}'\n`, { mode: 0o600 });
  return { image: own, config: file };
}

/** What an HTCondor 24 starter gives a container job (the variables the rules read), for the warm-up. */
function warmEnvironment(scratch: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    _CONDOR_SCRATCH_DIR: scratch,
    _CONDOR_SLOT: 'slot1_1',
    _CONDOR_JOB_AD: join(scratch, '.job.ad'),
    _CONDOR_MACHINE_AD: join(scratch, '.machine.ad'),
    _CONDOR_WRAPPER_ERROR_FILE: join(scratch, '.job_wrapper_failure'),
    _CONDOR_JOB_IWD: scratch,
    _CONDOR_AssignedGPUs: '10000',
    CUDA_VISIBLE_DEVICES: '10000',
    NVIDIA_VISIBLE_DEVICES: 'none',
    HOME: scratch,
    PATH: '/usr/bin:/bin',
    TMPDIR: scratch,
    TMP: scratch,
    TEMP: scratch,
    OMP_NUM_THREADS: '1',
    X509_USER_PROXY: join(scratch, 'x509up'),
    APPTAINER_CACHEDIR: scratch,
    SINGULARITY_CACHEDIR: scratch,
  };
  // The starter's copies for the runtime (APPTAINERENV_X / SINGULARITYENV_X), as it writes them.
  for (const k of ['_CONDOR_SCRATCH_DIR', 'TMPDIR', 'OMP_NUM_THREADS', 'X509_USER_PROXY']) {
    env[`APPTAINERENV_${k}`] = k === 'OMP_NUM_THREADS' ? '1' : '/srv';
    env[`SINGULARITYENV_${k}`] = k === 'OMP_NUM_THREADS' ? '1' : '/srv';
  }
  return env;
}

// Like a real job's ad (test/fixtures/ads): an expression, reals, undefined and an escaped quote
// take parse paths the plain lines do not, and the cache should hold those too (measured: a
// warm-up on a real ad saves another 0.3 ms per job).
const WARM_JOB_AD = `ClusterId = 1
ProcId = 0
GlobalJobId = "check#1.0#0"
Owner = "nobody"
JobUniverse = 5
Cmd = "/bin/true"
Arguments = "a \\"b\\""
RequestCpus = 1
RequestMemory = 128
Rank = 0.0
RemoteWallClockTime = 0.0
JobCurrentReconnectAttempt = undefined
Requirements = (TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk) && (TARGET.HasFileTransfer)
WantContainer = true
SingularityBind = ""
`;

const WARM_MACHINE_AD = `Name = "slot1_1@check"
Cpus = 1
Memory = 128
AssignedGPUs = "10000"
HasSingularity = true
`;

export function runCheck(opts: OwnOptions, ctx: RunContext): Handover {
  if (opts.command.length > 0) {
    throw new WrapperError('usage.unknown-option', `--check takes no command (got ${opts.command[0] ?? ''})`, 'see condor-job-wrapper --help');
  }
  // Install state (Node choice, the packages' front alternative, HTCondor knobs left to set): checkInstall.ts.
  // condor_config_val reads the caller's CONDOR_CONFIG (the startd's, for the health check).
  const env: CheckEnv = { ...defaultEnv, condorRuntime: () => htcondorRuntime(ctx.env.get('CONDOR_CONFIG')) };
  const checked = withInstallCheck(runChecks(opts.config, env), resolve(process.argv[1] ?? ''));
  const r = withCodeCache(withNodeFlags(withFrontCheck(checked)), opts.config);
  if (opts.classad) {
    ctx.stdout(classAdOutput(r));
    // The ad carries the verdict; a non-zero exit would only make the startd log a warning.
    return { kind: 'exit', code: 0 };
  }
  ctx.stdout(humanOutput(r));
  return { kind: 'exit', code: r.exitCode };
}
