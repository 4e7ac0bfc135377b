// Whose line is it (SPEC S2): the pure decision table (decide/dispatch.ts) and the program trust
// probe (facts/program.ts) on real files.

import { chmodSync, chownSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { containerRequestOf, imageAgrees, nameClass, passthroughDecision, runtimeLineDecision, type LineFacts } from '../../src/decide/dispatch';
import { parseClassAd } from '../../src/facts/classad';
import { programTrust, type ProgramTrust } from '../../src/facts/program';
import { parseForRuntime } from '../../src/decide/rules/compat';

const RT = '/usr/bin/apptainer';
const SCRATCH = '/var/lib/condor/execute/dir_9';
const TRUSTED: ProgramTrust = { path: RT, real: RT, exists: true, trusted: true, why: 'root-owned' };
const ad = (text: string): ReturnType<typeof parseClassAd> => parseClassAd(text, '.job.ad');
const line = (image: string, workdir = SCRATCH): ReturnType<typeof parseForRuntime> => parseForRuntime([RT, '-s', 'exec', '-W', workdir, '-B', '/etc/ssl:/x', '-C', image, '/bin/true'], 'apptainer');

describe('nameClass', () => {
  it.each([
    ['/usr/sbin/sshd', 'sshd'],
    ['/usr/bin/apptainer', 'runtime'],
    ['/usr/bin/singularity', 'runtime'],
    ['/opt/x/run-singularity', 'runtime'],
    ['/bin/echo', 'other'],
    ['/opt/site/container-run', 'other'],
  ])('%s → %s', (p, want) => {
    expect(nameClass(p)).toBe(want);
  });

  it('config entries: basename or exact path', () => {
    expect(nameClass('/opt/site/container-run', ['container-run'])).toBe('runtime');
    expect(nameClass('/opt/site/my-sshd', [], ['/opt/site/my-sshd'])).toBe('sshd');
    expect(nameClass('/elsewhere/my-sshd', [], ['/opt/site/my-sshd'])).toBe('other');
  });
});

describe('passthroughDecision', () => {
  it('trusted → passthrough; untrusted → the job\'s payload, with the reason', () => {
    expect(passthroughDecision({ ...TRUSTED, path: '/usr/sbin/sshd' })).toMatchObject({ mode: 'passthrough' });
    expect(passthroughDecision({ path: '/s/sshd', exists: true, trusted: false, why: 'it lies inside the job\'s directory /s' })).toEqual({
      mode: 'wrapper-built',
      reason: '/s/sshd is named like sshd but is the job\'s own program: it lies inside the job\'s directory /s',
    });
  });
});

describe('imageAgrees', () => {
  const req = (text: string): ReturnType<typeof containerRequestOf> => containerRequestOf(ad(text));
  it.each([
    ['same path', '/cvmfs/a/el9:latest', 'SingularityImage = "/cvmfs/a/el9:latest"', true],
    ['trailing slash', '/img/sandbox/', 'ContainerImage = "/img/sandbox"', true],
    ['transferred copy, relative', 'busybox-sandbox', 'ContainerImage = "/img/busybox-sandbox"', true],
    ['transferred copy, under scratch', `${SCRATCH}/busybox.sif`, 'ContainerImage = "/img/busybox.sif"', true],
    ['relative image under the Iwd (no transfer)', '/home/u/job/relative-image.sif', 'SingularityImage = "relative-image.sif"\nIwd = "/home/u/job"', true],
    ['SingularityImage wins over ContainerImage (SINGULARITY_IMAGE_EXPR default)', '/a.sif', 'SingularityImage = "/a.sif"\nContainerImage = "/b.sif"', true],
    ['another image', '/other.sif', 'SingularityImage = "/a.sif"', false],
    ['same name elsewhere', '/tmp/a.sif', 'SingularityImage = "/img/a.sif"', false],
    ['docker image: only itself', 'docker://busybox', 'ContainerImage = "docker://busybox"', true],
    ['docker image: no "copy"', 'busybox', 'ContainerImage = "docker://busybox"', false],
    ['no image in the ad', '/a.sif', 'Owner = "u"', false],
    ['empty line image', '', 'SingularityImage = "/a.sif"', false],
  ])('%s', (_n, image, text, want) => {
    expect(imageAgrees(image, req(text), SCRATCH)).toBe(want);
  });
});

describe('runtimeLineDecision', () => {
  /** Overrides; an undefined value removes the fact. */
  type Over = { [K in keyof LineFacts]?: LineFacts[K] | undefined };
  const facts = (over: Over): LineFacts => {
    const all: Over = { trust: TRUSTED, explain: false, scratch: SCRATCH, workdir: SCRATCH, invocation: line('/a.sif'), jobAd: ad('SingularityImage = "/a.sif"'), ...over };
    return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as unknown as LineFacts;
  };
  it.each<[string, Over, 'starter-built' | 'wrapper-built', RegExp]>([
    ['agrees', {}, 'starter-built', /starter's container line: root-owned, and its image agrees with the job ad \(SingularityImage = "\/a.sif"\)/],
    ['untrusted program', { trust: { path: RT, exists: true, trusted: false, why: 'owned by uid 4242' } }, 'wrapper-built', /job's own command.*owned by uid 4242/],
    ['vanilla job ad (no image)', { jobAd: ad('Owner = "u"') }, 'wrapper-built', /names no image/],
    ['other image', { invocation: line('/b.sif') }, 'wrapper-built', /its image \/b.sif is not the job ad's/],
    ['-W elsewhere', { workdir: '/tmp' }, 'wrapper-built', /-W \(\/tmp\) is not the job's scratch dir/],
    ['no -W', { workdir: undefined }, 'wrapper-built', /-W \(absent\)/],
    ['does not parse', { invocation: undefined }, 'wrapper-built', /does not parse/],
    ['no job ad (not under a starter)', { jobAd: undefined }, 'starter-built', /no job ad to check the line against/],
    ['missing runtime file', { trust: { path: RT, exists: false, trusted: false, why: 'does not exist' } }, 'starter-built', /agrees/],
  ])('%s', (_n, over, mode, reason) => {
    const d = runtimeLineDecision('runtime', facts(over));
    expect(d.mode).toBe(mode);
    expect(d.reason).toMatch(reason);
  });

  it('a trusted program with another name whose line agrees: starter-built, "whatever the runtime is called"', () => {
    expect(runtimeLineDecision('other', facts({})).reason).toMatch(/whatever the runtime is called/);
  });

  it('a missing program that is not named like a runtime stays the job\'s', () => {
    expect(runtimeLineDecision('other', facts({ trust: { path: '/x/y', exists: false, trusted: false, why: 'does not exist' } })).mode).toBe('wrapper-built');
  });
});

describe('programTrust (real files)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cjw-trust-'));
  chmodSync(root, 0o755);
  const asRoot = process.getuid?.() === 0;
  const itRoot = asRoot ? it : it.skip;
  if (!asRoot) console.log('skipping the ownership cases of programTrust: not root (they chown files)');

  function file(rel: string, mode = 0o755, uid = 0): string {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(p, '#!/bin/sh\n', { mode });
    chmodSync(p, mode);
    if (asRoot) chownSync(p, uid, uid);
    return p;
  }

  itRoot('root-owned, 0755, in root-controlled dirs (a sticky /tmp counts): trusted', () => {
    const p = file('sbin/sshd');
    expect(programTrust(p, ['/var/empty-scratch'])).toMatchObject({ trusted: true, exists: true });
  });

  itRoot('owned by the job user: not trusted, whatever its mode', () => {
    const t = programTrust(file('u/sshd', 0o555, 4242), []);
    expect(t.trusted).toBe(false);
    expect(t.why).toMatch(/owned by uid 4242/);
  });

  itRoot('group- or other-writable: not trusted', () => {
    expect(programTrust(file('gw/apptainer', 0o775), []).why).toMatch(/writable by its group or others/);
  });

  itRoot('in a directory the job user owns: not trusted (it could replace the file)', () => {
    const p = file('home/bin/apptainer');
    chownSync(join(root, 'home/bin'), 4242, 4242);
    expect(programTrust(p, []).why).toMatch(/its directory .*home\/bin is not controlled by root alone/);
  });

  it('inside the job\'s scratch dir or cwd (also through a symlink): not trusted', () => {
    const scratch = join(root, 'scratch');
    const p = file('scratch/sshd');
    expect(programTrust(p, [scratch]).why).toMatch(/inside the job's directory/);
    const link = join(root, 'link-to-scratch-sshd');
    symlinkSync(p, link);
    expect(programTrust(link, [scratch]).why).toMatch(/inside the job's directory/);
    // A relative argv[1] is resolved against the process's cwd (the starter's: the job's sandbox).
    expect(programTrust(relative(process.cwd(), p), [scratch]).why).toMatch(/inside the job's directory/);
  });

  it('missing: not trusted, and says it does not exist', () => {
    expect(programTrust(join(root, 'nope/apptainer'), [])).toMatchObject({ exists: false, trusted: false });
  });

  it('a directory is not a program', () => {
    mkdirSync(join(root, 'd/sshd'), { recursive: true });
    expect(programTrust(join(root, 'd/sshd'), []).why).toMatch(/not a regular file/);
  });
});
