// ClassAd file reader: literal types and old-syntax escapes, the real ads HTCondor 24.0.23 and
// 25.13.2 wrote (test/fixtures/ads, copied from the recording wrapper's observations), hostile
// and malformed files, and a round-trip property against HTCondor's own escaping rule.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import fc from 'fast-check';
import {
  MAX_AD_BYTES,
  getAttr,
  getBool,
  getInt,
  getString,
  getStringList,
  parseClassAd,
  parseClassAdAttrs,
  readClassAdFile,
} from '../../src/facts/classad';
import type { AdValue, ClassAd } from '../../src/facts/types';
import { WrapperError } from '../../src/errors';

const ADS = path.join(__dirname, '..', 'fixtures', 'ads');
const fixture = (name: string): string => path.join(ADS, name);

/** Parses one `A = <rhs>` line and returns A's value. */
function value(rhs: string): AdValue | undefined {
  return getAttr(parseClassAd(`A = ${rhs}\n`, 't.ad'), 'A');
}

/** Runs f and returns the WrapperError it throws (fails the test if it throws anything else). */
function thrown(f: () => unknown): WrapperError {
  try {
    f();
  } catch (e) {
    if (e instanceof WrapperError) return e;
    throw e;
  }
  throw new Error('expected a WrapperError');
}

/** How HTCondor's old-syntax unparser writes a string: only `"` is escaped (sink.cpp). */
function renderOld(s: string): string {
  return `"${s.replaceAll('"', '\\"')}"`;
}

describe('literal values', () => {
  const str = (v: string): AdValue => ({ type: 'string', value: v });
  const int = (v: number): AdValue => ({ type: 'integer', value: v });
  const real = (v: number): AdValue => ({ type: 'real', value: v });
  const expr = (text: string): AdValue => ({ type: 'expression', text });

  test.each<[string, AdValue]>([
    ['"hello"', str('hello')],
    ['""', str('')],
    ['"two\' \'words"', str("two' 'words")],
    // Old syntax: \" is a quote; other backslashes are literal (no \n, \t or \\ escapes).
    ['"say \\"hi\\""', str('say "hi"')],
    ['"C:\\temp\\new"', str('C:\\temp\\new')],
    ['"a\\\\b"', str('a\\\\b')],
    ['"line1\\nline2"', str('line1\\nline2')],
    // \" as the last thing on the line ends the string, keeping the backslash.
    ['"ends with \\"', str('ends with \\')],
    ['"\\"', str('\\')],
    // A backslash before an escaped quote: the escape takes the last backslash only.
    ['"a\\\\"b"', str('a\\"b')],
    ['"\\"\\""', str('""')],
    ['"a\tb"', str('a\tb')],
    ['"{[ p=\\"primary\\"; ], [ ]}"', str('{[ p="primary"; ], [ ]}')],
    ['0', int(0)],
    ['42', int(42)],
    ['-1', int(-1)],
    ['-0', int(0)],
    ['2147483647', int(2147483647)],
    ['9007199254740991', int(9007199254740991)],
    ['0.0', real(0)],
    ['1.5', real(1.5)],
    ['-0.0004697142371823393', real(-0.0004697142371823393)],
    ['.5', real(0.5)],
    ['-.5', real(-0.5)],
    ['1.5E3', real(1500)],
    ['1E+20', real(1e20)],
    ['2.5e-3', real(0.0025)],
    ['1e5', real(100000)],
    ['1048576.0', real(1048576)],
    ['true', { type: 'boolean', value: true }],
    ['FALSE', { type: 'boolean', value: false }],
    ['True', { type: 'boolean', value: true }],
    ['undefined', { type: 'undefined' }],
    ['UNDEFINED', { type: 'undefined' }],
    ['error', { type: 'error' }],
    ['Error', { type: 'error' }],
    ['{ "a","b" }', { type: 'list', items: [str('a'), str('b')] }],
    ['{"a", "b"}', { type: 'list', items: [str('a'), str('b')] }],
    ['{  }', { type: 'list', items: [] }],
    ['{ 1, -2.5, true, undefined, error, "x,y" }', {
      type: 'list',
      items: [int(1), real(-2.5), { type: 'boolean', value: true }, { type: 'undefined' }, { type: 'error' }, str('x,y')],
    }],
    ['{ { "a" },{ } }', { type: 'list', items: [{ type: 'list', items: [str('a')] }, { type: 'list', items: [] }] }],
    ['{ "a\\"b" }', { type: 'list', items: [str('a"b')] }],
    // Not literals: kept as the text after "=", for the rules to refuse or ignore.
    ['ifThenElse(RequestGPUs > 0, "gpu", "cpu")', expr('ifThenElse(RequestGPUs > 0, "gpu", "cpu")')],
    ['MY.MachineLastMatchTime =!= undefined', expr('MY.MachineLastMatchTime =!= undefined')],
    ['10 * 60', expr('10 * 60')],
    ['Cpus', expr('Cpus')],
    ['"a" + "b"', expr('"a" + "b"')],
    ['{ "a", Foo }', expr('{ "a", Foo }')],
    ['{ "a"', expr('{ "a"')],
    ['[  ]', expr('[  ]')],
    ['real("INF")', expr('real("INF")')],
    ['- 5', expr('- 5')],
    ['+5', expr('+5')],
    ['0123', expr('0123')],
    ['1.', expr('1.')],
    ['1e999', expr('1e999')],
    ['9007199254740993', expr('9007199254740993')],
    ['truex', expr('truex')],
    ["'quoted attr'", expr("'quoted attr'")],
  ])('%s', (rhs, want) => {
    expect(value(rhs)).toEqual(want);
  });

  test('spaces around name, "=" and value are not part of them', () => {
    const ad = parseClassAd('   Foo   =   "  x  "   \r\n', 't.ad');
    expect(getString(ad, 'foo')).toBe('  x  ');
  });

  test('only the first "=" separates name and value', () => {
    expect(value('(a == b)')).toEqual(expr('(a == b)'));
    expect(value('"x=y"')).toEqual(str('x=y'));
  });
});

describe('file structure', () => {
  test('blank lines and # comments are ignored; no trailing newline is fine', () => {
    const ad = parseClassAd('# comment\n\n  # indented comment\nA = 1\n\t\nB = 2', 't.ad');
    expect([...ad.attrs.keys()]).toEqual(['a', 'b']);
  });

  test('names are case-insensitive and a later duplicate wins', () => {
    const ad = parseClassAd('SingularityImage = "/one"\nsingularityIMAGE = "/two"\n', 't.ad');
    expect(ad.attrs.size).toBe(1);
    expect(getString(ad, 'SingularityImage')).toBe('/two');
    expect(getString(ad, 'SINGULARITYIMAGE')).toBe('/two');
    expect(ad.attrs.has('singularityimage')).toBe(true);
  });

  test('a new-syntax [ ... ] wrapper with ";" line ends is tolerated', () => {
    const ad = parseClassAd('[\n  Cmd = "/bin/echo";\n  ClusterId = 7;\n]\n', 't.ad');
    expect(getString(ad, 'Cmd')).toBe('/bin/echo');
    expect(getInt(ad, 'ClusterId')).toBe(7);
  });

  test('the empty file is an empty ad', () => {
    expect(parseClassAd('', 'empty.ad').attrs.size).toBe(0);
  });

  test('the ad remembers its file', () => {
    expect(parseClassAd('A = 1', '/scratch/.job.ad').file).toBe('/scratch/.job.ad');
  });
});

describe('real ads written by HTCondor', () => {
  const realAds = fs.readdirSync(ADS).filter((f) => f.endsWith('.ad.txt'));

  test('the fixtures are there', () => {
    expect(realAds.length).toBeGreaterThanOrEqual(5);
  });

  test.each(realAds)('%s parses completely', (name) => {
    const ad = readClassAdFile(fixture(name), name.includes('.machine.') ? 'machine' : 'job');
    const lines = fs.readFileSync(fixture(name), 'utf8').split('\n').filter((l) => l.trim() !== '');
    expect(ad.attrs.size).toBe(lines.length);
    expect(getString(ad, 'MyType')).toBe(name.includes('.machine.') ? 'Machine' : 'Job');
  });

  test('job ad from 24.0.23 (apptainer, target dir /srv)', () => {
    const ad = readClassAdFile(fixture('container-apptainer-srv.job.ad.txt'));
    expect(getAttr(ad, 'ClusterId')).toEqual({ type: 'integer', value: 1 });
    expect(getInt(ad, 'ProcId')).toBe(0);
    expect(getInt(ad, 'JobUniverse')).toBe(5);
    expect(getBool(ad, 'ExitBySignal')).toBe(false);
    expect(getString(ad, 'Cmd')).toBe('/bin/echo');
    expect(getString(ad, 'Arguments')).toBe("hello two' 'words");
    expect(getString(ad, 'Environment')).toBe('HOME=/home/job JOB_VAR=from_submit');
    expect(getString(ad, 'GlobalJobId')).toBe('<host>#1.0#1795646922');
    expect(getString(ad, 'Owner')).toBe('condoruser');
    expect(getString(ad, 'SingularityImage')).toBe('/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest');
    expect(getAttr(ad, 'CumulativeRemoteSysCpu')).toEqual({ type: 'real', value: 0 });
    expect(getAttr(ad, 'JobCurrentReconnectAttempt')).toEqual({ type: 'undefined' });
    expect(getString(ad, 'JobCurrentReconnectAttempt')).toBeUndefined();
    expect(getAttr(ad, 'Requirements')).toEqual({
      type: 'expression',
      text: '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk) && (TARGET.Memory >= RequestMemory) && (TARGET.HasFileTransfer)',
    });
    expect(getString(ad, 'SingularityBind')).toBeUndefined();
    expect(getStringList(ad, 'SingularityBind')).toBeUndefined();
  });

  test('job ad with SingularityBind (shared filesystem)', () => {
    const ad = readClassAdFile(fixture('container-singularity-sharedfs.job.ad.txt'));
    expect(getString(ad, 'Args')).toBe('shared-fs');
    expect(getString(ad, 'Environment')).toBe('');
    expect(getString(ad, 'SingularityImage')).toBe('relative-image.sif');
    expect(getStringList(ad, 'SingularityBind')).toEqual(['/etc/hosts', '/nonexistent-dir', '/usr/share:/opt/share:ro']);
    expect(getString(ad, 'ShouldTransferFiles')).toBe('NO');
  });

  test('job ad from 25.13.2 (singularity 3.4.2)', () => {
    const ad = readClassAdFile(fixture('v25-container-singularity-3.4.2.job.ad.txt'));
    expect(getString(ad, 'CondorVersion')).toBe('$CondorVersion: 25.13.2 2026-11-25 $');
    expect(getString(ad, 'Arguments')).toBe("-c echo' 'in-container;' 'id;' 'pwd;' 'ls' '-a;' 'env' '|' 'sort");
    expect(getAttr(ad, 'RequestDisk')).toEqual({ type: 'real', value: 1048576 });
    expect(getInt(ad, 'RequestDisk')).toBe(1048576);
    expect(getAttr(ad, 'TransferInputFileCounts')).toEqual({ type: 'expression', text: '[  ]' });
    expect(getString(ad, 'SingularityImage')).toBe('<images>/busybox.sif');
  });

  test('container universe job ad from 25.13.2', () => {
    const ad = readClassAdFile(fixture('v25-container-universe-nopidns.job.ad.txt'));
    expect(getString(ad, 'ContainerImage')).toBe('/images/el9.sif');
    expect(getBool(ad, 'WantContainer')).toBe(true);
    expect(getStringList(ad, 'SingularityBind')).toEqual(['/etc/hosts', '/var/lib']);
  });

  test.each(['container-apptainer-srv.machine.ad.txt', 'v25-container-singularity-3.4.2.machine.ad.txt'])(
    'machine ad %s',
    (name) => {
      const ad = readClassAdFile(fixture(name), 'machine');
      expect(getBool(ad, 'HasSingularity')).toBe(true);
      expect(getString(ad, 'Arch')).toBe('X86_64');
      expect(getString(ad, 'OpSysAndVer')).toBe('Debian12');
      expect(getInt(ad, 'GPUs')).toBe(0);
      expect(getInt(ad, 'TotalCpus')).toBe(2);
      expect(getStringList(ad, 'AssignedGPUs')).toBeUndefined();
      expect(getString(ad, 'SingularityVersion')).toMatch(/^(apptainer|singularity) version /);
      expect(getString(ad, 'AddressV1')).toMatch(/^\{\[ p="primary"; a="127\.0\.0\.1"; port=\d+; /);
      expect(getAttr(ad, 'MachineMaxVacateTime')).toEqual({ type: 'expression', text: '10 * 60' });
      expect(getAttr(ad, 'NextFetchWorkDelay')).toEqual({ type: 'integer', value: -1 });
      expect(getAttr(ad, 'DaemonCoreDutyCycle')?.type).toBe('real');
      expect(getBool(ad, 'has_avx2')).toBe(true);
    },
  );
});

describe('hostile values are data', () => {
  const ad = readClassAdFile(fixture('hostile.job.ad'));

  test.each<[string, string]>([
    ['Cmd', '$(rm -rf /)'],
    ['Arguments', '`id`; rm -rf / && echo $HOME | tee /etc/passwd > /dev/null'],
    ['Environment', "A=1;B=$(reboot) C='x y'"],
    ['Quoted', 'say "hi" and "bye"'],
    ['Backslashes', 'C:\\temp\\new\\\\x'],
    ['TrailingBackslash', 'ends with \\'],
    ['BackslashQuote', 'a\\"b'],
    ['NewlineEscape', 'line1\\nline2'],
    ['Unicode', 'Grüße, 東京, 🎉, \u202eRTL'],
    ['SingularityImage', '/cvmfs/evil/override:latest'],
    ['EmptyString', ''],
    ['Tab', 'a\tb'],
    ['Indented', 'spaces around'],
    ['CarriageReturn', 'windows'],
  ])('%s', (name, want) => {
    expect(getString(ad, name)).toBe(want);
  });

  test('the 200 KB value comes back exactly', () => {
    const want = '$(rm -rf /)`id`;|&' + 'A'.repeat(200 * 1024) + '"tail';
    expect(getString(ad, 'Big')).toBe(want);
  });

  test('lists, numbers and expressions', () => {
    expect(getStringList(ad, 'GpuList')).toEqual(['GPU-1', 'GPU-2']);
    expect(getStringList(ad, 'SingularityBind')).toEqual(['/a', '/b:/c:ro', '/d', '/e']);
    expect(getAttr(ad, 'NestedList')).toEqual({
      type: 'list',
      items: [{ type: 'list', items: [{ type: 'string', value: 'a' }] }, { type: 'list', items: [] }],
    });
    expect(getInt(ad, 'Negative')).toBe(-42);
    expect(getAttr(ad, 'NegReal')).toEqual({ type: 'real', value: -1500 });
    expect(getAttr(ad, 'Real')).toEqual({ type: 'real', value: 0.5 });
    expect(getBool(ad, 'Bool')).toBe(true);
    expect(getAttr(ad, 'Undef')).toEqual({ type: 'undefined' });
    expect(getAttr(ad, 'Err')).toEqual({ type: 'error' });
    expect(getAttr(ad, 'Expr')).toEqual({ type: 'expression', text: 'ifThenElse(RequestGPUs > 0, "gpu", "cpu")' });
    expect(getAttr(ad, 'Expr2')).toEqual({ type: 'expression', text: 'MY.Foo =!= undefined' });
    expect(getAttr(ad, 'Expr3')).toEqual({ type: 'expression', text: '"a" + "b"' });
    expect(getAttr(ad, 'BigInt')).toEqual({ type: 'expression', text: '9007199254740993' });
    expect(getAttr(ad, 'LeadingZero')).toEqual({ type: 'expression', text: '0123' });
  });

  test('a mixed list is not a string list', () => {
    const e = thrown(() => getStringList(ad, 'MixedList'));
    expect(e.id).toBe('jobad.bad-attribute');
    expect(e.line).toContain('must be a list of strings, got an integer');
  });
});

describe('malformed files', () => {
  test.each<[string, number, string]>([
    ['malformed-unterminated.job.ad', 3, 'Cmd: unterminated string'],
    ['malformed-missing-eq.job.ad', 4, 'expected "Name = value"'],
    ['malformed-nul.job.ad', 2, 'NUL byte'],
    ['malformed-bad-name.job.ad', 4, 'bad attribute name "My.Attr"'],
    ['malformed-newline.job.ad', 2, 'Arguments: unterminated string'],
    ['malformed-no-value.job.ad', 2, 'no value after "="'],
    ['malformed-utf8.job.ad', 2, 'not valid UTF-8'],
  ])('%s: line %d', (name, line, why) => {
    const e = thrown(() => readClassAdFile(fixture(name)));
    expect(e.id).toBe('jobad.malformed');
    expect(e.code).toBe(65);
    expect(e.errorClass).toBe('job');
    expect(e.what).toBe(`job ad ${fixture(name)} line ${line}`);
    expect(e.line).toContain(`job ad ${fixture(name)} line ${line}: `);
    expect(e.why).toContain(why);
    // The error line stays one line even though the input was hostile.
    expect(e.line).not.toMatch(/[\n\r\0]/);
  });

  test.each(['1Bad = 3', 'My Attr = 1', '= 1', 'Foo-Bar = 2', "'Quoted' = 1", ']'])('bad line %s', (line) => {
    const e = thrown(() => parseClassAd(`A = 1\n${line}\n`, 't.ad'));
    expect(e.what).toBe('job ad t.ad line 2');
  });

  test('unterminated string inside an expression', () => {
    const e = thrown(() => parseClassAd('A = strcat("x", "y)\n', 't.ad'));
    expect(e.why).toBe('A: unterminated string');
  });

  test('machine ads are named as such', () => {
    const e = thrown(() => parseClassAd('Arch = "X86_64"\nHasSingularity\n', '/scratch/.machine.ad', 'machine'));
    expect(e.what).toBe('machine ad /scratch/.machine.ad line 2');
    expect(e.id).toBe('jobad.malformed');
  });

  test('a very long bad name is cut in the message', () => {
    const e = thrown(() => parseClassAd(`${'x-'.repeat(10000)} = 1`, 't.ad'));
    expect(e.why.length).toBeLessThan(200);
  });
});

describe('reading files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cjw-classad-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a missing file is unreadable, with errno', () => {
    const e = thrown(() => readClassAdFile(path.join(dir, 'nope.job.ad')));
    expect(e.id).toBe('jobad.unreadable');
    expect(e.code).toBe(65);
    expect(e.line).toBe(`condor-job-wrapper: job error: job ad ${path.join(dir, 'nope.job.ad')}: cannot read it: ENOENT`);
  });

  test('a missing machine ad says machine ad', () => {
    const e = thrown(() => readClassAdFile(path.join(dir, 'nope.machine.ad'), 'machine'));
    expect(e.what).toBe(`machine ad ${path.join(dir, 'nope.machine.ad')}`);
  });

  test('a directory is refused', () => {
    const e = thrown(() => readClassAdFile(dir));
    expect(e.id).toBe('jobad.unreadable');
    expect(e.why).toBe('not a regular file');
  });

  test('a FIFO is refused without blocking', () => {
    const fifo = path.join(dir, 'fifo.job.ad');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here: nothing to test
    }
    const e = thrown(() => readClassAdFile(fifo));
    expect(e.why).toBe('not a regular file');
  });

  test('a file over the size limit is refused, naming the limit', () => {
    const big = path.join(dir, 'big.job.ad');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, MAX_AD_BYTES + 1);
    const e = thrown(() => readClassAdFile(big));
    expect(e.id).toBe('jobad.unreadable');
    expect(e.why).toBe('larger than the 16 MiB limit for ClassAd files');
  });

  test('a file of exactly the limit is read', () => {
    const edge = path.join(dir, 'edge.job.ad');
    const head = 'A = "';
    fs.writeFileSync(edge, head + 'x'.repeat(MAX_AD_BYTES - head.length - 2) + '"\n');
    expect(getString(readClassAdFile(edge), 'A')?.length).toBe(MAX_AD_BYTES - head.length - 2);
  });

  test('an unreadable file reports EACCES (skipped as root)', () => {
    if (process.getuid?.() === 0) return;
    const f = path.join(dir, 'secret.job.ad');
    fs.writeFileSync(f, 'A = 1\n', { mode: 0o000 });
    expect(thrown(() => readClassAdFile(f)).why).toBe('cannot read it: EACCES');
  });
});

describe('typed getters', () => {
  const ad: ClassAd = parseClassAd(
    [
      'S = "x"',
      'I = 3',
      'R = 2.5',
      'R2 = 2.0',
      'B = true',
      'U = undefined',
      'E = error',
      'L = { "a", "b" }',
      'X = MY.Foo + 1',
      'Gpus = "GPU-1, GPU-2 GPU-3"',
      'Blank = "  , "',
    ].join('\n'),
    '/scratch/.job.ad',
  );

  test('absent ad, absent attribute and undefined all give undefined', () => {
    for (const get of [getString, getBool, getInt, getStringList, getAttr]) {
      expect(get(undefined, 'S')).toBeUndefined();
      expect(get(ad, 'Missing')).toBeUndefined();
    }
    for (const get of [getString, getBool, getInt, getStringList]) {
      expect(get(ad, 'U')).toBeUndefined();
    }
    expect(getAttr(ad, 'U')).toEqual({ type: 'undefined' });
  });

  test('right types come back', () => {
    expect(getString(ad, 's')).toBe('x');
    expect(getInt(ad, 'I')).toBe(3);
    expect(getInt(ad, 'R2')).toBe(2);
    expect(getBool(ad, 'b')).toBe(true);
    expect(getStringList(ad, 'L')).toEqual(['a', 'b']);
    expect(getStringList(ad, 'S')).toEqual(['x']);
    expect(getStringList(ad, 'Gpus')).toEqual(['GPU-1', 'GPU-2', 'GPU-3']);
    expect(getStringList(ad, 'Blank')).toEqual([]);
  });

  test.each<[string, (a: ClassAd, n: string) => unknown, string, string]>([
    ['I', getString, 'SingularityImage', 'must be a string, got an integer'],
    ['B', getString, 'B', 'must be a string, got a boolean'],
    ['E', getString, 'E', 'must be a string, got error'],
    ['L', getString, 'L', 'must be a string, got a list'],
    ['X', getString, 'X', 'must be a string, got an expression (MY.Foo + 1)'],
    ['S', getBool, 'S', 'must be a boolean, got a string'],
    ['I', getBool, 'I', 'must be a boolean, got an integer'],
    ['R', getInt, 'R', 'must be an integer, got a real'],
    ['S', getInt, 'S', 'must be an integer, got a string'],
    ['I', getStringList, 'I', 'must be a string or a list of strings, got an integer'],
  ])('%s via %p', (attr, get, shownName, why) => {
    // The message uses the name as the caller spelled it, found case-insensitively.
    const lookup = shownName === 'SingularityImage' ? parseClassAd(`singularityimage = 3`, '/scratch/.job.ad') : ad;
    const name = shownName === 'SingularityImage' ? 'SingularityImage' : attr;
    const e = thrown(() => get(lookup, name));
    expect(e.id).toBe('jobad.bad-attribute');
    expect(e.code).toBe(65);
    expect(e.what).toBe(`attribute ${name} in /scratch/.job.ad`);
    expect(e.why).toBe(why);
  });

  test('a long expression is cut in the message', () => {
    const long = parseClassAd(`X = ${'a + '.repeat(1000)}b`, 'f');
    expect(thrown(() => getString(long, 'X')).why.length).toBeLessThan(120);
  });
});

describe('size and speed', () => {
  test('a 1 MB string with escapes parses in linear time', () => {
    const s = 'ab\\"c\\d"'.repeat(128 * 1024);
    const ad = parseClassAd(`Big = ${renderOld(s)}\n`, 't.ad');
    expect(getString(ad, 'Big')).toBe(s);
  });

  test('a 1 MB expression full of quotes and braces does not blow up', () => {
    const e = `${'{'.repeat(500_000)}"x"${'}'.repeat(500_000)}`;
    expect(value(e)?.type).toBe('expression');
    const q = `f(${'"a\\"b", '.repeat(100_000)}1)`;
    expect(value(q)?.type).toBe('expression');
  });

  test('100 000 attributes', () => {
    const text = Array.from({ length: 100_000 }, (_, i) => `A${i} = ${i}`).join('\n');
    expect(parseClassAd(text, 't.ad').attrs.size).toBe(100_000);
  });
});

describe('properties', () => {
  // Characters that exercise the escaping rule, mixed with any Unicode code point.
  const tricky = fc.constantFrom('"', '\\', "'", ' ', '\t', '\r', '{', '}', ',', '=', '#', '[', ']', ';', 'a');
  const anyChar = fc.oneof(tricky, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
  // NUL and newline cannot be carried: the file is one attribute per line and HTCondor's old
  // syntax has no escape for either (its lexer stops at NUL; its job queue refuses newlines).
  const carriable = fc
    .array(anyChar, { maxLength: 60 })
    .map((cs) => cs.join(''))
    .filter((s) => !s.includes('\0') && !s.includes('\n'));

  test('a string written with HTCondor old-syntax escaping reads back unchanged', () => {
    fc.assert(
      fc.property(carriable, (s) => {
        const ad = parseClassAd(`Attr = ${renderOld(s)}\n`, 'p.ad');
        expect(getString(ad, 'attr')).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  test('a list of strings round-trips when no item ends with a backslash', () => {
    // HTCondor's own lexer has the same limit: `\"` followed by more text is a literal quote.
    const item = carriable.filter((s) => !s.endsWith('\\'));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 5 }), (items) => {
        const ad = parseClassAd(`L = { ${items.map(renderOld).join(',')} }\n`, 'p.ad');
        expect(getAttr(ad, 'L')).toEqual({ type: 'list', items: items.map((v) => ({ type: 'string', value: v })) });
      }),
    );
  });

  test('integers and reals read back as numbers of the right type', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(value(String(n))).toEqual({ type: 'integer', value: n === 0 ? 0 : n });
      }),
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        // %.16G-like rendering with a guaranteed "." or exponent, as the unparser writes reals.
        let t = d.toPrecision(16).toUpperCase();
        if (!/[.E]/.test(t)) t += '.0';
        const v = value(t);
        if (!Number.isFinite(Number(t))) {
          // Rounding to 16 digits can overflow near the largest double: kept as text, not Infinity.
          expect(v).toEqual({ type: 'expression', text: t });
          return;
        }
        expect(v?.type).toBe('real');
        expect(v?.type === 'real' && v.value).toBe(Number(t) === 0 ? 0 : Number(t));
      }),
    );
  });

  test('any text either parses or fails with jobad.malformed, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('"', '\\', '=', '\n', 'a', ' ', '{', '}', ',', '#', '1', '-', '.', '\0', "'") }), (text) => {
        try {
          parseClassAd(text, 'p.ad');
        } catch (e) {
          expect(e).toBeInstanceOf(WrapperError);
          expect((e as WrapperError).id).toBe('jobad.malformed');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('only some attributes (parseClassAdAttrs: the machine ad)', () => {
  const machineAds = fs.readdirSync(ADS).filter((f) => f.endsWith('.machine.ad.txt'));

  test.each(machineAds)('%s: AssignedGPUs and Cpus as the full parse has them', (name) => {
    const text = fs.readFileSync(fixture(name), 'utf8');
    const full = parseClassAd(text, name, 'machine');
    const some = parseClassAdAttrs(text, name, 'machine', ['AssignedGPUs', 'Cpus']);
    expect([...some.attrs.keys()].sort()).toEqual(['assignedgpus', 'cpus'].filter((k) => full.attrs.has(k)));
    for (const [k, v] of some.attrs) expect(v).toEqual(full.attrs.get(k));
  });

  test('any case, the last duplicate wins, comments and look-alike names do not count', () => {
    const ad = parseClassAdAttrs('# AssignedGPUs = "no"\nAssignedGPUsExtra = "no"\nassignedgpus = "GPU-1"\n  ASSIGNEDGPUS = "GPU-2,GPU-3"\n', 'm.ad', 'machine', ['AssignedGPUs']);
    expect(getStringList(ad, 'AssignedGPUs')).toEqual(['GPU-2', 'GPU-3']);
  });

  test('a malformed line elsewhere is not looked at; a malformed wanted one is named by its real line', () => {
    const text = 'Start = ((\nName = "slot1@x"\nAssignedGPUs = "GPU-1\nCpus = 1\n';
    expect(parseClassAdAttrs(text, 'm.ad', 'machine', ['Cpus']).attrs.get('cpus')).toEqual({ type: 'integer', value: 1 });
    const e = thrown(() => parseClassAdAttrs(text, 'm.ad', 'machine', ['AssignedGPUs']));
    expect(e.id).toBe('jobad.malformed');
    expect(e.what).toBe('machine ad m.ad line 3');
    expect(e.why).toBe('AssignedGPUs: unterminated string');
  });

  test('the new-syntax [ ... ] form with ";" line ends', () => {
    const ad = parseClassAdAttrs('[\n  Cpus = 2;\n  AssignedGPUs = "GPU-7";\n]\n', 'm.ad', 'machine', ['AssignedGPUs']);
    expect(getString(ad, 'AssignedGPUs')).toBe('GPU-7');
  });

  test('readClassAdFile with `only` still refuses what is not UTF-8', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cjw-ad-'));
    try {
      const f = path.join(dir, 'm.ad');
      fs.writeFileSync(f, Buffer.concat([Buffer.from('Name = "'), Buffer.from([0xff]), Buffer.from('"\nAssignedGPUs = "GPU-1"\n')]));
      expect(thrown(() => readClassAdFile(f, 'machine', ['AssignedGPUs'])).why).toBe('not valid UTF-8');
      fs.writeFileSync(f, 'Start = ((\nAssignedGPUs = "GPU-1"\n');
      expect(getString(readClassAdFile(f, 'machine', ['AssignedGPUs']), 'AssignedGPUs')).toBe('GPU-1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('property: on any text the full parse accepts, the chosen attributes are the same', () => {
    const name = fc.constantFrom('A', 'a', 'B', 'AssignedGPUs', 'assignedgpus', 'Cpus');
    const rhs = fc.constantFrom('1', '"x"', '"a,b"', 'true', '{ "a" }', 'A + 1', '-2.5', 'undefined', '"q\\"x"');
    const line = fc.oneof(fc.tuple(name, rhs).map(([n, r]) => `${n} = ${r}`), fc.constantFrom('', '# c', '  '));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const text = `${lines.join('\n')}\n`;
        const full = parseClassAd(text, 'p.ad', 'machine');
        const some = parseClassAdAttrs(text, 'p.ad', 'machine', ['AssignedGPUs', 'A']);
        for (const k of ['assignedgpus', 'a']) expect(some.attrs.get(k)).toEqual(full.attrs.get(k));
        expect(some.attrs.size).toBe(['assignedgpus', 'a'].filter((k) => full.attrs.has(k)).length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the one-match fast path for common lines', () => {
  // The bracketed form never takes the fast path: the same line there is the general parser's.
  const general = (line: string): ClassAd => parseClassAd(`[\n${line};\n]\n`, 'g.ad');
  const value = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', ' ', '"', '\\', ',', '/', 'é'), maxLength: 8 }).map((v) => `"${v}"`),
    fc.integer({ min: -1e6, max: 1e6 }).map(String),
    fc.constantFrom('0', '-0', '007', '123456789012345', '1234567890123456', '9007199254740993'),
    fc.constantFrom('0.0', '-0.0', '1.5', '00.5', '1e3', '2.5E-3', '.5', '-.5', '1.', '123456789012345.123456789012345'),
    fc.constantFrom('true', 'false', 'undefined', 'TRUE', 'Undefined', 'error', 'truex', 'x + 1', '{ "a" }'),
  );
  it('gives what the general parser gives, line by line', () => {
    fc.assert(
      fc.property(fc.constantFrom('A', 'Name_1', '_x'), value, (name, v) => {
        const line = `${name} = ${v}`;
        let fast: ClassAd | Error;
        let slow: ClassAd | Error;
        try { fast = parseClassAd(`${line}\n`, 'g.ad'); } catch (e) { fast = e as Error; }
        try { slow = general(line); } catch (e) { slow = e as Error; }
        if (slow instanceof Error) {
          expect(fast).toBeInstanceOf(WrapperError);
          return;
        }
        expect(fast).not.toBeInstanceOf(Error);
        const fv = (fast as ClassAd).attrs.get(name.toLowerCase());
        const sv = slow.attrs.get(name.toLowerCase());
        expect(fv).toBeDefined();
        expect(fv).toEqual(sv);
        // -0 and 0 are one value for toEqual; the parsers must agree on the sign too.
        if (fv !== undefined && sv !== undefined && 'value' in fv && 'value' in sv) expect(Object.is(fv.value, sv.value)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
