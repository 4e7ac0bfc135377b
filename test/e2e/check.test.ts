// End to end through the bundle: `--check` (human report, exit 0/69/78) and `--check --classad`
// (STARTD_CRON attributes, always exit 0), on a stand-in Apptainer that answers --version and on
// the real Singularity 3.4.2; the version cache written as root, not as the job user.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheFile, CACHE_DIR } from '../../src/facts/versionCache';
import { jobUserAccess, type ModeStat } from '../../src/cli/check';
import { BUNDLE, IN_CI, runWrapper, standin, tempDir } from './harness';

const S34 = '/opt/singularity-3.4.2/bin/singularity';
const HAVE_S34 = existsSync(S34);
const IS_ROOT = process.getuid?.() === 0;
if (!HAVE_S34 && !IN_CI) console.log(`skipping the real-runtime --check cases: ${S34} is not installed (../shared/runtimes/install.sh)`);
const itS34 = HAVE_S34 || IN_CI ? it : it.skip;
const itRoot = IS_ROOT || IN_CI ? it : it.skip;

/** A fake runtime that only answers `--version` like Apptainer 1.3.6. */
function fakeApptainer(): string {
  const dir = tempDir('cjw-fake-');
  const p = join(dir, 'apptainer');
  writeFileSync(p, '#!/bin/sh\n[ "$1" = --version ] && echo "apptainer version 1.3.6"\nexit 0\n', { mode: 0o755 });
  return p;
}

function config(lines: string[]): string {
  const dir = tempDir('cjw-check-');
  const f = join(dir, 'wrapper.env');
  writeFileSync(f, `${lines.join('\n')}\n`, { mode: 0o644 });
  return f;
}

function check(cfg: string, classad = false): { status: number | null; stdout: string; stderr: string } {
  return runWrapper(['--config', cfg, '--check', ...(classad ? ['--classad'] : [])]);
}

function adOf(stdout: string): Map<string, string> {
  return new Map(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(' = ')), l.slice(l.indexOf(' = ') + 3)]));
}

describe('--check on a healthy node', () => {
  it('stand-in Apptainer: every line ok, exit 0, and the ClassAd says healthy', () => {
    const rt = fakeApptainer();
    const img = tempDir('cjw-img-');
    const cfg = config([`CJW_RUNTIME=${rt}`, 'CJW_MODE=REQUIRED', `CJW_DEFAULT_IMAGE=${img}`, 'CJW_BINDS=/etc/hosts!', 'CJW_EXTRA_ARGS=--ipc,--env,OSG=1', 'CJW_GPU_FLAG=--rocm']);
    const r = check(cfg);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^condor-job-wrapper \d+\.\d+\.\d+ --check$/);
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(r.stdout).toContain(`ok    runtime ${rt}: Apptainer 1.3.6`);
    expect(r.stdout).toContain('ok    CJW_GPU_FLAG: --rocm is a flag of Apptainer 1.3.6');
    expect(r.stdout).toContain('ok    CJW_EXTRA_ARGS: --ipc --env OSG=1: flags of Apptainer 1.3.6');
    expect(r.stdout).toContain(`ok    image ${img}: CJW_DEFAULT_IMAGE: dir`);
    expect(r.stdout).toContain('ok    bind /etc/hosts: CJW_BINDS /etc/hosts!: present');
    expect(lines.at(-1)).toBe('healthy: this node can run jobs through the wrapper');

    const a = check(cfg, true);
    expect(a.status).toBe(0);
    const ad = adOf(a.stdout);
    expect(ad.get('CJW_Healthy')).toBe('true');
    expect(ad.get('CJW_Reason')).toBe('""');
    expect(ad.get('CJW_RuntimeVersion')).toBe('"1.3.6"');
    expect(ad.get('CJW_RuntimeFamily')).toBe('"apptainer"');
    expect(ad.get('CJW_Mode')).toBe('"REQUIRED"');
    expect(ad.get('CJW_Nested')).toBe('false');
  });

  itS34('real Singularity 3.4.2: version 3.4.2, setuid helper found; as root the cache is written root-owned 0644', () => {
    const cfg = config([`CJW_RUNTIME=${S34}`]);
    const r = check(cfg);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`ok    runtime ${S34}: Singularity 3.4.2 (version cached in ${cacheFile(S34)})`);
    expect(r.stdout).toMatch(/ok {4}privileges: \/opt\/singularity-3\.4\.2\/libexec\/singularity\/bin\/starter-suid is setuid root/);
    if (IS_ROOT) {
      const st = statSync(cacheFile(S34));
      expect(st.uid).toBe(0);
      expect(st.mode & 0o777).toBe(0o644);
      expect(statSync(CACHE_DIR).mode & 0o022).toBe(0);
      const entry = JSON.parse(readFileSync(cacheFile(S34), 'utf8')) as { family: string; version: string; path: string };
      expect(entry).toMatchObject({ family: 'singularity3', version: '3.4.2', path: S34 });
    }
  });

  itRoot('as the job user (condoruser) the cache is not written, and the report says why', () => {
    const rt = fakeApptainer();
    const cfg = config([`CJW_RUNTIME=${rt}`]);
    chmodSync(join(cfg, '..'), 0o755);
    const r = spawnSync('/usr/sbin/runuser', ['-u', 'condoruser', '--', BUNDLE, '--config', cfg, '--check'], { env: {}, encoding: 'utf8', cwd: '/' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('(cache not written: not running as root (jobs trust only a cache root wrote))');
    expect(existsSync(cacheFile(rt))).toBe(false);
  });
});

describe('--check on a broken node', () => {
  const cases: [string, () => string[], number, RegExp][] = [
    ['runtime missing under REQUIRED', () => ['CJW_MODE=REQUIRED', 'CJW_RUNTIME=/nonexistent/bin/apptainer'], 69, /FAIL {2}runtime \/nonexistent\/bin\/apptainer: not found or not executable \(CJW_MODE=REQUIRED\)/],
    ['an unknown config key', () => ['CJW_BIND=/x'], 78, /^FAIL {2}config \/\S+\/wrapper\.env: unknown key CJW_BIND \(did you mean CJW_BINDS\?\)$/m],
    ['a CJW_EXTRA_ARGS entry the runtime does not know', () => [`CJW_RUNTIME=${fakeApptainer()}`, 'CJW_EXTRA_ARGS=--bogus'], 78, /FAIL {2}CJW_EXTRA_ARGS: /],
    ['a required bind source missing', () => [`CJW_RUNTIME=${fakeApptainer()}`, 'CJW_BINDS=/nonexistent/data!'], 69, /FAIL {2}bind \/nonexistent\/data: CJW_BINDS \/nonexistent\/data!: required source is missing/],
    ['the default image missing', () => [`CJW_RUNTIME=${fakeApptainer()}`, 'CJW_DEFAULT_IMAGE=/nonexistent/el9.sif'], 69, /FAIL {2}image \/nonexistent\/el9\.sif: CJW_DEFAULT_IMAGE: does not exist/],
    ['a hook that is not executable', () => {
      const d = tempDir('cjw-hooks-');
      writeFileSync(join(d, '10-check'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
      return [`CJW_RUNTIME=${fakeApptainer()}`, `CJW_TEST_DIR=${d}`];
    }, 78, /FAIL {2}test hooks .*: test hook .*10-check: not executable/],
    ['a hook directory that does not exist', () => [`CJW_RUNTIME=${fakeApptainer()}`, 'CJW_SETUP_DIR=/nonexistent/setup.d'], 78, /FAIL {2}setup hooks \/nonexistent\/setup\.d: .*cannot read it: ENOENT/],
  ];

  it.each(cases)('%s: named in the report and in CJW_Reason, with its exit code', (_n, lines, code, line) => {
    const cfg = config(lines());
    const r = check(cfg);
    expect(r.status).toBe(code);
    expect(r.stdout).toMatch(line);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^UNHEALTHY: \\d check\\(s\\) failed \\(exit ${code}\\)$`));
    const a = check(cfg, true);
    expect(a.status).toBe(0);
    const ad = adOf(a.stdout);
    expect(ad.get('CJW_Healthy')).toBe('false');
    expect(ad.get('CJW_CheckExitCode')).toBe(String(code));
    expect(ad.get('CJW_Reason')).toMatch(/^".+"$/);
  });

  itS34('CJW_GPU_FLAG=--rocm on Singularity 3.4.2: exit 78 (SPEC S5.5)', () => {
    const r = check(config([`CJW_RUNTIME=${S34}`, 'CJW_GPU_FLAG=--rocm']));
    expect(r.status).toBe(78);
    expect(r.stdout).toContain('FAIL  CJW_GPU_FLAG: --rocm: Singularity 3.4.2 has no --rocm (added in 3.5)');
  });

  it('a missing but optional bind source is a warning, not a failure', () => {
    const r = check(config([`CJW_RUNTIME=${fakeApptainer()}`, 'CJW_BINDS=/nonexistent/opt']));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('WARN  bind /nonexistent/opt: CJW_BINDS /nonexistent/opt: source missing: jobs run without it');
  });

  it('--check with a command is a usage error (64)', () => {
    const r = runWrapper(['--check', '/bin/true']);
    expect(r.status).toBe(64);
  });

  it('the STARTD_CRON snippet runs USER_JOB_WRAPPER itself with --check --classad every 50 s, only when it is set', () => {
    const text = readFileSync(join(__dirname, '../../condor-config/startd-cron-healthcheck.conf'), 'utf8');
    // The same program and config as jobs (a shim's --config included): nothing to set twice.
    expect(text).toMatch(/^STARTD_CRON_CJW_EXECUTABLE = \$\(USER_JOB_WRAPPER\)$/m);
    expect(text).toMatch(/^STARTD_CRON_CJW_ARGS = --check --classad$/m);
    expect(text).toMatch(/^STARTD_CRON_CJW_PERIOD = 50s$/m);
    expect(text).toMatch(/^if defined USER_JOB_WRAPPER\nSTARTD_CRON_JOBLIST = \$\(STARTD_CRON_JOBLIST\) CJW\nendif$/m);
    // No veto when the wrapper is off, when there is no verdict, or when the verdict is stale.
    expect(text).toMatch(/^START = \(\$\(START\)\) && \(\(MY\.CJW_Healthy =!= false\) \|\| \("\$\(USER_JOB_WRAPPER\)" == ""\) \|\| \(\(\(time\(\) - MY\.CJW_CheckedAt\) > \$\(CJW_HEALTH_STALE_AFTER\)\) =\?= true\)\)$/m);
  });

  it('--check --classad stamps its verdict with CJW_CheckedAt (the START expression ignores a stale one)', () => {
    const before = Math.floor(Date.now() / 1000);
    const ad = adOf(check(config([`CJW_RUNTIME=${fakeApptainer()}`]), true).stdout);
    const at = Number(ad.get('CJW_CheckedAt'));
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });
});

describe('config problems: all at once, each once (SPEC S8), and --check --config NEW lints before a push', () => {
  const candidate = (): string => config(['CJW_BIND=/x', 'CJW_MODE=sometimes', 'CJW_IMAGE_ALLOW=/cvmfs/**,tmp/images/*', 'CJW_LOG=file:relative.log']);

  it('every problem on its own line, the file named once per line, exit 78', () => {
    const cfg = candidate();
    const r = check(cfg);
    expect(r.status).toBe(78);
    const fails = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(fails).toEqual([
      `FAIL  config ${cfg}: unknown key CJW_BIND (did you mean CJW_BINDS?)`,
      `FAIL  config ${cfg}: CJW_MODE=sometimes is not one of NEVER, OPTIONAL, PREFERRED, REQUIRED (any case); REQUIRED_GWMS is accepted as REQUIRED`,
      `FAIL  config ${cfg}: CJW_IMAGE_ALLOW=/cvmfs/**,tmp/images/* is not a list of absolute paths or globs (* within a directory, ** across), or URIs: entry "tmp/images/*" is neither an absolute path nor a URI`,
      `FAIL  config ${cfg}: CJW_LOG=file:relative.log is not off, syslog or file:/absolute/path`,
    ]);
    expect(r.stdout).not.toMatch(/config[^\n]*: config /);
    const ad = adOf(check(cfg, true).stdout);
    expect(ad.get('CJW_CheckExitCode')).toBe('78');
    expect(ad.get('CJW_Reason')?.match(/unknown key|is not/g)).toHaveLength(4);
  });

  it('a job with that config: one line naming the first problem and counting the rest', () => {
    const cfg = candidate();
    const rt = standin('apptainer');
    const r = runWrapper(['--config', cfg, rt.path, 'exec', '/img', '/bin/true']);
    expect(r.status).toBe(78);
    expect(r.stderr).toBe(`condor-job-wrapper: node error: config ${cfg}: unknown key CJW_BIND (did you mean CJW_BINDS?) (and 3 more config problems: condor-job-wrapper --check lists them)\n`);
  });

  it('a clean candidate lints with exit 0', () => {
    const r = check(config([`CJW_RUNTIME=${fakeApptainer()}`, 'CJW_IMAGE_ALLOW=/cvmfs/**']));
    expect(r.status).toBe(0);
  });
});

describe('--check judges what a job user meets, also when run as root (SPEC S9)', () => {
  const rt = fakeApptainer();

  it('a 0600 config file: FAIL 78, although root can read it', () => {
    const cfg = config([`CJW_RUNTIME=${rt}`]);
    chmodSync(cfg, 0o600);
    const r = check(cfg);
    expect(r.status).toBe(78);
    expect(r.stdout).toContain(`FAIL  config ${cfg}: a job user cannot read it (mode 0600`);
    expect(adOf(check(cfg, true).stdout).get('CJW_Healthy')).toBe('false');
  });

  it('a config file in a 0700 directory: FAIL 78, naming the directory', () => {
    const cfg = config([`CJW_RUNTIME=${rt}`]);
    const dir = join(cfg, '..');
    chmodSync(dir, 0o700);
    const r = check(cfg);
    expect(r.status).toBe(78);
    expect(r.stdout).toContain(`FAIL  config ${cfg}: directory ${dir} (mode 0700`);
  });

  it('a 0700 hook and a 0700 hook directory: FAIL 78 each', () => {
    const d = tempDir('cjw-hooks-');
    writeFileSync(join(d, '10-check'), '#!/bin/sh\nexit 0\n', { mode: 0o700 });
    const inside = join(tempDir('cjw-hooks-'), 'inside.d');
    mkdirSync(inside, { mode: 0o700 });
    const r = check(config([`CJW_RUNTIME=${rt}`, `CJW_TEST_DIR=${d}`, `CJW_INSIDE_DIR=${inside}`]));
    expect(r.status).toBe(78);
    expect(r.stdout).toContain(`FAIL  test hook ${d}/10-check: a job user cannot read and execute it (mode 0700`);
    expect(r.stdout).toContain(`FAIL  inside hooks ${inside}: a job user cannot read and execute it (mode 0700`);
  });

  it('a binary hook needs only execute permission; a group-only file is a warning', () => {
    const d = tempDir('cjw-hooks-');
    writeFileSync(join(d, '10-bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46]), { mode: 0o711 });
    const cfg = config([`CJW_RUNTIME=${rt}`, `CJW_SETUP_DIR=${d}`]);
    spawnSync('chgrp', ['daemon', cfg]);
    chmodSync(cfg, 0o640);
    const r = check(cfg);
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout).toContain(`ok    setup hooks ${d}: job users can run them`);
    expect(r.stdout).toMatch(new RegExp(`WARN  config ${cfg}: only group \\d+ may read it \\(mode 0640\\): every job user must be in that group`));
  });

  it('the wrapper itself in a directory job users cannot enter: FAIL 69, and the verdict says unhealthy', () => {
    const dir = tempDir('cjw-install-');
    const copy = join(dir, 'condor-job-wrapper');
    writeFileSync(copy, readFileSync(BUNDLE));
    chmodSync(copy, 0o755);
    chmodSync(dir, 0o700);
    const cfg = config([`CJW_RUNTIME=${rt}`]);
    const r = runWrapper(['--config', cfg, '--check'], { wrapper: copy });
    expect(r.status).toBe(69);
    expect(r.stdout).toContain(`FAIL  wrapper ${copy}: directory ${dir} (mode 0700`);
    const ad = adOf(runWrapper(['--config', cfg, '--check', '--classad'], { wrapper: copy }).stdout);
    expect(ad.get('CJW_Healthy')).toBe('false');
  });

  it('jobUserAccess: the other bits decide, every directory on the way counts, group root is no group', () => {
    const tree: Record<string, ModeStat> = {
      '/': { mode: 0o755, uid: 0, gid: 0, isDir: true },
      '/etc': { mode: 0o755, uid: 0, gid: 0, isDir: true },
      '/etc/cjw': { mode: 0o750, uid: 0, gid: 0, isDir: true },
      '/etc/cjw/a.env': { mode: 0o644, uid: 0, gid: 0, isDir: false },
      '/etc/b.env': { mode: 0o640, uid: 0, gid: 0, isDir: false },
      '/etc/c.env': { mode: 0o640, uid: 0, gid: 42, isDir: false },
      '/etc/hook': { mode: 0o755, uid: 0, gid: 0, isDir: false },
    };
    const st = (p: string): ModeStat | undefined => tree[p];
    expect(jobUserAccess('/etc/cjw/a.env', ['r'], st)).toMatchObject({ level: 'no', why: expect.stringContaining('directory /etc/cjw (mode 0750') as unknown });
    expect(jobUserAccess('/etc/b.env', ['r'], st).level).toBe('no');
    expect(jobUserAccess('/etc/c.env', ['r'], st).level).toBe('group');
    expect(jobUserAccess('/etc/hook', ['r', 'x'], st)).toEqual({ level: 'ok', why: '' });
    expect(jobUserAccess('/etc/hook', ['w'], st).level).toBe('no');
  });
});

describe('CJW_LOG as the job user meets it (SPEC S9, S10)', () => {
  const rt = fakeApptainer();

  it('a log file every job user can write: reported as forgeable', () => {
    const log = join(tempDir('cjw-log-'), 'wrapper.log');
    writeFileSync(log, '', { mode: 0o666 });
    chmodSync(log, 0o666);
    const r = check(config([`CJW_RUNTIME=${rt}`, `CJW_LOG=file:${log}`]));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`WARN  CJW_LOG: file ${log}: every job user can write it, so a job can forge or erase records; CJW_LOG=syslog cannot be forged`);
  });

  it('a log file no job user can write: reported', () => {
    const log = join(tempDir('cjw-log-'), 'wrapper.log');
    writeFileSync(log, '', { mode: 0o644 });
    const r = check(config([`CJW_RUNTIME=${rt}`, `CJW_LOG=file:${log}`]));
    expect(r.stdout).toContain(`WARN  CJW_LOG: file ${log}: a job user cannot write it (mode 0644`);
  });

  const noDevLog = !existsSync('/dev/log');
  (noDevLog ? it : it.skip)('syslog without /dev/log: --check says so, and a job prints nothing about it', () => {
    const cfg = config([`CJW_RUNTIME=${rt}`, 'CJW_LOG=syslog']);
    const r = check(cfg);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/WARN {2}CJW_LOG: syslog: (\/dev\/log does not exist \(no syslog daemon or journald on this node\): job records are dropped|logger\(1\) not found)/);
    const run = standin('apptainer');
    const img = tempDir('cjw-img-');
    const job = runWrapper(['--config', cfg, run.path, 'exec', img, '/bin/true'], { env: { PATH: '/usr/bin:/bin' } });
    expect(job.status).toBe(0);
    expect(job.stderr).toBe('');
  });
});

describe('--help', () => {
  it('points at what the node has (the man page, the packages\' doc dir), not at the repository\'s docs/, and gives the essentials', () => {
    const r = runWrapper(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/(^|\s)docs\//);
    expect(r.stdout).toContain('man 8 condor-job-wrapper');
    expect(r.stdout).toContain('/usr/share/doc/condor-job-wrapper/');
    for (const s of ['--check --config NEW', '/etc/condor-job-wrapper/wrapper.env', 'CJW_MODE', '78 site config', 'Rollback']) expect(r.stdout).toContain(s);
  });
});
