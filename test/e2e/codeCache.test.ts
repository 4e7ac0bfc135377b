// V8's code cache (scripts/loader.js, src/act/codeCache.ts): `--check` as root writes it, jobs use
// it only when it is root-owned and root-writable alone, and a stale or forged cache never
// changes what runs. Other suites may run the wrapper meanwhile: every state here is one in
// which the wrapper still works, so they cannot be disturbed.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBundle, IN_CI, installWrapper, runWrapper, standin, tempDir } from './harness';

const isRoot = process.getuid?.() === 0;
const CONDORUSER = 1001;

function cacheFileOf(wrapper: string): string {
  const m = /code cache: (\S+): /.exec(runWrapper(['--version'], { wrapper }).stdout);
  if (m?.[1] === undefined) throw new Error('--version did not name the code cache');
  return m[1];
}

const state = (wrapper: string): string => (/code cache: \S+: (.*)\n/.exec(runWrapper(['--version'], { wrapper }).stdout)?.[1] ?? '');

if (!isRoot && !IN_CI) {
  it.skip('code cache tests need root (they write /var/cache/condor-job-wrapper)', () => undefined);
} else {
  describeBundle('code cache on $label', ({ path: node }) => {
    const wrapper = installWrapper(node);
    const file = cacheFileOf(wrapper);
    const job = (): void => {
      const rt = standin('apptainer');
      const r = runWrapper([rt.path, 'exec', '--bogus-unknown-flag', 'img', '/bin/true'], { wrapper });
      // The decision is the same whatever the cache: the unknown flag is still refused with 64.
      expect(r.status).toBe(64);
      expect(r.stderr).toContain('--bogus-unknown-flag');
    };

    it('--check as root writes it 0644 root-owned, and the next run uses it', () => {
      const r = runWrapper(['--check'], { wrapper });
      expect(r.stdout).toMatch(/ok {4}code cache: wrote \/var\/cache\/condor-job-wrapper\/code-[0-9a-f]{16}-v\d+\.\d+\.\d+-x64\.bin \(\d+ KiB; was /);
      const st = statSync(file);
      expect(st.uid).toBe(0);
      expect(st.mode & 0o777).toBe(0o644);
      expect(state(wrapper)).toBe('used');
      job();
    });

    it('is ignored when a job user could have written it', () => {
      runWrapper(['--check'], { wrapper });
      chmodSync(file, 0o666);
      expect(state(wrapper)).toBe('ignored (not a root-only file)');
      job();
      chmodSync(file, 0o644);
      chownSync(file, CONDORUSER, CONDORUSER);
      expect(state(wrapper)).toBe('ignored (not a root-only file)');
      job();
      chownSync(file, 0, 0);
      expect(state(wrapper)).toBe('used');
    });

    it('a root-owned but damaged cache is rejected by V8 and the job decides as before', () => {
      const good = readFileSync(file);
      writeFileSync(file, Buffer.alloc(good.length, 0x5a));
      expect(state(wrapper)).toBe('rejected by V8 (stale)');
      job();
      writeFileSync(file, good);
      expect(state(wrapper)).toBe('used');
    });

    it('a site CJW_IMAGE_ALLOW without CJW_DEFAULT_IMAGE: the warm-up still runs the whole job path', () => {
      const cfg = join(tempDir('cjw-cc-'), 'site.env');
      writeFileSync(cfg, 'CJW_MODE=REQUIRED\nCJW_IMAGE_ALLOW=/cvmfs/singularity.opensciencegrid.org/**\n', { mode: 0o644 });
      const kib = (out: string): number => Number(/code cache: wrote \S+ \((\d+) KiB/.exec(out)?.[1] ?? 'NaN');
      const restricted = runWrapper(['--config', cfg, '--check'], { wrapper }).stdout;
      // Before: the warm-up's own image was refused ("the warm-up decision stopped: … matches no
      // CJW_IMAGE_ALLOW glob") and the cache lacked the rest of the job path (182 KiB, not 217).
      expect(restricted).toMatch(/ok {4}code cache: wrote /);
      expect(restricted).not.toContain('stopped');
      const open = runWrapper(['--check'], { wrapper }).stdout;
      expect(open).not.toContain('stopped');
      expect(kib(restricted)).toBeGreaterThanOrEqual(kib(open) - 4);
      expect(state(wrapper)).toBe('used');
    });

    it('is not written by a job user', () => {
      const before = statSync(file).mtimeMs;
      const r = spawnSync(wrapper, ['--check'], { env: {}, cwd: '/', uid: CONDORUSER, gid: CONDORUSER, encoding: 'utf8', timeout: 20000 });
      expect(r.stdout).toContain('WARN  code cache: not written: only root writes');
      expect(statSync(file).mtimeMs).toBe(before);
    });
  });
}
