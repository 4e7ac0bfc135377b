// What `--check` says about the installation itself (SPEC S12): which Node the front runs and
// whether root alone chose it, which front the package's alternative points at, and what is left
// to do in HTCondor (installing never enables anything there). Called from check.ts (runCheck).
// The paths are the packages' layout (packaging/, scripts/package.mjs reads them from here).

import { spawnSync } from 'node:child_process';
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Exit } from '../errors';
import type { CheckItem, CheckResult } from './check';

export const LAYOUT = {
  /** What HTCondor runs: the alternatives link (packages) or the file itself (single-file install). */
  wrapper: '/usr/libexec/condor-job-wrapper',
  /** The two fronts the packages install, the same bundle with another first line. */
  fronts: {
    bash: '/usr/lib/condor-job-wrapper/condor-job-wrapper',
    static: '/usr/lib/condor-job-wrapper/condor-job-wrapper-static',
  },
  alternative: 'condor-job-wrapper',
  staticShell: '/bin/bash-static',
  /** Root's choice of Node (scripts/front.sh reads nothing else); absent: defaultNode. */
  nodeLink: '/etc/condor-job-wrapper/node',
  defaultNode: '/usr/bin/node',
  workerSnippet: '/etc/condor/config.d/50-condor-job-wrapper.conf',
  healthSnippet: '/etc/condor/config.d/51-condor-job-wrapper-healthcheck.conf',
  condorConfigVal: '/usr/bin/condor_config_val',
} as const;

export interface FileInfo {
  readonly uid: number;
  readonly mode: number;
  readonly isSymlink: boolean;
  readonly isFile: boolean;
}

/** The host reads this check needs (tests stage a node with a fake one). */
export interface InstallProbe {
  /** lstat: undefined when absent. */
  readonly lstat: (path: string) => FileInfo | undefined;
  /** stat (follows links): undefined when absent or dangling. */
  readonly stat: (path: string) => FileInfo | undefined;
  readonly realpath: (path: string) => string | undefined;
  readonly readlink: (path: string) => string | undefined;
  /** `condor_config_val NAME`: the value, null when not defined, undefined when it cannot be asked. */
  readonly condorConfig: (name: string) => string | null | undefined;
}

const info = (st: { uid: number; mode: number; isSymbolicLink: () => boolean; isFile: () => boolean }): FileInfo => ({
  uid: st.uid,
  mode: st.mode,
  isSymlink: st.isSymbolicLink(),
  isFile: st.isFile(),
});
const attempt = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};

export const hostInstallProbe: InstallProbe = {
  lstat: (p) => attempt(() => info(lstatSync(p))),
  stat: (p) => attempt(() => info(statSync(p))),
  realpath: (p) => attempt(() => realpathSync(p)),
  readlink: (p) => attempt(() => readlinkSync(p)),
  condorConfig: (name) => {
    if (hostInstallProbe.stat(LAYOUT.condorConfigVal) === undefined) return undefined;
    // The admin's own environment (CONDOR_CONFIG included): --check is run by root or the startd.
    const r = spawnSync(LAYOUT.condorConfigVal, [name], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status === 0) return r.stdout.trim();
    return /Not defined/i.test(`${r.stdout}${r.stderr}`) ? null : undefined;
  },
};

const ok = (area: string, text: string): CheckItem => ({ status: 'ok', area, text });
const warn = (area: string, text: string): CheckItem => ({ status: 'warn', area, text });
const fail = (area: string, text: string): CheckItem => ({ status: 'fail', area, text, code: Exit.CONFIG });

/** Writable by someone other than root: not root-owned, or group/other-writable. */
function notRootOnly(f: FileInfo): string | undefined {
  if (f.uid !== 0) return `owned by uid ${f.uid}, not root`;
  if ((f.mode & 0o022) !== 0) return `mode ${(f.mode & 0o7777).toString(8).padStart(4, '0')} (group or others may write)`;
  return undefined;
}

/** The Node the front starts (scripts/front.sh): the /etc choice when present, else /usr/bin/node. */
export function nodeItems(probe: InstallProbe): CheckItem[] {
  const area = 'node';
  const link = probe.lstat(LAYOUT.nodeLink);
  if (link === undefined) {
    return [ok(area, `${LAYOUT.defaultNode} (the default; ${process.version} runs this check): to choose another, root makes ${LAYOUT.nodeLink} a symlink to it`)];
  }
  // Who can replace the link: its directory's owner and writers; a regular file's own mode too.
  const dir = dirname(LAYOUT.nodeLink);
  const dirInfo = probe.stat(dir);
  const dirBad = dirInfo === undefined ? 'unreadable' : notRootOnly(dirInfo);
  if (dirBad !== undefined) return [fail(area, `${dir}: ${dirBad}: whoever can write there chooses the program every job starts; make it root's, mode 0755`)];
  if (!link.isSymlink) {
    const bad = notRootOnly(link);
    if (bad !== undefined) return [fail(area, `${LAYOUT.nodeLink}: ${bad}: make it root's, not writable by others`)];
  }
  const target = probe.realpath(LAYOUT.nodeLink);
  const st = target === undefined ? undefined : probe.stat(target);
  if (target === undefined || st === undefined) {
    return [fail(area, `${LAYOUT.nodeLink} -> ${probe.readlink(LAYOUT.nodeLink) ?? '?'}: does not exist: every job fails (exit 70); fix the link or remove it (default ${LAYOUT.defaultNode})`)];
  }
  const bad = notRootOnly(st);
  if (bad !== undefined) return [fail(area, `${LAYOUT.nodeLink} -> ${target}: ${bad}: make Node root's, not writable by others`)];
  if ((st.mode & 0o111) === 0 || !st.isFile) return [fail(area, `${LAYOUT.nodeLink} -> ${target}: not an executable file`)];
  return [ok(area, `${LAYOUT.nodeLink} -> ${target} (root's choice; ${process.version} runs this check)`)];
}

/** Which front the packages' alternative points at, and what hardening is left. */
export function frontItems(probe: InstallProbe, bundle: string): CheckItem[] {
  const area = 'front';
  const wrapper = probe.lstat(LAYOUT.wrapper);
  if (wrapper === undefined || !wrapper.isSymlink) return [];
  const chosen = probe.realpath(LAYOUT.wrapper);
  if (chosen !== LAYOUT.fronts.bash && chosen !== LAYOUT.fronts.static) return [];
  const staticShell = probe.stat(LAYOUT.staticShell) !== undefined;
  if (chosen === LAYOUT.fronts.static) {
    if (!staticShell) return [fail(area, `the alternative ${LAYOUT.alternative} is ${chosen}, whose shell ${LAYOUT.staticShell} is missing: every job fails; install it, or: update-alternatives --set ${LAYOUT.alternative} ${LAYOUT.fronts.bash}`)];
    return [ok(area, `alternative ${LAYOUT.alternative}: ${chosen} (${LAYOUT.staticShell})`)];
  }
  const running = probe.realpath(bundle) === chosen ? '' : ` (this check ran ${bundle})`;
  return [
    warn(area, `alternative ${LAYOUT.alternative}: ${chosen} (/bin/bash, dynamically linked)${running}; to harden: ${staticShell ? '' : 'install the static bash at /bin/bash-static (Debian: apt-get install bash-static), then '}update-alternatives --set ${LAYOUT.alternative} ${LAYOUT.fronts.static}`),
  ];
}

/** Installing enables nothing in HTCondor: say whether the site has, and the one line if not. */
export function condorItems(probe: InstallProbe, bundle: string): CheckItem[] {
  const area = 'HTCondor';
  const ujw = probe.condorConfig('USER_JOB_WRAPPER');
  if (ujw === undefined) return [warn(area, `cannot ask ${LAYOUT.condorConfigVal}: check by hand that USER_JOB_WRAPPER = ${LAYOUT.wrapper} on this node`)];
  const items: CheckItem[] = [];
  if (ujw === null || ujw === '') {
    items.push(warn(area, `USER_JOB_WRAPPER is not set: the wrapper is installed but HTCondor does not use it; to turn it on, uncomment "USER_JOB_WRAPPER = ${LAYOUT.wrapper}" in ${LAYOUT.workerSnippet} (or set it in a config.d file read before it), then condor_reconfig and condor_restart -daemon startd`));
  } else {
    const mine = resolve(ujw) === LAYOUT.wrapper || resolve(ujw) === resolve(bundle);
    items.push(mine ? ok(area, `USER_JOB_WRAPPER = ${ujw}`) : warn(area, `USER_JOB_WRAPPER = ${ujw}: not ${LAYOUT.wrapper} (a site shim is fine if it execs it)`));
  }
  const cron = probe.condorConfig('STARTD_CRON_JOBLIST');
  if (cron !== undefined && !(cron ?? '').split(/[\s,]+/).includes('CJW')) {
    items.push(warn(area, `the health check is not on: uncomment "STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) CJW" in ${LAYOUT.healthSnippet}, then condor_reconfig`));
  }
  return items;
}

/** The install items appended to a check result; the verdict is recomputed as check.ts does it. */
export function withInstallCheck(r: CheckResult, bundle: string, probe: InstallProbe = hostInstallProbe): CheckResult {
  const items = [...r.items, ...nodeItems(probe), ...frontItems(probe, bundle), ...condorItems(probe, bundle)];
  const failed = items.filter((i) => i.status === 'fail');
  const exitCode = failed.length === 0 ? 0 : failed.some((i) => i.code === Exit.CONFIG) ? Exit.CONFIG : Exit.UNAVAILABLE;
  return { ...r, items, healthy: failed.length === 0, exitCode };
}
