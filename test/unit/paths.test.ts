import { posix } from 'node:path';
import fc from 'fast-check';
import { bindsOf, insidePath, isWithin, normalize, parseBindSpec } from '../../src/decide/paths';
import { tableFor } from '../../src/invocation/families/index';
import { parseInvocation } from '../../src/invocation/parse';

describe('paths by whole components', () => {
  it.each([
    ['/scratch/dir_1', '/scratch/dir_1', true],
    ['/scratch/dir_1/x', '/scratch/dir_1', true],
    ['/scratch/dir_10', '/scratch/dir_1', false],
    ['/scratch/dir_10/x', '/scratch/dir_1/', false],
    ['//srv//x/', '/srv', true],
    ['/anything', '/', true],
  ])('isWithin(%s, %s) = %s', (p, d, want) => { expect(isWithin(p, d)).toBe(want); });

  it('normalizes doubled slashes and trailing slashes', () => {
    expect(normalize('//srv//name/')).toBe('/srv/name');
    expect(normalize('/')).toBe('/');
  });

  it.each([
    ['/a', { src: '/a', dst: '/a', opts: '' }],
    ['/a:/b', { src: '/a', dst: '/b', opts: '' }],
    ['/a:/b:ro', { src: '/a', dst: '/b', opts: 'ro' }],
    ['/etc/hosts:/etc/hosts:ro', { src: '/etc/hosts', dst: '/etc/hosts', opts: 'ro' }],
  ])('parseBindSpec(%s)', (spec, want) => { expect(parseBindSpec(spec)).toEqual(want); });

  const E = '/var/lib/condor/execute';
  it.each([
    ['HTCondor 24, target dir', [`${E}/dir_1:/srv`], `${E}/dir_1/.job.ad`, '/srv/.job.ad'],
    ['HTCondor 25, slot dir bound above the scratch', [`${E}/dir_1:/srv`], `${E}/dir_1/scratch/.job.ad`, '/srv/scratch/.job.ad'],
    ['no target dir', [`${E}/dir_1`], `${E}/dir_1/x`, `${E}/dir_1/x`],
    ['dir_1 does not carry dir_10', [`${E}/dir_1:/srv`], `${E}/dir_10/x`, undefined],
    ['the longest source wins', ['/data:/d', '/data/sub:/s'], '/data/sub/f', '/s/f'],
  ])('%s', (_n, specs, p, want) => {
    expect(insidePath(p, specs.map(parseBindSpec))).toBe(want);
  });

  it('reads binds from a parsed line, comma lists included', () => {
    const inv = parseInvocation(['/usr/bin/apptainer', 'exec', '-B', '/a,/b:/c', '--bind=/d:/e:ro', 'img'], tableFor('apptainer'));
    expect(bindsOf(inv)).toEqual([
      { src: '/a', dst: '/a', opts: '' },
      { src: '/b', dst: '/c', opts: '' },
      { src: '/d', dst: '/e', opts: 'ro' },
    ]);
  });
});

describe('normalize: the fast path for paths already normal', () => {
  // The reference: what normalize always did (posix.normalize, then no trailing slash).
  const slow = (p: string): string => {
    const n = posix.normalize(p);
    return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
  };

  it.each(['/', '/a', '/a/b', '/.a', '/a/...', '/a..b/c', '/a/.b/..c', '//', '/a//b', '/a/./b', '/a/../b', '/a/.', '/a/..', '/a/', '/..', '/.', '', '.', 'a/b', 'a//b/', '../x'])('%j as before', (p) => {
    expect(normalize(p)).toBe(slow(p));
  });

  it('property: any path of "/", ".", "a" and "b" normalizes as posix.normalize does', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('/', '.', 'a', 'b', '/', '.'), maxLength: 24 }), (p) => {
        expect(normalize(p)).toBe(slow(p));
      }),
      { numRuns: 5000 },
    );
  });
});
