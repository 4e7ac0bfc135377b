// `npm run package` (SPEC S12): both packages build reproducibly, carry the layout, config files,
// scripts and requirements a site relies on, and pass rpmlint and lintian with no errors.
// Needs (Debian): rpm (rpmbuild), rpmlint, lintian, dpkg-deb, man-db; outside CI they skip.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELP } from '../../src/cli/options';
import { SCHEMA } from '../../src/facts/config/schema';
import { DEB, ROOT, RPM, VERSION, buildPackages, describeWhen, hasTool, ok, run, sha256 } from './pkg';

const TOOLS = ['rpmbuild', 'rpm', 'rpmlint', 'lintian', 'dpkg-deb', 'git'];
const missing = TOOLS.find((t) => !hasTool(t));

/** Every path both packages install (the RPM adds the alternatives link, the .deb its Debian files). */
const COMMON = [
  '/etc/condor-job-wrapper',
  '/etc/condor-job-wrapper/wrapper.env',
  '/etc/condor-job-wrapper/wrapper.env.d',
  '/etc/condor/config.d/50-condor-job-wrapper.conf',
  '/etc/condor/config.d/51-condor-job-wrapper-healthcheck.conf',
  '/usr/lib/condor-job-wrapper',
  '/usr/lib/condor-job-wrapper/condor-job-wrapper',
  '/usr/lib/condor-job-wrapper/condor-job-wrapper-static',
  '/usr/share/doc/condor-job-wrapper/README.md',
  '/usr/share/doc/condor-job-wrapper/access-point.conf',
  '/usr/share/doc/condor-job-wrapper/copyright',
  '/usr/share/doc/condor-job-wrapper/docs',
  '/usr/share/doc/condor-job-wrapper/docs/configuration.md',
  '/usr/share/doc/condor-job-wrapper/docs/deployment.md',
  '/usr/share/doc/condor-job-wrapper/docs/troubleshooting.md',
  '/usr/share/man/man8/condor-job-wrapper.8.gz',
  '/var/cache/condor-job-wrapper',
];
const CONFFILES = ['/etc/condor-job-wrapper/wrapper.env', '/etc/condor/config.d/50-condor-job-wrapper.conf', '/etc/condor/config.d/51-condor-job-wrapper-healthcheck.conf'];

describeWhen('npm run package', missing === undefined ? undefined : `${missing} is missing (Debian: apt-get install rpm rpmlint lintian)`, () => {
  let dir: string;
  let deb: string;
  let rpm: string;
  let x: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cjw-pkg-test-'));
    buildPackages(join(dir, 'a'));
    deb = join(dir, 'a', DEB());
    rpm = join(dir, 'a', RPM());
    x = join(dir, 'x');
    ok('dpkg-deb', ['-x', deb, x]);
  }, 120_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('a second build, under another umask, time zone and directory, gives the same bytes', () => {
    // Same commit, other surroundings: only SOURCE_DATE_EPOCH (the commit's) may reach the bytes.
    const out = join(dir, 'b');
    ok('sh', ['-c', 'umask 077; exec "$@"', 'sh', process.execPath, join(ROOT, 'scripts/package.mjs'), '--out', out], { cwd: tmpdir(), env: { ...process.env, TZ: 'Asia/Tokyo' } });
    expect(sha256(join(out, DEB()))).toBe(sha256(deb));
    expect(sha256(join(out, RPM()))).toBe(sha256(rpm));
  }, 120_000);

  test('the RPM: name, release, noarch, the fixed build host and the last commit as build time', () => {
    const commit = ok('git', ['log', '-1', '--format=%ct'], { cwd: ROOT }).trim();
    expect(ok('rpm', ['-qp', '--qf', '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{BUILDHOST} %{BUILDTIME}', rpm])).toBe(`condor-job-wrapper ${VERSION} 1.el9 noarch reproducible ${commit}`);
  });

  test('the RPM file list: the layout, the alternatives link, the config files noreplace', () => {
    const files = ok('rpm', ['-qlp', rpm]).trim().split('\n');
    expect(files).toEqual(expect.arrayContaining([...COMMON, '/usr/libexec/condor-job-wrapper', '/etc/alternatives/condor-job-wrapper']));
    expect(files.filter((f) => !f.startsWith('/usr/share/doc/condor-job-wrapper/docs/'))).toHaveLength(COMMON.filter((f) => !f.startsWith('/usr/share/doc/condor-job-wrapper/docs/')).length + 2);
    // FILEFLAGS: c = %config, n = noreplace, g = %ghost.
    const flags = new Map(ok('rpm', ['-qp', '--qf', '[%{FILEFLAGS:fflags} %{FILENAMES}\n]', rpm]).trim().split('\n').map((l) => [l.slice(l.indexOf(' ') + 1), l.slice(0, l.indexOf(' '))]));
    for (const f of CONFFILES) expect(flags.get(f)).toBe('cn');
    expect(ok('rpm', ['-qcp', rpm]).trim().split('\n').sort()).toEqual([...CONFFILES].sort());
    expect(flags.get('/etc/alternatives/condor-job-wrapper')).toContain('g');
    expect(ok('rpm', ['-qp', '--qf', '[%{FILEMODES:perms} %{FILELINKTOS} %{FILENAMES}\n]', rpm])).toContain('lrwxrwxrwx /etc/alternatives/condor-job-wrapper /usr/libexec/condor-job-wrapper');
  });

  test('the RPM requires Node.js >= 20 by the EL9 module streams\' name and epoch, and not the static bash', () => {
    const req = ok('rpm', ['-qp', '-R', rpm]).trim().split('\n').map((l) => l.trim());
    expect(req).toContain('nodejs >= 1:20');
    expect(req).toContain('/usr/sbin/update-alternatives');
    expect(req.filter((r) => r.includes('bash-static'))).toEqual([]);
  });

  test('the RPM scripts register both fronts on install and drop them on erase only', () => {
    const scripts = ok('rpm', ['-qp', '--scripts', rpm]);
    const post = /postinstall scriptlet[^\n]*\n([\s\S]*?)(?=\n\S+ scriptlet|$)/.exec(scripts)?.[1] ?? '';
    const postun = /postuninstall scriptlet[^\n]*\n([\s\S]*?)(?=\n\S+ scriptlet|$)/.exec(scripts)?.[1] ?? '';
    expect(post).toMatch(/update-alternatives --install \/usr\/libexec\/condor-job-wrapper condor-job-wrapper \\\n\s+\/usr\/lib\/condor-job-wrapper\/condor-job-wrapper 50/);
    expect(post).toMatch(/\/usr\/lib\/condor-job-wrapper\/condor-job-wrapper-static 10/);
    expect(postun).toMatch(/if \[ "\$1" -eq 0 \]; then\n(\s+\/usr\/sbin\/update-alternatives --remove condor-job-wrapper \S+\n){2}fi/);
    const preun = /preuninstall scriptlet[^\n]*\n([\s\S]*?)(?=\n\S+ scriptlet|$)/.exec(scripts)?.[1] ?? '';
    // The caches --check wrote, and the hard links to Node binaries it chose V8 flags for.
    expect(preun).toMatch(/^if \[ "\$1" -eq 0 \]; then\n\s+rm -f \/var\/cache\/condor-job-wrapper\/\*\.json \/var\/cache\/condor-job-wrapper\/\*\.bin \/var\/cache\/condor-job-wrapper\/htcondor-singularity\n\s+rm -f \/var\/cache\/condor-job-wrapper\/node\/jitless\*\n\s+rmdir \/var\/cache\/condor-job-wrapper\/node 2>\/dev\/null \|\| :\nfi/m);
    expect(scripts).not.toMatch(/pretrans|posttrans/);
    // Each script is valid sh.
    for (const s of [post, preun, postun]) expect(run('sh', ['-n'], { input: s }).status).toBe(0);
  });

  test('rpmlint: no errors', () => {
    const r = run('rpmlint', ['-r', join(ROOT, 'packaging/rpm/condor-job-wrapper.rpmlintrc'), rpm]);
    expect(`${r.stdout}${r.stderr}`).toMatch(/ 0 errors, /);
  });

  test('the .deb: control fields, conffiles and the same layout as the RPM', () => {
    expect(ok('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture', 'Depends'])).toBe(`Package: condor-job-wrapper\nVersion: ${VERSION}\nArchitecture: all\nDepends: nodejs (>= 20)\n`);
    const ctl = join(dir, 'ctl');
    ok('dpkg-deb', ['-e', deb, ctl]);
    expect(readFileSync(join(ctl, 'conffiles'), 'utf8').trim().split('\n').sort()).toEqual([...CONFFILES].sort());
    const files = ok('dpkg-deb', ['-c', deb]).trim().split('\n').map((l) => l.replace(/^.* \.\//, '/').replace(/\/$/, ''));
    expect(files).toEqual(expect.arrayContaining([...COMMON, '/usr/share/doc/condor-job-wrapper/changelog.gz', '/usr/share/lintian/overrides/condor-job-wrapper']));
    expect(files.filter((f) => f !== '' && !/^\/(etc|usr|var)(\/|$)/.test(f))).toEqual([]);
    // Every owner root, whoever built it.
    expect(ok('dpkg-deb', ['-c', deb]).split('\n').filter((l) => l !== '' && !l.includes(' root/root '))).toEqual([]);
  });

  test('lintian: no errors', () => {
    const r = run('lintian', ['--fail-on', 'error', deb]);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('E:'))).toEqual([]);
    expect(r.status).toBe(0);
  });

  test('the two fronts are the committed bundle, one under /bin/bash and one under /bin/bash-static', () => {
    const bundle = readFileSync(join(ROOT, 'wrapper/condor-job-wrapper'), 'utf8');
    const bash = readFileSync(join(x, 'usr/lib/condor-job-wrapper/condor-job-wrapper'), 'utf8');
    const stat = readFileSync(join(x, 'usr/lib/condor-job-wrapper/condor-job-wrapper-static'), 'utf8');
    expect(bash).toBe(bundle);
    expect(stat).toBe(bundle.replace(/^#!\/bin\/bash -p\n/, '#!/bin/bash-static -p\n'));
    expect(stat).not.toBe(bundle);
  });

  test('the installed snippets enable nothing: USER_JOB_WRAPPER and the health check\'s job list are commented', () => {
    const worker = readFileSync(join(x, 'etc/condor/config.d/50-condor-job-wrapper.conf'), 'utf8');
    const active = (t: string): string[] => t.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    expect(worker).toContain('\n#USER_JOB_WRAPPER = /usr/libexec/condor-job-wrapper\n');
    // Every setting sits inside the one condition.
    const lines = active(worker);
    expect(lines[0]).toBe('if defined USER_JOB_WRAPPER');
    expect(lines[lines.length - 1]).toBe('endif');
    expect(lines.filter((l) => /^\s*USER_JOB_WRAPPER\s*=/.test(l))).toEqual([]);
    const health = readFileSync(join(x, 'etc/condor/config.d/51-condor-job-wrapper-healthcheck.conf'), 'utf8');
    expect(health).toContain('\n#STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) CJW\n');
    expect(active(health).filter((l) => l.startsWith('STARTD_CRON_JOBLIST'))).toEqual([]);
    expect(readFileSync(join(x, 'etc/condor-job-wrapper/wrapper.env'), 'utf8')).toBe(readFileSync(join(ROOT, 'condor-config/wrapper.env.example'), 'utf8'));
  });

  test('condor-job-wrapper(8) carries every option of --help and every configuration key, and renders without warnings', () => {
    const page = ok('sh', ['-c', 'gzip -dc "$1"', 'sh', join(x, 'usr/share/man/man8/condor-job-wrapper.8.gz')]);
    const plain = page.replace(/\\-/g, '-').replace(/\\f[BIR]/g, '');
    for (const opt of HELP.match(/^ {2}(-\S+)/gm) ?? []) expect(plain).toContain(`.B ${opt.trim()}`);
    for (const spec of SCHEMA) expect(plain).toContain(`.B ${spec.key}`);
    expect(page).toMatch(new RegExp(`^\\.TH CONDOR\\\\-JOB\\\\-WRAPPER 8 "\\d{4}-\\d{2}-\\d{2}" "condor\\\\-job\\\\-wrapper ${VERSION.replace(/\./g, '\\.')}"`, 'm'));
    if (hasTool('man')) {
      const r = run('man', ['--warnings', '-l', join(x, 'usr/share/man/man8/condor-job-wrapper.8.gz')], { env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' } });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('CONDOR-JOB-WRAPPER(8)');
    }
  });
});
