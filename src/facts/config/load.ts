// Reads the site configuration (SPEC S8): root-owned files in a fixed order, dotenv syntax, one
// schema. The job's environment is never consulted: the wrapper's environment belongs to the job.

// Named imports: a namespace import makes the bundle copy all of node:fs's properties at start-up.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { parse } from 'dotenv';
import { WrapperError } from '../../errors';
import {
  SCHEMA,
  type BindSpec,
  type Config,
  type ConfigKey,
  type KeySpec,
  type LogLevel,
  type LogTarget,
  type NestedSetting,
  type PolicyMode,
  type RequestMode,
} from './schema';

export const CONFIG_FILE = '/etc/condor-job-wrapper/wrapper.env';
export const CONFIG_DIR = '/etc/condor-job-wrapper/wrapper.env.d';
/** The sources in the order they are read; the `--config FILE` of the command line comes last. */
export const DEFAULT_CONFIG_FILES = [CONFIG_FILE, `${CONFIG_DIR}/*.env`] as const;

/** The few file operations the loader needs, injectable so tests never touch /etc. */
export interface ConfigFs {
  readFile(path: string): string;
  readdir(path: string): string[];
  /** False only when the path is absent; other failures (EACCES…) throw. */
  exists(path: string): boolean;
}

export interface ConfigSource {
  readonly path: string;
  readonly text: string;
}

export const nodeConfigFs: ConfigFs = {
  readFile: (path) => readFileSync(path, 'utf8'),
  readdir: (path) => readdirSync(path),
  exists: (path) => {
    // existsSync would also say "absent" for EACCES, silently turning a broken config into defaults.
    try {
      statSync(path);
      return true;
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw e;
    }
  },
};

function errnoOf(e: unknown): string {
  // Not `instanceof Error`: errors from node:fs may come from another realm (vm, jest).
  if (typeof e === 'object' && e !== null) {
    if ('code' in e && typeof e.code === 'string') return e.code;
    if ('message' in e && typeof e.message === 'string') return e.message;
  }
  return String(e);
}

/**
 * Every problem of the config files at once (SPEC S8): the error itself names the first (so the
 * job's one line stays one line) and counts the rest; `problems` holds each one for --check.
 */
export class ConfigProblems extends WrapperError {
  readonly problems: readonly WrapperError[];

  constructor(problems: readonly WrapperError[]) {
    const [first, ...rest] = problems;
    if (first === undefined) throw new Error('ConfigProblems needs at least one problem');
    const more = rest.length === 0 ? '' : ` (and ${rest.length} more config problem${rest.length === 1 ? '' : 's'}: condor-job-wrapper --check lists them)`;
    super(first.id, first.what, `${first.why}${more}`, { code: first.code });
    this.problems = problems;
  }
}

/** The problems a config error stands for: each one of a ConfigProblems, else the error itself. */
export function configProblemsOf(e: WrapperError): readonly WrapperError[] {
  return e instanceof ConfigProblems ? e.problems : [e];
}

function unreadable(path: string, e: unknown): WrapperError {
  return new WrapperError('config.unreadable', `config ${path}`, `cannot read it: ${errnoOf(e)}`);
}

function readSource(path: string, fs: ConfigFs): ConfigSource {
  try {
    return { path, text: fs.readFile(path) };
  } catch (e) {
    throw unreadable(path, e);
  }
}

function exists(path: string, fs: ConfigFs): boolean {
  try {
    return fs.exists(path);
  } catch (e) {
    throw unreadable(path, e);
  }
}

/** Byte order, as the spec says: locale collation would make the order depend on the job's LANG. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Reads the configuration files in precedence order. The standard files may be absent (defaults
 * apply); a file named on the command line must exist; any existing file that cannot be read is
 * an error rather than silently ignored. Every unreadable file is reported, not only the first.
 */
export function configSources(extraFile: string | undefined, fs: ConfigFs): ConfigSource[] {
  const problems: WrapperError[] = [];
  const out = readSources(extraFile, fs, problems);
  if (problems.length > 0) throw new ConfigProblems(problems);
  return out;
}

function readSources(extraFile: string | undefined, fs: ConfigFs, problems: WrapperError[]): ConfigSource[] {
  const out: ConfigSource[] = [];
  const read = (path: string): void => {
    try {
      out.push(readSource(path, fs));
    } catch (e) {
      if (!(e instanceof WrapperError)) throw e;
      problems.push(e);
    }
  };
  const present = (path: string): boolean => {
    try {
      return exists(path, fs);
    } catch (e) {
      if (!(e instanceof WrapperError)) throw e;
      problems.push(e);
      return false;
    }
  };
  if (present(CONFIG_FILE)) read(CONFIG_FILE);
  if (present(CONFIG_DIR)) {
    let names: string[] = [];
    try {
      names = fs.readdir(CONFIG_DIR);
    } catch (e) {
      problems.push(unreadable(CONFIG_DIR, e));
    }
    // Like the shell glob *.env: dot files (editor leftovers) do not match.
    const dropIns = names.filter((n) => n.endsWith('.env') && !n.startsWith('.')).sort(byteOrder);
    for (const name of dropIns) read(`${CONFIG_DIR}/${name}`);
  }
  if (extraFile !== undefined) read(extraFile);
  return out;
}

/** configSources, then the glidein_config the files name (if any), then parseConfig; every problem of all of them at once. */
export function loadConfig(extraFile: string | undefined, fs: ConfigFs = nodeConfigFs): Config {
  const problems: WrapperError[] = [];
  const sources = readSources(extraFile, fs, problems);
  // The glidein_config the files name (the last file setting the key wins); a bad value of the
  // key itself is reported by parseConfig.
  let glideinPath = '';
  for (const src of sources) {
    const v = parse(src.text).CJW_GLIDEIN_CONFIG;
    if (v !== undefined) glideinPath = v;
  }
  let glidein: ConfigSource | undefined;
  if (isAbsolute(glideinPath)) {
    try {
      glidein = readSource(glideinPath, fs);
    } catch (e) {
      if (!(e instanceof WrapperError)) throw e;
      problems.push(e);
    }
  }
  try {
    const config = parseConfig(sources, glidein);
    if (problems.length > 0) throw new ConfigProblems(problems);
    return config;
  } catch (e) {
    if (!(e instanceof WrapperError)) throw e;
    if (e instanceof ConfigProblems && e.problems === problems) throw e;
    throw new ConfigProblems([...problems, ...configProblemsOf(e)]);
  }
}

// ---------------------------------------------------------------------------------------------
// Values

const SPECS: readonly KeySpec[] = SCHEMA;
const SPEC_BY_KEY: ReadonlyMap<string, KeySpec> = new Map(SPECS.map((s) => [s.key, s]));

const MAX_SECONDS = 86400;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The allowed form of a key's value, as a phrase completing "… is not". Shared with the docs. */
export function describeForm(spec: KeySpec): string {
  const t = spec.type;
  switch (t.kind) {
    case 'enum': {
      let s = `one of ${t.values.join(', ')}`;
      if (t.ignoreCase === true) s += ' (any case)';
      const aliases = Object.entries(t.aliases ?? {});
      if (aliases.length > 0) s += `; ${aliases.map(([a, v]) => `${a} is accepted as ${v}`).join(', ')}`;
      return s;
    }
    case 'path':
      return 'an absolute path';
    case 'path-or-empty':
      return 'an absolute path, or empty';
    case 'string':
      return 'a text without NUL bytes';
    case 'list':
      if (spec.key === 'CJW_ENV_DROP') return 'a list of variable names, a trailing * matching a prefix';
      if (spec.key === 'CJW_IMAGE_ALLOW') return 'a list of absolute paths or globs (* within a directory, ** across), or URIs';
      if (spec.key === 'CJW_RUNTIME_NAMES' || spec.key === 'CJW_PASSTHROUGH') return 'a list of basenames (no "/") or absolute paths';
      return 'a list of entries separated by commas or newlines';
    case 'path-list':
      return 'a list of absolute paths or globs (* within a directory, ** across)';
    case 'map-list':
      if (spec.key === 'CJW_ENV_SET') return 'a list of NAME=VALUE entries, NAME a variable name ([A-Za-z_][A-Za-z0-9_]*)';
      if (spec.key === 'CJW_IMAGES') return 'a list of os=image entries, both non-empty, the image an absolute path or a URI';
      return 'a list of KEY=VALUE entries';
    case 'bind-list':
      return 'a list of src[:dst[:opts]] binds, src and dst absolute paths, opts ro or rw, a trailing ! marking a required bind';
    case 'seconds':
      return `a number of seconds greater than 0 and at most ${MAX_SECONDS}`;
    case 'log':
      return 'off, syslog or file:/absolute/path';
  }
}

/** One key's text and where it came from. */
interface Setting {
  readonly value: string;
  readonly file: string;
  /** The glidein_config knob it was mapped from, for messages. */
  readonly via?: string;
}

/** Long or hostile values are shortened so the one error line stays readable. */
function shown(value: string): string {
  return value.length > 100 ? `${value.slice(0, 60)}… (${value.length} characters)` : value;
}

function badValue(key: ConfigKey, s: Setting, detail?: string): WrapperError {
  const spec = SPEC_BY_KEY.get(key);
  const form = spec === undefined ? 'valid' : describeForm(spec);
  const via = s.via === undefined ? '' : ` (mapped from ${s.via})`;
  const why = `${key}=${shown(s.value)}${via} is not ${form}${detail === undefined ? '' : `: ${detail}`}`;
  return new WrapperError('config.bad-value', `config ${s.file}`, why);
}

/**
 * Splits on unescaped separator characters, keeping escapes for the caller to resolve, so that
 * `\,` and `\:` can be handled at the right level (entries, then bind fields).
 */
function splitUnescaped(value: string, seps: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charAt(i);
    if (c === '\\' && i + 1 < value.length) {
      cur += c + value.charAt(i + 1);
      i++;
    } else if (seps.includes(c)) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** List entries still escaped: split on commas and newlines, trimmed, empty ones dropped. */
function rawEntries(value: string): string[] {
  return splitUnescaped(value, ',\n\r')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/** `\,` and `\\` (and `\:` in binds) become the character; any other backslash stays. */
function unescape(raw: string, colon: boolean): string {
  return raw.replace(colon ? /\\([\\,:])/g : /\\([\\,])/g, '$1');
}

function listOf(value: string): string[] {
  return rawEntries(value).map((e) => unescape(e, false));
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/') && !p.includes('\n') && !p.includes('\0');
}

function readEnum(key: ConfigKey, spec: KeySpec, s: Setting): string {
  const t = spec.type;
  if (t.kind !== 'enum') throw badValue(key, s);
  const lookup = (v: string): string | undefined => (t.values.includes(v) ? v : t.aliases?.[v]);
  const found = lookup(s.value) ?? (t.ignoreCase === true ? lookup(s.value.toUpperCase()) : undefined);
  if (found === undefined) throw badValue(key, s);
  return found;
}

function readPath(key: ConfigKey, s: Setting, emptyOk: boolean): string {
  if (s.value === '' && emptyOk) return '';
  if (!isAbsolute(s.value)) throw badValue(key, s);
  return s.value;
}

function readSeconds(key: ConfigKey, s: Setting): number {
  if (!/^\d+(\.\d+)?$/.test(s.value)) throw badValue(key, s);
  const n = Number(s.value);
  if (!(n > 0 && n <= MAX_SECONDS)) throw badValue(key, s);
  return n;
}

function readLog(key: ConfigKey, s: Setting): LogTarget {
  if (s.value === 'off') return { kind: 'off' };
  if (s.value === 'syslog') return { kind: 'syslog' };
  if (s.value.startsWith('file:')) {
    const path = s.value.slice('file:'.length);
    if (isAbsolute(path)) return { kind: 'file', path };
  }
  throw badValue(key, s);
}

function readPathList(key: ConfigKey, s: Setting): string[] {
  const entries = listOf(s.value);
  for (const e of entries) if (!isAbsolute(e)) throw badValue(key, s, `entry "${shown(e)}" is not absolute`);
  return entries;
}

/** Same test as facts/paths.ts isUri; importing it from there would pull decide/ into the loader. */
function isUri(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s);
}

/** An image glob is an absolute path or a URI (docker://…): a relative one would match nothing a job names. */
function checkImageGlobs(key: ConfigKey, s: Setting, entries: readonly string[]): void {
  for (const e of entries) if (!isAbsolute(e) && !isUri(e)) throw badValue(key, s, `entry "${shown(e)}" is neither an absolute path nor a URI`);
}

/** A program name with a "/" matches argv[1] exactly, which the starter always gives absolute. */
function checkProgramNames(key: ConfigKey, s: Setting, entries: readonly string[]): void {
  for (const e of entries) if (e.includes('/') && !isAbsolute(e)) throw badValue(key, s, `entry "${shown(e)}" has a "/" but is not absolute (a basename has no "/")`);
}

function readEnvDrop(key: ConfigKey, s: Setting): string[] {
  const entries = listOf(s.value);
  for (const e of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(e)) {
      throw badValue(key, s, `entry "${shown(e)}" is not a variable name`);
    }
  }
  return entries;
}

function readMap(key: ConfigKey, s: Setting): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of listOf(s.value)) {
    const eq = e.indexOf('=');
    const name = eq < 0 ? e : e.slice(0, eq);
    const value = eq < 0 ? '' : e.slice(eq + 1);
    if (eq < 0) throw badValue(key, s, `entry "${shown(e)}" has no "="`);
    if (key === 'CJW_ENV_SET' && !ENV_NAME.test(name)) {
      throw badValue(key, s, `"${shown(name)}" is not a variable name`);
    }
    if (key === 'CJW_IMAGES' && (name.trim() === '' || value.trim() === '')) {
      throw badValue(key, s, `entry "${shown(e)}" needs an OS name and an image`);
    }
    if (key === 'CJW_IMAGES' && !isAbsolute(value.trim()) && !isUri(value.trim())) {
      throw badValue(key, s, `entry "${shown(e)}": the image is neither an absolute path nor a URI`);
    }
    // A repeated name: the later entry wins, as a later file wins over an earlier one.
    out.set(key === 'CJW_IMAGES' ? name.trim() : name, key === 'CJW_IMAGES' ? value.trim() : value);
  }
  return out;
}

function readBinds(key: ConfigKey, s: Setting): BindSpec[] {
  return rawEntries(s.value).map((text) => {
    // The `!` is always the entry's last character: a path cannot end in "!" here.
    const required = text.endsWith('!');
    const body = required ? text.slice(0, -1).trimEnd() : text;
    const fields = splitUnescaped(body, ':').map((f) => unescape(f, true));
    const bad = (why: string): WrapperError => badValue(key, s, `entry "${shown(text)}" ${why}`);
    const [src, dstField, opts = ''] = fields;
    if (src === undefined || fields.length > 3) throw bad('is not src[:dst[:opts]]');
    const dst = dstField ?? src;
    if (!isAbsolute(src)) throw bad('has a source that is not an absolute path');
    if (!isAbsolute(dst)) throw bad('has a destination that is not an absolute path');
    if (fields.length === 3 && opts !== 'ro' && opts !== 'rw') throw bad(`has options "${shown(opts)}", not ro or rw`);
    return { src, dst, opts, required, text };
  });
}

// ---------------------------------------------------------------------------------------------
// Keys and files

/** Damerau–Levenshtein (optimal string alignment) distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [];
    for (let j = 0; j <= b.length; j++) row.push(i === 0 ? j : j === 0 ? i : 0);
    d.push(row);
  }
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i];
    if (row === undefined) continue;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charAt(i - 1) === b.charAt(j - 1) ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a.charAt(i - 1) === b.charAt(j - 2) && a.charAt(i - 2) === b.charAt(j - 1)) {
        v = Math.min(v, at(i - 2, j - 2) + 1);
      }
      row[j] = v;
    }
  }
  return at(a.length, b.length);
}

/** The hint for an unknown key: a close schema key, the key a glidein knob maps to, or the docs. */
function unknownKeyHint(key: string): string {
  const knob = GLIDEIN_MAPPING.find((m) => m.knob === key);
  if (knob !== undefined) {
    return `it is a glideinWMS glidein_config knob: set ${knob.key} here, or name the glidein_config with CJW_GLIDEIN_CONFIG`;
  }
  const upper = key.toUpperCase();
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const s of SPECS) {
    const d = Math.min(editDistance(upper, s.key), editDistance(`CJW_${upper}`, s.key));
    if (d < bestD) {
      bestD = d;
      best = s.key;
    }
  }
  // Close enough to be a typo, not so loose that any short key "matches" something.
  if (best !== undefined && bestD <= Math.min(3, Math.max(1, Math.floor(best.length / 4)))) {
    return `did you mean ${best}?`;
  }
  return 'see docs/configuration.md for the keys; upgrade the wrapper before its config';
}

function isConfigKey(key: string): key is ConfigKey {
  return SPEC_BY_KEY.has(key);
}

/**
 * Builds the typed configuration from file texts, later files replacing earlier keys. Pure: the
 * optional glidein_config text is applied under the files (keys set in our files win).
 */
export function parseConfig(sources: readonly ConfigSource[], glidein?: ConfigSource): Config {
  const problems: WrapperError[] = [];
  const settings = new Map<ConfigKey, Setting>();
  for (const src of sources) {
    const parsed = parse(src.text);
    for (const [key, value] of Object.entries(parsed)) {
      if (!isConfigKey(key)) {
        problems.push(new WrapperError('config.unknown-key', `config ${src.path}`, `unknown key ${key} (${unknownKeyHint(key)})`));
        continue;
      }
      settings.set(key, { value, file: src.path });
    }
  }
  if (glidein !== undefined) {
    try {
      const mapped = glideinMapping(glidein.text, glidein.path);
      for (const [key, m] of mapped) {
        if (!settings.has(key)) settings.set(key, { value: m.value, file: glidein.path, via: m.via });
      }
    } catch (e) {
      if (!(e instanceof WrapperError)) throw e;
      problems.push(e);
    }
  }
  return buildConfig(settings, problems);
}

function buildConfig(settings: ReadonlyMap<ConfigKey, Setting>, problems: WrapperError[]): Config {
  const get = (key: ConfigKey): Setting => {
    const s = settings.get(key) ?? { value: SPEC_BY_KEY.get(key)?.default ?? '', file: 'defaults of the schema' };
    // NUL cannot travel in argv or the environment: refuse it for every key, whatever its type.
    if (s.value.includes('\0')) throw badValue(key, s, 'it contains a NUL byte');
    return s;
  };
  const specOf = (key: ConfigKey): KeySpec => {
    const spec = SPEC_BY_KEY.get(key);
    if (spec === undefined) throw new Error(`schema has no key ${key}`);
    return spec;
  };
  // Each key is read on its own: a bad one is noted and the next is still checked (SPEC S8:
  // every problem at once). The fallback only keeps the build going; it is never returned.
  const read = <T>(key: ConfigKey, f: (s: Setting) => T): T | undefined => {
    try {
      return f(get(key));
    } catch (e) {
      if (!(e instanceof WrapperError)) throw e;
      problems.push(e);
      return undefined;
    }
  };
  const en = (key: ConfigKey): string => read(key, (s) => readEnum(key, specOf(key), s)) ?? '';
  const path = (key: ConfigKey, emptyOk: boolean): string => read(key, (s) => readPath(key, s, emptyOk)) ?? '';
  const list = (key: ConfigKey, check?: (key: ConfigKey, s: Setting, entries: string[]) => void): string[] =>
    read(key, (s) => {
      const entries = listOf(s.value);
      check?.(key, s, entries);
      return entries;
    }) ?? [];

  const origins = new Map<ConfigKey, string>();
  for (const [key, s] of settings) origins.set(key, s.file);

  const config: Config = {
    mode: en('CJW_MODE') as PolicyMode,
    voMode: en('CJW_VO_MODE') as RequestMode,
    nested: en('CJW_NESTED') as NestedSetting,
    gpuFlag: en('CJW_GPU_FLAG'),
    runtime: path('CJW_RUNTIME', true),
    runtimeNames: list('CJW_RUNTIME_NAMES', checkProgramNames),
    passthrough: list('CJW_PASSTHROUGH', checkProgramNames),
    defaultImage: path('CJW_DEFAULT_IMAGE', true),
    images: read('CJW_IMAGES', (s) => readMap('CJW_IMAGES', s)) ?? new Map<string, string>(),
    imageAllow: list('CJW_IMAGE_ALLOW', checkImageGlobs),
    binds: read('CJW_BINDS', (s) => readBinds('CJW_BINDS', s)) ?? [],
    bindAllow: read('CJW_BIND_ALLOW', (s) => readPathList('CJW_BIND_ALLOW', s)) ?? [],
    bindDeny: read('CJW_BIND_DENY', (s) => readPathList('CJW_BIND_DENY', s)) ?? [],
    targetDir: path('CJW_TARGET_DIR', false),
    envDrop: read('CJW_ENV_DROP', (s) => readEnvDrop('CJW_ENV_DROP', s)) ?? [],
    envSet: read('CJW_ENV_SET', (s) => readMap('CJW_ENV_SET', s)) ?? new Map<string, string>(),
    extraArgs: list('CJW_EXTRA_ARGS'),
    setupDir: path('CJW_SETUP_DIR', true),
    testDir: path('CJW_TEST_DIR', true),
    insideDir: path('CJW_INSIDE_DIR', true),
    hookTimeoutSeconds: read('CJW_HOOK_TIMEOUT', (s) => readSeconds('CJW_HOOK_TIMEOUT', s)) ?? 0,
    log: read('CJW_LOG', (s) => readLog('CJW_LOG', s)) ?? { kind: 'off' },
    logLevel: en('CJW_LOG_LEVEL') as LogLevel,
    glideinConfig: path('CJW_GLIDEIN_CONFIG', true),
    origins,
  };
  if (problems.length > 0) throw new ConfigProblems(problems);
  return config;
}
// ---------------------------------------------------------------------------------------------
// glideinWMS glidein_config

/** Which glidein_config knob feeds which key, and how; also the table of docs/configuration.md. */
export const GLIDEIN_MAPPING = [
  {
    knob: 'GLIDEIN_SINGULARITY_REQUIRE',
    key: 'CJW_MODE',
    rule: 'NEVER, OPTIONAL, PREFERRED, REQUIRED as is; REQUIRED_GWMS as REQUIRED; the legacy True as REQUIRED and False as OPTIONAL (any case).',
  },
  {
    knob: 'GLIDEIN_Singularity_Use',
    key: 'CJW_VO_MODE',
    rule: 'As is (DISABLE_GWMS is accepted as DISABLE). Unset leaves CJW_VO_MODE at its default, where glideinWMS would assume DISABLE_GWMS.',
  },
  {
    knob: 'SINGULARITY_IMAGES_DICT',
    key: 'CJW_IMAGES',
    rule: '`os:image,os2:image2` becomes `os=image,os2=image2` (the first ":" separates, images may contain more); entries without an image are dropped, as glideinWMS does.',
  },
  {
    knob: 'GLIDEIN_REQUIRED_OS',
    key: 'CJW_DEFAULT_IMAGE',
    rule: 'When exactly one of its OS names (`any` ignored) has a SINGULARITY_IMAGES_DICT image, that image; otherwise the dict\'s `default` entry, if any. The image must be an absolute path (a URI is refused with 78): set CJW_DEFAULT_IMAGE in our files to override.',
  },
  {
    knob: 'GLIDEIN_SINGULARITY_BINDPATH',
    key: 'CJW_BINDS',
    rule: 'The comma list `src[:dst[:opts]]` as is (missing sources are skipped with a warning, as glideinWMS drops them).',
  },
  {
    knob: 'GLIDEIN_SINGULARITY_OPTS',
    key: 'CJW_EXTRA_ARGS',
    rule: 'Split on white space, one argument per word. Quoting is not supported: a value with a quote is refused (78).',
  },
] as const satisfies readonly { knob: string; key: ConfigKey; rule: string }[];

/** glidein_config: one `KEY VALUE` per line; the value is the rest of the line; the last line wins. */
function parseGlideinConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.trim() === '' || l.startsWith('#')) continue;
    const sp = l.indexOf(' ');
    const key = sp < 0 ? l : l.slice(0, sp);
    out.set(key, sp < 0 ? '' : l.slice(sp + 1).trim());
  }
  return out;
}

/** Our list syntax gives "\" and "," a meaning; glidein values carry them literally. */
function escapeEntry(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
}

interface Mapped {
  readonly value: string;
  readonly via: string;
}

function glideinMapping(text: string, file: string): Map<ConfigKey, Mapped> {
  const g = parseGlideinConfig(text);
  const out = new Map<ConfigKey, Mapped>();
  const knob = (name: string): string | undefined => {
    const v = g.get(name);
    // glideinWMS treats an empty value as unset.
    return v === undefined || v === '' ? undefined : v;
  };
  const refuse = (name: string, value: string, why: string): WrapperError =>
    new WrapperError('config.bad-value', `config ${file}`, `${name}=${shown(value)} is not ${why}`);

  const require = knob('GLIDEIN_SINGULARITY_REQUIRE');
  if (require !== undefined) {
    // Before glideinWMS 3.5 the knob was a boolean; True meant "must use Singularity".
    const lower = require.toLowerCase();
    const value = lower === 'true' ? 'REQUIRED' : lower === 'false' ? 'OPTIONAL' : require;
    out.set('CJW_MODE', { value, via: 'GLIDEIN_SINGULARITY_REQUIRE' });
  }

  const use = knob('GLIDEIN_Singularity_Use');
  if (use !== undefined) out.set('CJW_VO_MODE', { value: use, via: 'GLIDEIN_Singularity_Use' });

  const dict = knob('SINGULARITY_IMAGES_DICT');
  const images = new Map<string, string>();
  if (dict !== undefined) {
    for (const entry of dict.split(',').map((e) => e.trim())) {
      const colon = entry.indexOf(':');
      if (entry === '' || colon < 0) continue;
      const os = entry.slice(0, colon).trim();
      const image = entry.slice(colon + 1).trim();
      if (image === '') continue;
      if (os === '' || os.includes('=')) {
        throw refuse('SINGULARITY_IMAGES_DICT', dict, `a list of os:image entries: entry "${shown(entry)}" has no usable OS name`);
      }
      // The first entry for an OS wins, as glideinWMS's dict_get_val finds the first.
      if (!images.has(os)) images.set(os, image);
    }
    if (images.size > 0) {
      const value = [...images].map(([os, image]) => `${escapeEntry(os)}=${escapeEntry(image)}`).join(',');
      out.set('CJW_IMAGES', { value, via: 'SINGULARITY_IMAGES_DICT' });
    }
  }

  const requiredOs = knob('GLIDEIN_REQUIRED_OS');
  const osNames = (requiredOs ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '' && o !== 'any');
  const fitting = new Set(osNames.flatMap((o) => { const i = images.get(o); return i === undefined ? [] : [i]; }));
  const [only] = fitting;
  if (fitting.size === 1 && only !== undefined) {
    out.set('CJW_DEFAULT_IMAGE', { value: only, via: 'GLIDEIN_REQUIRED_OS and SINGULARITY_IMAGES_DICT' });
  } else {
    const dflt = images.get('default');
    if (dflt !== undefined) out.set('CJW_DEFAULT_IMAGE', { value: dflt, via: 'SINGULARITY_IMAGES_DICT default entry' });
  }

  const binds = knob('GLIDEIN_SINGULARITY_BINDPATH');
  if (binds !== undefined) {
    const value = binds.split(',').map((b) => b.trim()).filter((b) => b !== '').map((b) => b.replace(/\\/g, '\\\\')).join(',');
    out.set('CJW_BINDS', { value, via: 'GLIDEIN_SINGULARITY_BINDPATH' });
  }

  const opts = knob('GLIDEIN_SINGULARITY_OPTS');
  if (opts !== undefined) {
    // glideinWMS expands the string unquoted, so quotes never grouped words there either.
    if (/["']/.test(opts)) {
      throw refuse('GLIDEIN_SINGULARITY_OPTS', opts, 'a space-separated option string without quotes (quoting is not supported)');
    }
    const value = opts.split(/\s+/).filter((w) => w !== '').map(escapeEntry).join(',');
    out.set('CJW_EXTRA_ARGS', { value, via: 'GLIDEIN_SINGULARITY_OPTS' });
  }
  return out;
}

/** The keys a glidein_config sets, as wrapper.env values (lists already in our escaped syntax). */
export function glideinOverlay(glideinConfigText: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, m] of glideinMapping(glideinConfigText, file)) out[key] = m.value;
  return out;
}
