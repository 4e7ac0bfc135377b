// --check's install report (src/cli/checkInstall.ts) on staged nodes: which Node and whether root
// alone chose it, the packages' front alternative, and what is left to turn on in HTCondor.

import type { CheckResult } from '../../src/cli/check';
import { LAYOUT, condorItems, frontItems, nodeItems, withInstallCheck, type FileInfo, type InstallProbe } from '../../src/cli/checkInstall';

const file = (mode: number, uid = 0): FileInfo => ({ uid, mode: 0o100000 | mode, isSymlink: false, isFile: true });
const dirInfo = (mode: number, uid = 0): FileInfo => ({ uid, mode: 0o040000 | mode, isSymlink: false, isFile: false });
const link: FileInfo = { uid: 0, mode: 0o120777, isSymlink: true, isFile: false };

/** A node: paths to lstat results, links to their targets, HTCondor knobs (null: not defined). */
function node(files: Record<string, FileInfo>, links: Record<string, string> = {}, condor: Record<string, string | null> | 'absent' = {}): InstallProbe {
  const real = (p: string): string | undefined => {
    let cur = p;
    for (let i = 0; i < 10 && links[cur] !== undefined; i++) cur = links[cur] ?? cur;
    const f = files[cur];
    return f !== undefined && !f.isSymlink ? cur : undefined;
  };
  return {
    lstat: (p) => files[p],
    stat: (p) => {
      const r = real(p);
      return r === undefined ? undefined : files[r];
    },
    realpath: real,
    readlink: (p) => links[p],
    condorConfig: (name) => (condor === 'absent' ? undefined : (condor[name] ?? null)),
  };
}

describe('nodeItems', () => {
  test('no /etc choice: the default, and how to choose', () => {
    const [item] = nodeItems(node({}));
    expect(item?.status).toBe('ok');
    expect(item?.text).toMatch(/^\/usr\/bin\/node \(the default; v\d+/);
    expect(item?.text).toContain('root makes /etc/condor-job-wrapper/node a symlink');
  });
  test('a root-owned link to a root-owned Node: ok, naming the target', () => {
    const n = node({ [LAYOUT.nodeLink]: link, '/etc/condor-job-wrapper': dirInfo(0o755), '/opt/node22/bin/node': file(0o755) }, { [LAYOUT.nodeLink]: '/opt/node22/bin/node' });
    expect(nodeItems(n).map((i) => [i.status, i.text.split(' (')[0]])).toEqual([['ok', '/etc/condor-job-wrapper/node -> /opt/node22/bin/node']]);
  });
  test.each([
    ['a directory others may write', { '/etc/condor-job-wrapper': dirInfo(0o777) }, /\/etc\/condor-job-wrapper: mode 0777 \(group or others may write\)/],
    ['a directory owned by a user', { '/etc/condor-job-wrapper': dirInfo(0o755, 1000) }, /owned by uid 1000, not root/],
    ['a Node a user owns', { '/etc/condor-job-wrapper': dirInfo(0o755), '/opt/node22/bin/node': file(0o755, 4242) }, /-> \/opt\/node22\/bin\/node: owned by uid 4242/],
    ['a group-writable Node', { '/etc/condor-job-wrapper': dirInfo(0o755), '/opt/node22/bin/node': file(0o775) }, /mode 0775/],
    ['a dangling link', { '/etc/condor-job-wrapper': dirInfo(0o755) }, /-> \/opt\/node22\/bin\/node: does not exist: every job fails \(exit 70\)/],
    ['a target that is not executable', { '/etc/condor-job-wrapper': dirInfo(0o755), '/opt/node22/bin/node': file(0o644) }, /not an executable file/],
  ])('%s: FAIL, a config error', (_, files, why) => {
    const [item] = nodeItems(node({ [LAYOUT.nodeLink]: link, ...files }, { [LAYOUT.nodeLink]: '/opt/node22/bin/node' }));
    expect(item?.status).toBe('fail');
    expect(item?.code).toBe(78);
    expect(item?.text).toMatch(why);
  });
  test('a regular file (Node copied there) is checked itself', () => {
    const n = node({ [LAYOUT.nodeLink]: file(0o757), '/etc/condor-job-wrapper': dirInfo(0o755) });
    expect(nodeItems(n)[0]?.text).toMatch(/^\/etc\/condor-job-wrapper\/node: mode 0757/);
  });
});

describe('frontItems', () => {
  const alt = (target: string, extra: Record<string, FileInfo> = {}): InstallProbe =>
    node({ [LAYOUT.wrapper]: link, '/etc/alternatives/condor-job-wrapper': link, [target]: file(0o755), ...extra }, { [LAYOUT.wrapper]: '/etc/alternatives/condor-job-wrapper', '/etc/alternatives/condor-job-wrapper': target });
  test('single-file install (no alternative): nothing to say here', () => {
    expect(frontItems(node({ [LAYOUT.wrapper]: file(0o755) }), LAYOUT.wrapper)).toEqual([]);
  });
  test('the /bin/bash front: a warning with the command that hardens it', () => {
    const [item] = frontItems(alt(LAYOUT.fronts.bash, { '/bin/bash-static': file(0o755) }), LAYOUT.wrapper);
    expect(item?.status).toBe('warn');
    expect(item?.text).toMatch(/to harden: update-alternatives --set condor-job-wrapper \/usr\/lib\/condor-job-wrapper\/condor-job-wrapper-static$/);
  });
  test('the /bin/bash front without the static bash: install it first', () => {
    expect(frontItems(alt(LAYOUT.fronts.bash), LAYOUT.wrapper)[0]?.text).toContain('install the static bash at /bin/bash-static (Debian: apt-get install bash-static), then update-alternatives');
  });
  test('the static front: ok when its shell exists, FAIL when it does not', () => {
    expect(frontItems(alt(LAYOUT.fronts.static, { '/bin/bash-static': file(0o755) }), LAYOUT.wrapper)[0]?.status).toBe('ok');
    const [missing] = frontItems(alt(LAYOUT.fronts.static), LAYOUT.wrapper);
    expect(missing?.status).toBe('fail');
    expect(missing?.text).toContain('/bin/bash-static is missing: every job fails');
  });
});

describe('condorItems', () => {
  test('not enabled: the one line to uncomment, and the health check', () => {
    const items = condorItems(node({}, {}, { STARTD_CRON_JOBLIST: null }), LAYOUT.wrapper);
    expect(items.map((i) => i.status)).toEqual(['warn', 'warn']);
    expect(items[0]?.text).toContain('uncomment "USER_JOB_WRAPPER = /usr/libexec/condor-job-wrapper" in /etc/condor/config.d/50-condor-job-wrapper.conf');
    expect(items[1]?.text).toContain('uncomment "STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) CJW"');
  });
  test('enabled, with the health check: ok and nothing more', () => {
    const items = condorItems(node({}, {}, { USER_JOB_WRAPPER: '/usr/libexec/condor-job-wrapper', STARTD_CRON_JOBLIST: 'OTHER CJW' }), LAYOUT.wrapper);
    expect(items.map((i) => [i.status, i.text])).toEqual([['ok', 'USER_JOB_WRAPPER = /usr/libexec/condor-job-wrapper']]);
  });
  test('another wrapper configured: a warning naming it', () => {
    expect(condorItems(node({}, {}, { USER_JOB_WRAPPER: '/opt/other', STARTD_CRON_JOBLIST: 'CJW' }), LAYOUT.wrapper)[0]?.text).toMatch(/^USER_JOB_WRAPPER = \/opt\/other: not \/usr\/libexec\/condor-job-wrapper/);
  });
  test('no condor_config_val: say so', () => {
    expect(condorItems(node({}, {}, 'absent'), LAYOUT.wrapper).map((i) => i.status)).toEqual(['warn']);
  });
});

test('withInstallCheck: an install FAIL makes the node unhealthy with exit 78; warnings do not', () => {
  const base: CheckResult = { items: [{ status: 'ok', area: 'config', text: 'x' }], healthy: true, exitCode: 0, userNamespaces: true };
  const bad = withInstallCheck(base, LAYOUT.wrapper, node({ [LAYOUT.nodeLink]: link, '/etc/condor-job-wrapper': dirInfo(0o777) }, {}, {}));
  expect([bad.healthy, bad.exitCode]).toEqual([false, 78]);
  const fine = withInstallCheck(base, LAYOUT.wrapper, node({}, {}, {}));
  expect([fine.healthy, fine.exitCode, fine.items.length]).toEqual([true, 0, 4]);
});
