// The root-written runtime version cache (SPEC S5.7): keyed on path, inode, size and mtime; a job
// cannot write it, and a stale, forged or loosely-permissioned entry is ignored. A cache hit costs
// no subprocess (measured here with a runtime that records every call).

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cacheFile, lookupRuntimeVersion, parseStarterLine, readCache, refreshCache, runtimeKey } from '../../src/facts/versionCache';

const ME = process.getuid?.() ?? 0;

function setup(versionText = 'singularity version 3.4.2', name = 'singularity'): { dir: string; cache: string; rt: string; calls: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'cjw-vc-'));
  chmodSync(dir, 0o755);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const rt = join(bin, name);
  const log = join(dir, 'calls');
  writeFileSync(log, '');
  writeFileSync(rt, `#!/bin/sh\necho x >>${log}\n[ "$1" = --version ] && echo "${versionText}"\nexit 0\n`, { mode: 0o755 });
  return { dir, cache: join(dir, 'cache'), rt, calls: () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').length };
}

describe('cacheFile', () => {
  it('is named by the basename and a hash of the whole path', () => {
    expect(cacheFile('/opt/singularity-3.4.2/bin/singularity', '/c')).toMatch(/^\/c\/singularity-[0-9a-f]{16}\.json$/);
    expect(cacheFile('/opt/a/bin/singularity', '/c')).not.toBe(cacheFile('/opt/b/bin/singularity', '/c'));
    expect(cacheFile('/x/we ird;name', '/c')).toMatch(/^\/c\/we_ird_name-[0-9a-f]{16}\.json$/);
  });
});

describe('refreshCache (what --check does)', () => {
  it('as the owner (root in production): probes once and writes the entry', () => {
    const s = setup();
    const r = refreshCache(s.rt, { dir: s.cache, uid: ME, owner: ME });
    expect(r.notWritten).toBeUndefined();
    expect(r.version).toEqual({ family: 'singularity3', version: '3.4.2', source: 'probe' });
    expect(s.calls()).toBe(1);
    const key = runtimeKey(s.rt);
    expect(key).toBeDefined();
    if (key !== undefined) expect(readCache(key, s.cache, ME)).toEqual({ family: 'singularity3', version: '3.4.2', source: 'cache' });
  });

  it('as anyone else: probes but never writes', () => {
    const s = setup();
    const r = refreshCache(s.rt, { dir: s.cache, uid: ME + 1, owner: ME });
    expect(r.notWritten).toBe('not running as root (jobs trust only a cache root wrote)');
    expect(existsSync(r.file)).toBe(false);
  });

  it.each([
    ['2.6.1-dist', 'singularity2', '2.6.1'],
    ['apptainer version 1.3.6', 'apptainer', '1.3.6'],
    ['singularity-ce version 4.1.0', 'singularity3', '4.1.0'],
  ])('recognises %j', (text, family, version) => {
    const s = setup(text);
    expect(refreshCache(s.rt, { dir: s.cache, uid: ME, owner: ME }).version).toEqual({ family, version, source: 'probe' });
  });

  it('prunes the entries of runtimes that no longer exist, and only those', () => {
    const s = setup();
    const gone = setup('apptainer version 1.3.6', 'apptainer');
    expect(refreshCache(gone.rt, { dir: s.cache, uid: ME, owner: ME }).notWritten).toBeUndefined();
    const goneFile = cacheFile(gone.rt, s.cache);
    rmSync(gone.dir, { recursive: true, force: true });
    const foreign = join(s.cache, 'notes.json');
    writeFileSync(foreign, '{"path":"/nonexistent"}');
    const r = refreshCache(s.rt, { dir: s.cache, uid: ME, owner: ME });
    expect(r.pruned).toEqual([goneFile]);
    expect(existsSync(goneFile)).toBe(false);
    expect(existsSync(cacheFile(s.rt, s.cache))).toBe(true);
    expect(existsSync(foreign)).toBe(true);
    // Nothing more to prune: the key is absent.
    expect(refreshCache(s.rt, { dir: s.cache, uid: ME, owner: ME }).pruned).toBeUndefined();
  });

  it('unrecognised output or a missing runtime: nothing written, and says why', () => {
    const s = setup('hello');
    expect(refreshCache(s.rt, { dir: s.cache, uid: ME, owner: ME }).notWritten).toBe('unrecognised --version output "hello"');
    expect(refreshCache('/nonexistent/singularity', { dir: s.cache, uid: ME, owner: ME }).notWritten).toBe('the runtime does not exist');
  });
});

describe('readCache: only a trustworthy, current entry', () => {
  function written(): { s: ReturnType<typeof setup>; file: string } {
    const s = setup();
    const r = refreshCache(s.rt, { dir: s.cache, uid: ME, owner: ME });
    return { s, file: r.file };
  }
  const key = (rt: string) => {
    const k = runtimeKey(rt);
    if (k === undefined) throw new Error('no key');
    return k;
  };

  it('a reinstall (new mtime or size) is a miss', () => {
    const { s } = written();
    utimesSync(s.rt, new Date(), new Date(Date.now() + 5000));
    expect(readCache(key(s.rt), s.cache, ME)).toBeUndefined();
  });

  it('a group- or world-writable entry or directory is a miss (a job could have written it)', () => {
    const { s, file } = written();
    chmodSync(file, 0o666);
    expect(readCache(key(s.rt), s.cache, ME)).toBeUndefined();
    chmodSync(file, 0o644);
    expect(readCache(key(s.rt), s.cache, ME)).toBeDefined();
    chmodSync(s.cache, 0o777);
    expect(readCache(key(s.rt), s.cache, ME)).toBeUndefined();
  });

  it('an entry owned by another uid is a miss', () => {
    const { s } = written();
    expect(readCache(key(s.rt), s.cache, ME + 1)).toBeUndefined();
  });

  it('a forged entry naming another path, or malformed JSON, is a miss', () => {
    const { s, file } = written();
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...entry, path: '/other' }), { mode: 0o644 });
    expect(readCache(key(s.rt), s.cache, ME)).toBeUndefined();
    writeFileSync(file, '{not json', { mode: 0o644 });
    expect(readCache(key(s.rt), s.cache, ME)).toBeUndefined();
    writeFileSync(file, JSON.stringify({ ...entry, family: 'docker' }), { mode: 0o644 });
    expect(readCache(key(s.rt), s.cache, ME)).toBeUndefined();
  });
});

describe('lookupRuntimeVersion / parseStarterLine: the per-job path', () => {
  it('cache hit: no subprocess; miss without probe: the basename', () => {
    const s = setup();
    refreshCache(s.rt, { dir: s.cache, uid: ME, owner: ME });
    const before = s.calls();
    expect(lookupRuntimeVersion(s.rt, { probe: true, dir: s.cache, owner: ME })).toEqual({ family: 'singularity3', version: '3.4.2', source: 'cache' });
    expect(s.calls()).toBe(before);
    rmSync(s.cache, { recursive: true });
    expect(lookupRuntimeVersion(s.rt, { probe: false, dir: s.cache, owner: ME })).toEqual({ family: 'singularity3', source: 'basename' });
    expect(s.calls()).toBe(before);
    expect(lookupRuntimeVersion(s.rt, { probe: true, dir: s.cache, owner: ME })).toEqual({ family: 'singularity3', version: '3.4.2', source: 'probe' });
    expect(s.calls()).toBe(before + 1);
    // A job's probe never fills the cache.
    expect(existsSync(s.cache)).toBe(false);
  });

  it('measured: a cache hit costs well under a millisecond; a probe costs a subprocess', () => {
    const s = setup();
    refreshCache(s.rt, { dir: s.cache, uid: ME, owner: ME });
    const n = 200;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) lookupRuntimeVersion(s.rt, { probe: true, dir: s.cache, owner: ME });
    const hitMs = (performance.now() - t0) / n;
    t0 = performance.now();
    for (let i = 0; i < 5; i++) lookupRuntimeVersion(s.rt, { probe: true, dir: join(s.dir, 'none'), owner: ME });
    const probeMs = (performance.now() - t0) / 5;
    console.log(`version lookup: cache hit ${hitMs.toFixed(3)} ms/job, probe (sh script) ${probeMs.toFixed(2)} ms/job`);
    expect(hitMs).toBeLessThan(1);
    expect(probeMs).toBeGreaterThan(hitMs);
  });

  it('parseStarterLine under the name singularity: a 2.6-only spelling asks the runtime (one probe)', () => {
    // The production cache is root's /var/cache: this fake runtime has no entry there.
    const s = setup('2.6.1-dist');
    const r = parseStarterLine([s.rt, 'exec', '--wdir', '/w', '/img', '/bin/true'], true);
    expect(r.runtimeVersion).toEqual({ family: 'singularity2', version: '2.6.1', source: 'probe' });
    expect(r.invocation.family).toBe('singularity2');
    expect(s.calls()).toBe(1);
  });

  it('parseStarterLine: a line whose repairs need the version probes once; --explain (mayProbe false) never', () => {
    const s = setup('2.6.1-dist');
    const line = [s.rt, '-s', 'exec', '-S', '/tmp', '-C', '/img', '/bin/true'];
    expect(parseStarterLine(line, false).runtimeVersion.source).toBe('basename');
    expect(s.calls()).toBe(0);
    const r = parseStarterLine(line, true);
    expect(r.runtimeVersion).toEqual({ family: 'singularity2', version: '2.6.1', source: 'probe' });
    expect(r.invocation.family).toBe('singularity2');
    expect(s.calls()).toBe(1);
  });

  it('parseStarterLine: on a cache miss even the name apptainer is asked once (SPEC S2: a name proves nothing)', () => {
    const s = setup('singularity-ce version 4.1.2', 'apptainer');
    const r = parseStarterLine([s.rt, 'exec', '-S', '/tmp', '-C', '/img', '/bin/true'], true);
    expect(r.runtimeVersion).toEqual({ family: 'singularity3', version: '4.1.2', source: 'probe' });
    expect(s.calls()).toBe(1);
  });

  it('parseStarterLine: a runtime that cannot answer --version falls back to its name, and says so', () => {
    const s = setup('', 'apptainer');
    const r = parseStarterLine([s.rt, 'exec', '-C', '/img', '/bin/true'], true);
    expect(r.runtimeVersion).toEqual({ family: 'apptainer', source: 'basename' });
  });
});
