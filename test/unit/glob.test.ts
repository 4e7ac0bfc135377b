import { firstMatch, globMatch } from '../../src/decide/glob';

describe('globMatch: * within a component, ** across', () => {
  it.each([
    // pattern, path, matches
    ['/cvmfs/*', '/cvmfs/cms.cern.ch', true],
    ['/cvmfs/*', '/cvmfs/cms.cern.ch/x', false],
    ['/cvmfs/*', '/cvmfs', false],
    ['/cvmfs/*', '/cvmfs/', true],
    ['/cvmfs/**', '/cvmfs/cms.cern.ch/x/y', true],
    ['/cvmfs/**', '/cvmfs', true],
    ['/cvmfs/**', '/cvmfsx', false],
    ['/cvmfs/**', '/cvmfs2/x', false],
    ['/data/*/in', '/data/alice/in', true],
    ['/data/*/in', '/data/alice/bob/in', false],
    ['/data/**/in', '/data/alice/bob/in', true],
    ['/data/**/in', '/data/in', true],
    ['/data/**/in', '/data/alice/inx', false],
    ['/a/**/b/**/c', '/a/b/c', true],
    ['/a/**/b/**/c', '/a/x/b/y/z/c', true],
    ['/home/*/public', '/home//public', true],
    ['/img/*.sif', '/img/el9.sif', true],
    ['/img/*.sif', '/img/sub/el9.sif', false],
    ['/img/*.sif', '/img/el9.simg', false],
    ['/exact/path', '/exact/path', true],
    ['/exact/path', '/exact/path/', false],
    ['/exact/path', '/exact/pat', false],
    ['docker://*', 'docker://alpine', true],
    ['docker://*', 'docker://library/alpine', false],
    ['docker://**', 'docker://library/alpine:3', true],
    ['docker://**', 'oras://library/alpine:3', false],
    ['/**', '/anything/at/all', true],
    ['/**', '/', true],
    // regex metacharacters are literal
    ['/a.b/(x)+[y]?', '/a.b/(x)+[y]?', true],
    ['/a.b', '/axb', false],
    ['/odd ***/x', '/odd y/z/x', true],
    // hostile values: newlines are ordinary characters, `..` is not resolved here (callers pass realpaths)
    ['/data/*', '/data/a\nb', true],
    ['/data/*', '/data/a\n/b', false],
    ['/data/**', '/data/../etc/shadow', true],
    // edge cases: empty pattern and path, lone stars, trailing slashes, unicode, many globstars
    ['', '', true],
    ['', '/', false],
    ['*', '/', false],
    ['*', 'relative', true],
    ['**', '/any/thing', true],
    ['/data/', '/data', false],
    ['/data/**/', '/data/', true],
    ['/ünï/*', '/ünï/cødé ✓', true],
    ['/a/**/**/b', '/a/b', true],
    ['/a/**/**/b', '/a/x/y/b', true],
    ['/a/*/*/b', '/a/x/b', false],
    ['/a/***/b', '/a/x/y/b', true],
    ['/a/b*', '/a/b', true],
    ['/a/*b', '/a/b/c', false],
  ])('%j vs %j → %s', (pattern, path, expected) => {
    expect(globMatch(pattern, path)).toBe(expected);
  });

  it('is linear on a hostile 100 KB path with many stars', () => {
    const path = `/${'a'.repeat(100 * 1024)}`;
    const t0 = Date.now();
    expect(globMatch('/*a*a*a*a*a*a*a*a*b', path)).toBe(false);
    expect(globMatch('/**a**a**a**a**a**b', path)).toBe(false);
    expect(globMatch('/**', path)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('firstMatch names the first matching pattern', () => {
    expect(firstMatch(['/etc/**', '/root/**'], '/root/.ssh')).toBe('/root/**');
    expect(firstMatch(['/etc/**'], '/data')).toBeUndefined();
    expect(firstMatch([], '/data')).toBeUndefined();
  });
});
