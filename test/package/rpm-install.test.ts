// The RPM installed, upgraded and erased by rpm itself (Debian's rpm 4.18; EL9 has 4.16) in a
// throwaway overlay of the Debian pool root: the %post/%postun scripts with update-alternatives
// (the EL9 path /usr/sbin/update-alternatives is a link to Debian's tool here), %config(noreplace)
// keeping a changed wrapper.env and writing .rpmnew, the site's front choice kept. What this
// cannot show (EL9's own alternatives tool, dnf resolving nodejs >= 1:20) is in the report.
// Needs root, rpm, the pool root, overlayfs.

import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RPM, VERSION, describeWhen, hasTool, ok, run, NEXT, POOL_ROOT, packagesAndOverlay } from './pkg';

const STATIC = '/usr/lib/condor-job-wrapper/condor-job-wrapper-static';

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (rpm --root)';
  if (!existsSync(join(POOL_ROOT, 'usr/bin/update-alternatives'))) return `no pool root at ${POOL_ROOT} (bash ../shared/pool/install.sh)`;
  for (const t of ['rpm', 'rpmbuild', 'dpkg-deb', 'mount', 'umount']) if (!hasTool(t)) return `${t} is missing`;
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return 'no overlayfs in this kernel';
  return undefined;
}

describeWhen('the RPM with rpm in the pool root: install, upgrade keeping the site\'s files, erase', whyNot(), () => {
  let dir: string;
  let merged: string;
  let mounted = false;
  const at = (p: string): string => join(merged, p);
  const rpm = (args: readonly string[]): string => ok('rpm', ['--root', merged, '--dbpath', '/var/lib/rpm', ...args], { env: { ...process.env, LC_ALL: 'C' } });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cjw-rpm-root-'));
    merged = packagesAndOverlay(dir);
    mounted = true;
    // EL9's path for the tool (Debian's has the same --install/--set/--remove/--query).
    symlinkSync('/usr/bin/update-alternatives', at('/usr/sbin/update-alternatives'));
    mkdirSync(at('/var/lib/rpm'), { recursive: true });
    rpm(['--initdb']);
  }, 180_000);
  afterAll(() => {
    if (mounted) run('umount', [merged]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('install: %post registers both fronts, /bin/bash the default', () => {
    rpm(['-i', '--nodeps', join(dir, 'n', RPM())]);
    expect(rpm(['-q', 'condor-job-wrapper']).trim()).toBe(`condor-job-wrapper-${VERSION}-1.el9.noarch`);
    expect(readlinkSync(at('/usr/libexec/condor-job-wrapper'))).toBe('/etc/alternatives/condor-job-wrapper');
    expect(readlinkSync(at('/etc/alternatives/condor-job-wrapper'))).toBe('/usr/lib/condor-job-wrapper/condor-job-wrapper');
    expect(lstatSync(at('/etc/condor-job-wrapper/wrapper.env')).mode & 0o7777).toBe(0o644);
    // Every file as packaged (the rpmdb here holds no nodejs or bash: dependencies are not verified).
    expect(rpm(['-V', '--nodeps', 'condor-job-wrapper'])).toBe('');
  }, 60_000);

  test(`upgrade to ${NEXT}: the changed wrapper.env is kept (the new one as .rpmnew), the front choice too`, () => {
    appendFileSync(at('/etc/condor-job-wrapper/wrapper.env'), '\nCJW_MODE=REQUIRED\n');
    ok('chroot', [merged, '/usr/sbin/update-alternatives', '--set', 'condor-job-wrapper', STATIC]);
    const before = readFileSync(at('/etc/condor-job-wrapper/wrapper.env'), 'utf8');
    rpm(['-U', '--nodeps', join(dir, 'n1', RPM(NEXT))]);
    expect(rpm(['-q', 'condor-job-wrapper']).trim()).toBe(`condor-job-wrapper-${NEXT}-1.el9.noarch`);
    expect(readFileSync(at('/etc/condor-job-wrapper/wrapper.env'), 'utf8')).toBe(before);
    expect(readFileSync(at('/etc/condor-job-wrapper/wrapper.env.rpmnew'), 'utf8')).toContain('# changed in the next version');
    expect(readlinkSync(at('/etc/alternatives/condor-job-wrapper'))).toBe(STATIC);
    expect(ok('chroot', [merged, '/usr/sbin/update-alternatives', '--query', 'condor-job-wrapper'])).toMatch(/Status: manual/);
    expect(readlinkSync(at('/usr/libexec/condor-job-wrapper'))).toBe('/etc/alternatives/condor-job-wrapper');
  }, 60_000);

  test('erase: %postun drops the alternatives, %preun the caches; the changed config is saved as .rpmsave', () => {
    writeFileSync(at('/var/cache/condor-job-wrapper/check.json'), '{}');
    chmodSync(at('/var/cache/condor-job-wrapper/check.json'), 0o644);
    rpm(['-e', 'condor-job-wrapper']);
    expect(run('rpm', ['--root', merged, '--dbpath', '/var/lib/rpm', '-q', 'condor-job-wrapper']).status).not.toBe(0);
    expect(existsSync(at('/usr/lib/condor-job-wrapper'))).toBe(false);
    expect(() => lstatSync(at('/usr/libexec/condor-job-wrapper'))).toThrow();
    expect(() => lstatSync(at('/etc/alternatives/condor-job-wrapper'))).toThrow();
    expect(run('chroot', [merged, '/usr/sbin/update-alternatives', '--query', 'condor-job-wrapper']).status).not.toBe(0);
    expect(readFileSync(at('/etc/condor-job-wrapper/wrapper.env.rpmsave'), 'utf8')).toContain('CJW_MODE=REQUIRED');
    // %preun removed what --check cached, so the directory went with the package.
    expect(existsSync(at('/var/cache/condor-job-wrapper'))).toBe(false);
  }, 60_000);
});
