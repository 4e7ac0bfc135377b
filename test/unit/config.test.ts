// Site configuration loader (SPEC S8): file order, syntax, validation, glidein mapping, and the
// rule that the job's environment is never read.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WrapperError } from '../../src/errors';
import {
  CONFIG_DIR,
  CONFIG_FILE,
  DEFAULT_CONFIG_FILES,
  configProblemsOf,
  configSources,
  editDistance,
  glideinOverlay,
  loadConfig,
  nodeConfigFs,
  parseConfig,
  type ConfigFs,
} from '../../src/facts/config/load';
import { renderConfigurationDoc, renderExampleWrapperEnv } from '../../src/facts/config/docs';
import { SCHEMA, type Config } from '../../src/facts/config/schema';

function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

/** An in-memory file tree: paths map to texts; `unreadable` paths exist but fail with EACCES. */
function fakeFs(files: Record<string, string>, unreadable: readonly string[] = []): ConfigFs {
  const dirOf = (p: string): string => p.slice(0, p.lastIndexOf('/'));
  const all = [...Object.keys(files), ...unreadable];
  return {
    readFile(path) {
      if (unreadable.includes(path)) throw errno('EACCES', path);
      const text = files[path];
      if (text === undefined) throw errno('ENOENT', path);
      return text;
    },
    readdir(path) {
      if (unreadable.includes(path)) throw errno('EACCES', path);
      return all.filter((p) => dirOf(p) === path).map((p) => p.slice(path.length + 1));
    },
    exists(path) {
      return all.some((p) => p === path || p.startsWith(`${path}/`));
    },
  };
}

function src(path: string, text: string): { path: string; text: string } {
  return { path, text };
}

function parseOne(text: string): Config {
  return parseConfig([src('/t/wrapper.env', text)]);
}

/** Runs f and returns the WrapperError it throws (failing the test if it throws nothing else). */
function caught(f: () => unknown): WrapperError {
  try {
    f();
  } catch (e) {
    if (e instanceof WrapperError) return e;
    throw e;
  }
  throw new Error('expected a WrapperError, nothing was thrown');
}

const DEFAULTS = {
  mode: 'OPTIONAL',
  voMode: 'OPTIONAL',
  nested: 'auto',
  gpuFlag: '--nv',
  runtime: '',
  runtimeNames: [],
  passthrough: [],
  defaultImage: '',
  images: new Map(),
  imageAllow: [],
  binds: [],
  bindAllow: [],
  bindDeny: [],
  targetDir: '/srv',
  envDrop: ['LD_LIBRARY_PATH', 'LD_PRELOAD', 'LD_AUDIT', 'PYTHONPATH', 'PYTHONHOME', 'PERL5LIB'],
  envSet: new Map(),
  extraArgs: [],
  setupDir: '',
  testDir: '',
  insideDir: '',
  hookTimeoutSeconds: 60,
  log: { kind: 'off' },
  logLevel: 'info',
  glideinConfig: '',
  origins: new Map(),
};

describe('defaults', () => {
  it('no files at all: every field at its default, no origins', () => {
    expect(parseConfig([])).toEqual(DEFAULTS);
    expect(loadConfig(undefined, fakeFs({}))).toEqual(DEFAULTS);
  });

  it('the commented example wrapper.env, uncommented, gives the defaults again', () => {
    const text = renderExampleWrapperEnv()
      .split('\n')
      .filter((l) => /^# CJW_[A-Z_]+=/.test(l))
      .map((l) => l.slice(2))
      .join('\n');
    expect(text.split('\n')).toHaveLength(SCHEMA.length);
    const parsed = parseOne(text);
    expect({ ...parsed, origins: new Map() }).toEqual(DEFAULTS);
    expect(parsed.origins.size).toBe(SCHEMA.length);
  });

  it.each(SCHEMA.map((s) => [s.key, s.example] as const))('the documented example of %s is valid: %s', (key, example) => {
    expect(() => parseOne(`${key}='${example}'`)).not.toThrow();
  });

  it('every sh block of docs/configuration.md is a valid wrapper.env', () => {
    const blocks = [...renderConfigurationDoc().matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThan(SCHEMA.length);
    for (const b of blocks) expect(() => parseOne(b)).not.toThrow();
  });

  it('DEFAULT_CONFIG_FILES names the two standard sources in order', () => {
    expect(DEFAULT_CONFIG_FILES).toEqual(['/etc/condor-job-wrapper/wrapper.env', '/etc/condor-job-wrapper/wrapper.env.d/*.env']);
  });
});

describe('every key type', () => {
  const cases: [string, string, (c: Config) => unknown, unknown][] = [
    ['enum', 'CJW_MODE=REQUIRED', (c) => c.mode, 'REQUIRED'],
    ['enum, lower case normalized', 'CJW_MODE=required', (c) => c.mode, 'REQUIRED'],
    ['enum alias REQUIRED_GWMS', 'CJW_MODE=REQUIRED_GWMS', (c) => c.mode, 'REQUIRED'],
    ['enum alias, lower case', 'CJW_MODE=required_gwms', (c) => c.mode, 'REQUIRED'],
    ['enum alias DISABLE_GWMS', 'CJW_VO_MODE=DISABLE_GWMS', (c) => c.voMode, 'DISABLE'],
    ['enum DISABLE', 'CJW_VO_MODE=disable', (c) => c.voMode, 'DISABLE'],
    ['enum nested', 'CJW_NESTED=yes', (c) => c.nested, 'yes'],
    ['enum gpu flag', 'CJW_GPU_FLAG=--rocm', (c) => c.gpuFlag, '--rocm'],
    ['enum log level', 'CJW_LOG_LEVEL=debug', (c) => c.logLevel, 'debug'],
    ['path-or-empty', 'CJW_RUNTIME=/usr/bin/apptainer', (c) => c.runtime, '/usr/bin/apptainer'],
    ['path-or-empty, empty', 'CJW_RUNTIME=', (c) => c.runtime, ''],
    ['path', 'CJW_TARGET_DIR=/scratch', (c) => c.targetDir, '/scratch'],
    ['list', 'CJW_RUNTIME_NAMES=apptainer-suid, /opt/s/bin/sing ,,', (c) => c.runtimeNames, ['apptainer-suid', '/opt/s/bin/sing']],
    ['list by newlines', 'CJW_PASSTHROUGH="a\nb\n\n c "', (c) => c.passthrough, ['a', 'b', 'c']],
    ['list, empty', 'CJW_ENV_DROP=', (c) => c.envDrop, []],
    ['env-drop prefix', 'CJW_ENV_DROP=LD_*,MY_PILOT_*', (c) => c.envDrop, ['LD_*', 'MY_PILOT_*']],
    ['path-list', 'CJW_BIND_ALLOW=/cvmfs/**,/data/*', (c) => c.bindAllow, ['/cvmfs/**', '/data/*']],
    ['path-list deny', 'CJW_BIND_DENY=/etc/**', (c) => c.bindDeny, ['/etc/**']],
    ['image allow list', 'CJW_IMAGE_ALLOW=docker://x/*,/cvmfs/**', (c) => c.imageAllow, ['docker://x/*', '/cvmfs/**']],
    ['map-list images', 'CJW_IMAGES=rhel8=/i/el8,rhel9=/i/el9', (c) => [...c.images], [['rhel8', '/i/el8'], ['rhel9', '/i/el9']]],
    ['map-list env, value with = and empty', 'CJW_ENV_SET=A=b=c,B=', (c) => [...c.envSet], [['A', 'b=c'], ['B', '']]],
    ['map-list, repeated name: later wins', 'CJW_ENV_SET=A=1,A=2', (c) => [...c.envSet], [['A', '2']]],
    ['extra args, one argv entry each', 'CJW_EXTRA_ARGS=--ipc,--env,OSG=1', (c) => c.extraArgs, ['--ipc', '--env', 'OSG=1']],
    ['hook dirs', 'CJW_SETUP_DIR=/s\nCJW_TEST_DIR=/t\nCJW_INSIDE_DIR=/i', (c) => [c.setupDir, c.testDir, c.insideDir], ['/s', '/t', '/i']],
    ['seconds, integer', 'CJW_HOOK_TIMEOUT=30', (c) => c.hookTimeoutSeconds, 30],
    ['seconds, decimal', 'CJW_HOOK_TIMEOUT=0.5', (c) => c.hookTimeoutSeconds, 0.5],
    ['seconds, maximum', 'CJW_HOOK_TIMEOUT=86400', (c) => c.hookTimeoutSeconds, 86400],
    ['log off', 'CJW_LOG=off', (c) => c.log, { kind: 'off' }],
    ['log syslog', 'CJW_LOG=syslog', (c) => c.log, { kind: 'syslog' }],
    ['log file', 'CJW_LOG=file:/var/log/cjw.log', (c) => c.log, { kind: 'file', path: '/var/log/cjw.log' }],
    ['glidein config path', 'CJW_GLIDEIN_CONFIG=/g/glidein_config', (c) => c.glideinConfig, '/g/glidein_config'],
    ['default image', 'CJW_DEFAULT_IMAGE=/cvmfs/x/el9:latest', (c) => c.defaultImage, '/cvmfs/x/el9:latest'],
    ['comment and export lines', '# site\nexport CJW_NESTED=no # inline', (c) => c.nested, 'no'],
  ];
  it.each(cases)('%s: %j', (_name, text, pick, expected) => {
    expect(pick(parseOne(text))).toEqual(expected);
  });

  it('binds: dst defaults to src, opts to empty', () => {
    expect(parseOne('CJW_BINDS=/cvmfs,/a:/b,/c:/d:ro,/e:/f:rw').binds).toEqual([
      { src: '/cvmfs', dst: '/cvmfs', opts: '', required: false, text: '/cvmfs' },
      { src: '/a', dst: '/b', opts: '', required: false, text: '/a:/b' },
      { src: '/c', dst: '/d', opts: 'ro', required: false, text: '/c:/d:ro' },
      { src: '/e', dst: '/f', opts: 'rw', required: false, text: '/e:/f:rw' },
    ]);
  });
});

describe('escapes and required binds', () => {
  it.each([
    ['\\, is a literal comma in a list', 'CJW_EXTRA_ARGS=--bind,/a\\,/b', (c: Config) => c.extraArgs, ['--bind', '/a,/b']],
    ['\\\\ is a literal backslash', 'CJW_EXTRA_ARGS=a\\\\,b', (c: Config) => c.extraArgs, ['a\\', 'b']],
    ['other backslashes stay', 'CJW_EXTRA_ARGS=a\\d', (c: Config) => c.extraArgs, ['a\\d']],
    ['\\: stays literal outside binds', 'CJW_EXTRA_ARGS=a\\:b', (c: Config) => c.extraArgs, ['a\\:b']],
    ['\\, in an env value', 'CJW_ENV_SET=LIST=a\\,b,X=1', (c: Config) => [...c.envSet], [['LIST', 'a,b'], ['X', '1']]],
  ])('%s', (_name, text, pick, expected) => {
    expect(pick(parseOne(text))).toEqual(expected);
  });

  it('\\: is a literal colon inside a bind path, \\, a literal comma', () => {
    expect(parseOne('CJW_BINDS=/data/my\\:dir:/data:ro,/x\\,y').binds).toEqual([
      { src: '/data/my:dir', dst: '/data', opts: 'ro', required: false, text: '/data/my\\:dir:/data:ro' },
      { src: '/x,y', dst: '/x,y', opts: '', required: false, text: '/x\\,y' },
    ]);
  });

  it('a trailing ! marks a bind required, whatever its fields', () => {
    const binds = parseOne('CJW_BINDS=/cvmfs!,/etc/grid-security:/etc/grid-security:ro!,/opt').binds;
    expect(binds.map((b) => [b.src, b.dst, b.opts, b.required])).toEqual([
      ['/cvmfs', '/cvmfs', '', true],
      ['/etc/grid-security', '/etc/grid-security', 'ro', true],
      ['/opt', '/opt', '', false],
    ]);
  });
});

describe('file order and precedence', () => {
  const files = {
    [CONFIG_FILE]: 'CJW_LOG_LEVEL=debug\nCJW_RUNTIME_NAMES=main\nCJW_TEST_DIR=/main',
    [`${CONFIG_DIR}/a.env`]: 'CJW_RUNTIME_NAMES=a\nCJW_SETUP_DIR=/a',
    [`${CONFIG_DIR}/B.env`]: 'CJW_RUNTIME_NAMES=B\nCJW_SETUP_DIR=/B\nCJW_INSIDE_DIR=/B',
    [`${CONFIG_DIR}/10-x.env`]: 'CJW_RUNTIME_NAMES=10-x\nCJW_INSIDE_DIR=/10\nCJW_NESTED=no',
    [`${CONFIG_DIR}/README`]: 'this is not a config file',
    [`${CONFIG_DIR}/50-old.env.rpmsave`]: 'CJW_BOGUS=1',
    [`${CONFIG_DIR}/.hidden.env`]: 'CJW_BOGUS=1',
    '/admin/test.env': 'CJW_RUNTIME_NAMES=cli',
  };

  it('wrapper.env, then wrapper.env.d/*.env in byte order, then --config', () => {
    expect(configSources('/admin/test.env', fakeFs(files)).map((s) => s.path)).toEqual([
      CONFIG_FILE,
      `${CONFIG_DIR}/10-x.env`,
      `${CONFIG_DIR}/B.env`,
      `${CONFIG_DIR}/a.env`,
      '/admin/test.env',
    ]);
  });

  it('a later file replaces a key, and origins name the file that set it', () => {
    const c = loadConfig('/admin/test.env', fakeFs(files));
    expect(c.runtimeNames).toEqual(['cli']);
    expect(c.setupDir).toBe('/a'); // a.env sorts after B.env in byte order
    expect(c.insideDir).toBe('/B'); // B.env after 10-x.env
    expect(c.testDir).toBe('/main');
    expect(c.nested).toBe('no');
    expect(c.logLevel).toBe('debug');
    expect(Object.fromEntries(c.origins)).toEqual({
      CJW_LOG_LEVEL: CONFIG_FILE,
      CJW_RUNTIME_NAMES: '/admin/test.env',
      CJW_TEST_DIR: CONFIG_FILE,
      CJW_SETUP_DIR: `${CONFIG_DIR}/a.env`,
      CJW_INSIDE_DIR: `${CONFIG_DIR}/B.env`,
      CJW_NESTED: `${CONFIG_DIR}/10-x.env`,
    });
  });

  it('without --config, the drop-ins win over wrapper.env', () => {
    expect(loadConfig(undefined, fakeFs(files)).runtimeNames).toEqual(['a']);
  });

  it('lists are replaced, not appended', () => {
    const c = parseConfig([src('/1', 'CJW_BINDS=/a,/b\nCJW_ENV_SET=A=1,B=2'), src('/2', 'CJW_BINDS=/c\nCJW_ENV_SET=C=3')]);
    expect(c.binds.map((b) => b.src)).toEqual(['/c']);
    expect([...c.envSet]).toEqual([['C', '3']]);
  });

  it('a later empty value empties a list', () => {
    expect(parseConfig([src('/1', 'CJW_ENV_DROP=A'), src('/2', 'CJW_ENV_DROP=')]).envDrop).toEqual([]);
  });

  it('only a drop-in dir, no wrapper.env: fine', () => {
    expect(loadConfig(undefined, fakeFs({ [`${CONFIG_DIR}/x.env`]: 'CJW_MODE=NEVER' })).mode).toBe('NEVER');
  });
});

describe('unreadable files', () => {
  it.each([
    ['an existing wrapper.env that cannot be read', undefined, fakeFs({}, [CONFIG_FILE]), CONFIG_FILE, 'EACCES'],
    ['a drop-in that cannot be read', undefined, fakeFs({}, [`${CONFIG_DIR}/x.env`]), `${CONFIG_DIR}/x.env`, 'EACCES'],
    ['a drop-in dir that cannot be listed', undefined, fakeFs({}, [CONFIG_DIR]), CONFIG_DIR, 'EACCES'],
    ['a missing --config file', '/nope.env', fakeFs({}), '/nope.env', 'ENOENT'],
  ])('%s is config.unreadable naming file and errno', (_name, extra, fs, file, code) => {
    const e = caught(() => loadConfig(extra, fs));
    expect(e.id).toBe('config.unreadable');
    expect(e.code).toBe(78);
    expect(e.errorClass).toBe('node');
    expect(e.line).toBe(`condor-job-wrapper: node error: config ${file}: cannot read it: ${code}`);
  });

  it('a named glidein_config that is missing is unreadable too', () => {
    const e = caught(() => loadConfig(undefined, fakeFs({ [CONFIG_FILE]: 'CJW_GLIDEIN_CONFIG=/g/glidein_config' })));
    expect(e.id).toBe('config.unreadable');
    expect(e.what).toBe('config /g/glidein_config');
  });

  it('nodeConfigFs: absent is false, present is true, reads and lists for real', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cjw-config-'));
    try {
      writeFileSync(join(dir, 'b.env'), 'CJW_MODE=NEVER\n');
      expect(nodeConfigFs.exists(join(dir, 'b.env'))).toBe(true);
      expect(nodeConfigFs.exists(join(dir, 'missing'))).toBe(false);
      expect(nodeConfigFs.exists(join(dir, 'b.env', 'below-a-file'))).toBe(false);
      expect(nodeConfigFs.readdir(dir)).toEqual(['b.env']);
      expect(parseConfig([src('b', nodeConfigFs.readFile(join(dir, 'b.env')))]).mode).toBe('NEVER');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('unknown keys', () => {
  it.each([
    ['CJW_BIND', 'did you mean CJW_BINDS?'],
    ['CJW_MODES', 'did you mean CJW_MODE?'],
    ['cjw_mode', 'did you mean CJW_MODE?'],
    ['CJW_HOOK_TIMOUT', 'did you mean CJW_HOOK_TIMEOUT?'],
    ['CJW_VOMODE', 'did you mean CJW_VO_MODE?'],
    ['RUNTIME', 'did you mean CJW_RUNTIME?'],
    ['CJW_FROBNICATE', 'see docs/configuration.md for the keys; upgrade the wrapper before its config'],
    ['X', 'see docs/configuration.md for the keys; upgrade the wrapper before its config'],
    ['GLIDEIN_SINGULARITY_REQUIRE', 'it is a glideinWMS glidein_config knob: set CJW_MODE here'],
  ])('%s: %s', (key, hint) => {
    const e = caught(() => parseConfig([src('/etc/x.env', `CJW_MODE=NEVER\n${key}=1`)]));
    expect(e.id).toBe('config.unknown-key');
    expect(e.code).toBe(78);
    expect(e.what).toBe('config /etc/x.env');
    expect(e.why).toContain(`unknown key ${key} (${hint}`);
  });

  it('an unknown key in an otherwise ignored position still fails: after valid keys, in a drop-in', () => {
    const e = caught(() => loadConfig(undefined, fakeFs({ [CONFIG_FILE]: 'CJW_MODE=NEVER', [`${CONFIG_DIR}/z.env`]: 'CJW_BIND=/x' })));
    expect(e.line).toBe(`condor-job-wrapper: node error: config ${CONFIG_DIR}/z.env: unknown key CJW_BIND (did you mean CJW_BINDS?)`);
  });

  it('editDistance counts a transposition as one edit', () => {
    expect(editDistance('CJW_MDOE', 'CJW_MODE')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('bad values: exit 78 naming key, value and the allowed form', () => {
  it.each([
    ['CJW_MODE=SOMETIMES', 'CJW_MODE=SOMETIMES is not one of NEVER, OPTIONAL, PREFERRED, REQUIRED'],
    ['CJW_MODE=', 'CJW_MODE= is not one of NEVER'],
    ['CJW_VO_MODE=DISABLED', 'CJW_VO_MODE=DISABLED is not one of NEVER, OPTIONAL, PREFERRED, REQUIRED, DISABLE'],
    ['CJW_NESTED=AUTO', 'CJW_NESTED=AUTO is not one of auto, yes, no'],
    ['CJW_GPU_FLAG=nv', 'CJW_GPU_FLAG=nv is not one of --nv, --rocm, --nvccli'],
    ['CJW_LOG_LEVEL=trace', 'CJW_LOG_LEVEL=trace is not one of info, debug'],
    ['CJW_RUNTIME=apptainer', 'CJW_RUNTIME=apptainer is not an absolute path, or empty'],
    ['CJW_TARGET_DIR=', 'CJW_TARGET_DIR= is not an absolute path'],
    ['CJW_TARGET_DIR=srv', 'CJW_TARGET_DIR=srv is not an absolute path'],
    ['CJW_HOOK_TIMEOUT=0', 'CJW_HOOK_TIMEOUT=0 is not a number of seconds greater than 0 and at most 86400'],
    ['CJW_HOOK_TIMEOUT=-5', 'CJW_HOOK_TIMEOUT=-5 is not a number of seconds'],
    ['CJW_HOOK_TIMEOUT=1e3', 'CJW_HOOK_TIMEOUT=1e3 is not a number of seconds'],
    ['CJW_HOOK_TIMEOUT=86401', 'CJW_HOOK_TIMEOUT=86401 is not a number of seconds'],
    ['CJW_HOOK_TIMEOUT=60s', 'CJW_HOOK_TIMEOUT=60s is not a number of seconds'],
    ['CJW_LOG=file:relative.log', 'CJW_LOG=file:relative.log is not off, syslog or file:/absolute/path'],
    ['CJW_LOG=stderr', 'CJW_LOG=stderr is not off, syslog or file:/absolute/path'],
    ['CJW_BINDS=cvmfs', 'CJW_BINDS=cvmfs is not a list of src[:dst[:opts]] binds, src and dst absolute paths, opts ro or rw, a trailing ! marking a required bind: entry "cvmfs" has a source that is not an absolute path'],
    ['CJW_BINDS=/a:b', 'entry "/a:b" has a destination that is not an absolute path'],
    ['CJW_BINDS=/a::ro', 'entry "/a::ro" has a destination that is not an absolute path'],
    ['CJW_BINDS=/a:/b:rx', 'entry "/a:/b:rx" has options "rx", not ro or rw'],
    ['CJW_BINDS=/a:/b:ro:x', 'entry "/a:/b:ro:x" is not src[:dst[:opts]]'],
    ['CJW_BINDS=/a:/b:', 'entry "/a:/b:" has options "", not ro or rw'],
    ['CJW_BIND_ALLOW=cvmfs/**', 'CJW_BIND_ALLOW=cvmfs/** is not a list of absolute paths or globs'],
    ['CJW_BIND_DENY=/etc/**,~root', 'entry "~root" is not absolute'],
    ['CJW_ENV_SET=1BAD=x', '"1BAD" is not a variable name'],
    ['CJW_ENV_SET=NOEQUALS', 'entry "NOEQUALS" has no "="'],
    ['CJW_ENV_SET==x', '"" is not a variable name'],
    ['CJW_IMAGES=rhel9', 'entry "rhel9" has no "="'],
    ['CJW_IMAGES==/img', 'entry "=/img" needs an OS name and an image'],
    ['CJW_IMAGES=rhel9=', 'entry "rhel9=" needs an OS name and an image'],
    ['CJW_ENV_DROP=LD-PRELOAD', 'entry "LD-PRELOAD" is not a variable name'],
    ['CJW_ENV_DROP=*', 'entry "*" is not a variable name'],
    ['CJW_GLIDEIN_CONFIG=glidein_config', 'CJW_GLIDEIN_CONFIG=glidein_config is not an absolute path, or empty'],
  ])('%s', (text, why) => {
    const e = caught(() => parseConfig([src('/etc/site.env', text)]));
    expect(e.id).toBe('config.bad-value');
    expect(e.code).toBe(78);
    expect(e.errorClass).toBe('node');
    expect(e.what).toBe('config /etc/site.env');
    expect(e.why).toContain(why);
  });

  it('the error names the file that set the bad value, not the last file read', () => {
    const e = caught(() => parseConfig([src('/1.env', 'CJW_LOG=loud'), src('/2.env', 'CJW_MODE=NEVER')]));
    expect(e.line).toBe('condor-job-wrapper: node error: config /1.env: CJW_LOG=loud is not off, syslog or file:/absolute/path');
  });

  it('a bad value overridden by a later file is not an error', () => {
    expect(parseConfig([src('/1.env', 'CJW_LOG=loud'), src('/2.env', 'CJW_LOG=syslog')]).log).toEqual({ kind: 'syslog' });
  });
});

describe('relative paths are config errors (SPEC S8), in every path-valued key', () => {
  // Every key whose value is (or holds) a path, with a relative value and the entry the error names.
  const relative: [string, string][] = [
    ['CJW_RUNTIME', 'usr/bin/apptainer'],
    ['CJW_RUNTIME_NAMES', 'apptainer-suid,opt/sing/bin/singularity'],
    ['CJW_PASSTHROUGH', 'bin/condor_pid_ns_init'],
    ['CJW_DEFAULT_IMAGE', 'cvmfs/el9'],
    ['CJW_IMAGES', 'rhel9=cvmfs/el9'],
    ['CJW_IMAGE_ALLOW', '/cvmfs/**,tmp/images/*'],
    ['CJW_BINDS', 'cvmfs'],
    ['CJW_BIND_ALLOW', 'data/**'],
    ['CJW_BIND_DENY', 'etc/**'],
    ['CJW_TARGET_DIR', 'srv'],
    ['CJW_SETUP_DIR', 'setup.d'],
    ['CJW_TEST_DIR', 'test.d'],
    ['CJW_INSIDE_DIR', 'inside.d'],
    ['CJW_LOG', 'file:log/cjw.log'],
    ['CJW_GLIDEIN_CONFIG', 'glidein_config'],
  ];

  it('the table covers every key of the schema whose type or meaning is a path', () => {
    const pathTypes = new Set(['path', 'path-or-empty', 'path-list', 'bind-list', 'log']);
    // Lists whose entries are paths by meaning, not by type (they also take basenames or URIs).
    const byMeaning = ['CJW_RUNTIME_NAMES', 'CJW_PASSTHROUGH', 'CJW_IMAGES', 'CJW_IMAGE_ALLOW'];
    const pathKeys = SCHEMA.filter((s) => pathTypes.has(s.type.kind) || byMeaning.includes(s.key)).map((s) => s.key).sort();
    expect(relative.map(([k]) => k).sort()).toEqual(pathKeys);
  });

  it.each(relative)('%s=%s is refused with 78, naming the key', (key, value) => {
    const e = caught(() => parseConfig([src('/etc/site.env', `${key}=${value}`)]));
    expect(e.id).toBe('config.bad-value');
    expect(e.code).toBe(78);
    expect(e.why).toMatch(new RegExp(`^${key}=`));
  });

  it('CJW_IMAGE_ALLOW: the relative entry is named; absolute globs and listed URIs are fine', () => {
    const e = caught(() => parseOne('CJW_IMAGE_ALLOW=/cvmfs/**,tmp/x/*'));
    expect(e.why).toBe('CJW_IMAGE_ALLOW=/cvmfs/**,tmp/x/* is not a list of absolute paths or globs (* within a directory, ** across), or URIs: entry "tmp/x/*" is neither an absolute path nor a URI');
    expect(parseOne('CJW_IMAGE_ALLOW=/cvmfs/**,docker://docker.io/library/*').imageAllow).toEqual(['/cvmfs/**', 'docker://docker.io/library/*']);
  });

  it('CJW_RUNTIME_NAMES and CJW_PASSTHROUGH: basenames and absolute paths are fine', () => {
    const c = parseOne('CJW_RUNTIME_NAMES=apptainer-suid,/opt/s/bin/singularity\nCJW_PASSTHROUGH=condor_pid_ns_init');
    expect(c.runtimeNames).toEqual(['apptainer-suid', '/opt/s/bin/singularity']);
    expect(c.passthrough).toEqual(['condor_pid_ns_init']);
  });

  it('CJW_IMAGES: an image URI is fine', () => {
    expect(parseOne('CJW_IMAGES=rhel9=docker://almalinux:9').images).toEqual(new Map([['rhel9', 'docker://almalinux:9']]));
  });
});

describe('every problem at once (SPEC S8)', () => {
  it('parseConfig: unknown keys and bad values of several files, one problem each, in file order', () => {
    const e = caught(() => parseConfig([
      src('/1.env', 'CJW_MODE=SOMETIMES\nCJW_BIND=/x\nCJW_IMAGE_ALLOW=tmp/*'),
      src('/2.env', 'CJW_LOG=loud\nCJW_TARGET_DIR=srv'),
    ]));
    const problems = configProblemsOf(e);
    expect(problems.map((p) => `${p.what}: ${p.why.split(' is ')[0] ?? ''}`)).toEqual([
      'config /1.env: unknown key CJW_BIND (did you mean CJW_BINDS?)',
      'config /1.env: CJW_MODE=SOMETIMES',
      'config /1.env: CJW_IMAGE_ALLOW=tmp/*',
      'config /2.env: CJW_TARGET_DIR=srv',
      'config /2.env: CJW_LOG=loud',
    ]);
    for (const p of problems) expect(p.code).toBe(78);
    // The job's one line names the first and counts the rest; the word "config" appears once.
    expect(e.code).toBe(78);
    expect(e.line).toBe('condor-job-wrapper: node error: config /1.env: unknown key CJW_BIND (did you mean CJW_BINDS?) (and 4 more config problems: condor-job-wrapper --check lists them)');
  });

  it('one problem: the line is exactly that problem, no count', () => {
    const e = caught(() => parseOne('CJW_MODE=SOMETIMES'));
    expect(configProblemsOf(e)).toHaveLength(1);
    expect(e.line).toBe('condor-job-wrapper: node error: config /t/wrapper.env: CJW_MODE=SOMETIMES is not one of NEVER, OPTIONAL, PREFERRED, REQUIRED (any case); REQUIRED_GWMS is accepted as REQUIRED');
  });

  it('loadConfig: an unreadable drop-in and a bad value elsewhere are both reported', () => {
    const fs = fakeFs({ [CONFIG_FILE]: 'CJW_MODE=maybe', [`${CONFIG_DIR}/a.env`]: 'CJW_NESTED=sometimes' }, [`${CONFIG_DIR}/b.env`]);
    const problems = configProblemsOf(caught(() => loadConfig('/site.env', fs)));
    expect(problems.map((p) => [p.id, p.what])).toEqual([
      ['config.unreadable', `config ${CONFIG_DIR}/b.env`],
      ['config.unreadable', 'config /site.env'],
      ['config.bad-value', `config ${CONFIG_FILE}`],
      ['config.bad-value', `config ${CONFIG_DIR}/a.env`],
    ]);
  });

  it('loadConfig: a bad glidein_config value is reported with the files\' own problems', () => {
    const fs = fakeFs({ [CONFIG_FILE]: 'CJW_GLIDEIN_CONFIG=/g/glidein_config\nCJW_LOG_LEVEL=loud', '/g/glidein_config': 'GLIDEIN_SINGULARITY_OPTS "-B /x"' });
    const problems = configProblemsOf(caught(() => loadConfig(undefined, fs)));
    expect(problems.map((p) => p.why.split('=')[0])).toEqual(['GLIDEIN_SINGULARITY_OPTS', 'CJW_LOG_LEVEL']);
    expect(problems.map((p) => p.what)).toEqual(['config /g/glidein_config', `config ${CONFIG_FILE}`]);
  });
});

describe('hostile values', () => {
  it('a newline inside a quoted path is refused', () => {
    const e = caught(() => parseOne('CJW_RUNTIME="/usr/bin/apptainer\n/evil"'));
    expect(e.id).toBe('config.bad-value');
    expect(e.line).not.toContain('\n'); // the one error line stays one line
  });

  it('a newline inside a quoted list value separates entries', () => {
    expect(parseOne('CJW_BINDS="/a\n/b!"').binds.map((b) => [b.src, b.required])).toEqual([['/a', false], ['/b', true]]);
  });

  it('a 100 KB value is read whole, and a bad one is shortened in the message', () => {
    const big = `/${'x'.repeat(100 * 1024)}`;
    expect(parseOne(`CJW_RUNTIME_NAMES=${big}`).runtimeNames).toEqual([big]);
    const e = caught(() => parseOne(`CJW_MODE=${'Y'.repeat(100 * 1024)}`));
    expect(e.id).toBe('config.bad-value');
    expect(e.line.length).toBeLessThan(400);
    expect(e.why).toContain(`(${100 * 1024} characters)`);
  });

  it.each(['CJW_RUNTIME=/usr/bin/app\0tainer', 'CJW_EXTRA_ARGS=--ipc\0', 'CJW_ENV_SET=A=\0', 'CJW_LOG=file:/x\0y'])(
    'a NUL byte is refused for every key type: %j',
    (text) => {
      const e = caught(() => parseOne(text));
      expect(e.id).toBe('config.bad-value');
      expect(e.why).toContain('it contains a NUL byte');
      expect(e.line).not.toContain('\0');
    },
  );

  it('shell syntax is not interpreted: $(…) and ${…} stay literal', () => {
    expect(parseOne('CJW_EXTRA_ARGS=$(id),${HOME}').extraArgs).toEqual(['$(id)', '${HOME}']);
  });
});

describe('the job environment is never read', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, saved);
  });

  it('CJW_* variables in the environment change nothing', () => {
    Object.assign(process.env, {
      CJW_MODE: 'NEVER',
      CJW_VO_MODE: 'DISABLE',
      CJW_BINDS: '/',
      CJW_ENV_DROP: '',
      CJW_LOG: 'file:/tmp/forged',
      CJW_GLIDEIN_CONFIG: '/tmp/evil',
      CJW_BIND: 'typo-would-fail-if-read',
      GLIDEIN_SINGULARITY_REQUIRE: 'NEVER',
    });
    expect(loadConfig(undefined, fakeFs({}))).toEqual(DEFAULTS);
    expect(loadConfig(undefined, fakeFs({ [CONFIG_FILE]: 'CJW_NESTED=no' })).mode).toBe('OPTIONAL');
  });

  it('the loader sources do not mention process.env at all', () => {
    for (const f of ['load.ts', 'schema.ts', 'docs.ts']) {
      const text = readFileSync(join(__dirname, '../../src/facts/config', f), 'utf8');
      expect({ f, reads: text.includes('process.env') }).toEqual({ f, reads: false });
    }
  });
});

describe('glideinWMS glidein_config', () => {
  // Shaped like a real glidein_config after the factory and frontend scripts ran.
  const GLIDEIN = [
    'ADD_CONFIG_LINE_SOURCE /pilot/glide_abc/add_config_line.source',
    'ERROR_GEN_PATH /pilot/glide_abc/error_gen.sh',
    'GLIDEIN_Site MySite',
    'GLIDEIN_SINGULARITY_REQUIRE OPTIONAL',
    'GLIDEIN_Singularity_Use PREFERRED',
    'SINGULARITY_IMAGES_DICT rhel7:/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el7:latest,rhel9:/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest,default:/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el8:latest',
    'GLIDEIN_REQUIRED_OS any',
    'GLIDEIN_SINGULARITY_BINDPATH /etc/hosts,/cvmfs,/hadoop:/mnt/hadoop:ro',
    'GLIDEIN_SINGULARITY_OPTS --ipc  --env  OSG=1',
    'SINGULARITY_IMAGE_RESTRICTIONS cvmfs',
    'GLIDEIN_SINGULARITY_REQUIRE REQUIRED_GWMS',
    '',
  ].join('\n');
  const G = '/pilot/glide_abc/glidein_config';

  it('glideinOverlay maps the knobs onto our keys (last line of a knob wins)', () => {
    expect(glideinOverlay(GLIDEIN, G)).toEqual({
      CJW_MODE: 'REQUIRED_GWMS',
      CJW_VO_MODE: 'PREFERRED',
      CJW_IMAGES:
        'rhel7=/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el7:latest,rhel9=/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest,default=/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el8:latest',
      CJW_DEFAULT_IMAGE: '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el8:latest',
      CJW_BINDS: '/etc/hosts,/cvmfs,/hadoop:/mnt/hadoop:ro',
      CJW_EXTRA_ARGS: '--ipc,--env,OSG=1',
    });
  });

  it('loadConfig applies it under our files: our keys win, origins name the glidein_config', () => {
    const fs = fakeFs({ [CONFIG_FILE]: `CJW_GLIDEIN_CONFIG=${G}\nCJW_VO_MODE=OPTIONAL`, [G]: GLIDEIN });
    const c = loadConfig(undefined, fs);
    expect(c.mode).toBe('REQUIRED');
    expect(c.voMode).toBe('OPTIONAL');
    expect(c.images.get('rhel9')).toBe('/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest');
    expect(c.defaultImage).toBe('/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el8:latest');
    expect(c.binds.map((b) => [b.src, b.dst, b.opts])).toEqual([['/etc/hosts', '/etc/hosts', ''], ['/cvmfs', '/cvmfs', ''], ['/hadoop', '/mnt/hadoop', 'ro']]);
    expect(c.extraArgs).toEqual(['--ipc', '--env', 'OSG=1']);
    expect(c.origins.get('CJW_MODE')).toBe(G);
    expect(c.origins.get('CJW_VO_MODE')).toBe(CONFIG_FILE);
  });

  it('parseConfig without the glidein source ignores CJW_GLIDEIN_CONFIG (it is pure)', () => {
    expect(parseOne(`CJW_GLIDEIN_CONFIG=${G}`).mode).toBe('OPTIONAL');
  });

  it.each([
    ['True', 'REQUIRED'],
    ['true', 'REQUIRED'],
    ['False', 'OPTIONAL'],
    ['NEVER', 'NEVER'],
    ['PREFERRED', 'PREFERRED'],
  ])('GLIDEIN_SINGULARITY_REQUIRE %s gives CJW_MODE %s', (value, mode) => {
    expect(parseConfig([], src(G, `GLIDEIN_SINGULARITY_REQUIRE ${value}\n`)).mode).toBe(mode);
  });

  it('GLIDEIN_Singularity_Use DISABLE_GWMS gives CJW_VO_MODE DISABLE', () => {
    expect(parseConfig([], src(G, 'GLIDEIN_Singularity_Use DISABLE_GWMS')).voMode).toBe('DISABLE');
  });

  it.each([
    ['one required OS with an image picks it', 'rhel9:/i/9,rhel8:/i/8,default:/i/d', 'rhel9', '/i/9'],
    ['one fitting OS among several listed', 'rhel9:/i/9,default:/i/d', 'rhel6,rhel9', '/i/9'],
    ['two fitting OSes: ambiguous, the default entry', 'rhel9:/i/9,rhel8:/i/8,default:/i/d', 'rhel8,rhel9', '/i/d'],
    ['any: the default entry', 'rhel9:/i/9,default:/i/d', 'any', '/i/d'],
    ['no default entry and nothing fits: unset', 'rhel9:/i/9', 'rhel6', ''],
    ['no REQUIRED_OS, no default: unset', 'rhel9:/i/9', '', ''],
  ])('GLIDEIN_REQUIRED_OS: %s', (_name, dict, os, image) => {
    const text = `SINGULARITY_IMAGES_DICT ${dict}\n${os === '' ? '' : `GLIDEIN_REQUIRED_OS ${os}\n`}`;
    expect(parseConfig([], src(G, text)).defaultImage).toBe(image);
  });

  it('dict entries without an image are dropped; images may contain colons', () => {
    const c = parseConfig([], src(G, 'SINGULARITY_IMAGES_DICT rhel9:docker://repo/img:tag,rhel8:,empty'));
    expect([...c.images]).toEqual([['rhel9', 'docker://repo/img:tag']]);
  });

  it('an empty knob is treated as unset, like glideinWMS does', () => {
    expect(parseConfig([], src(G, 'GLIDEIN_SINGULARITY_REQUIRE \nGLIDEIN_Singularity_Use')).mode).toBe('OPTIONAL');
  });

  it('GLIDEIN_SINGULARITY_OPTS with quotes is refused: quoting is not supported', () => {
    const e = caught(() => glideinOverlay('GLIDEIN_SINGULARITY_OPTS --env "A=b c"', G));
    expect(e.id).toBe('config.bad-value');
    expect(e.code).toBe(78);
    expect(e.line).toBe(
      `condor-job-wrapper: node error: config ${G}: GLIDEIN_SINGULARITY_OPTS=--env "A=b c" is not a space-separated option string without quotes (quoting is not supported)`,
    );
  });

  it('commas and backslashes in glidein values stay literal', () => {
    const c = parseConfig([], src(G, 'GLIDEIN_SINGULARITY_OPTS --bind /a,/b x\\y'));
    expect(c.extraArgs).toEqual(['--bind', '/a,/b', 'x\\y']);
  });

  it('a bad mapped value names the glidein_config and the knob', () => {
    const e = caught(() => parseConfig([], src(G, 'GLIDEIN_SINGULARITY_REQUIRE SOMETIMES')));
    expect(e.what).toBe(`config ${G}`);
    expect(e.why).toContain('CJW_MODE=SOMETIMES (mapped from GLIDEIN_SINGULARITY_REQUIRE) is not one of');
  });

  it('a bad mapped value set in our files too is not an error: ours wins', () => {
    expect(parseConfig([src('/w.env', 'CJW_MODE=NEVER')], src(G, 'GLIDEIN_SINGULARITY_REQUIRE SOMETIMES')).mode).toBe('NEVER');
  });

  it('a relative bind in the glidein_config is a bad value', () => {
    const e = caught(() => parseConfig([], src(G, 'GLIDEIN_SINGULARITY_BINDPATH data:/data')));
    expect(e.why).toContain('(mapped from GLIDEIN_SINGULARITY_BINDPATH)');
  });
});
