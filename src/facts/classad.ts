// Reads the `.job.ad` / `.machine.ad` files the HTCondor starter writes into the scratch dir
// (named by `_CONDOR_JOB_AD` / `_CONDOR_MACHINE_AD`), so the decide rules can see the job's
// image, binds and GPUs without evaluating ClassAd expressions. Values are typed literals;
// anything that would need evaluation is kept as text. Everything in these files can be chosen
// by the job's owner (`+Attr`, arguments, environment): it is parsed as data, never run.
//
// Format, as written by HTCondor's `fPrintAd` (compat_classad.cpp `_sPrintAd`, the "old ClassAd"
// unparser in classad/sink.cpp) and read back by its old-syntax lexer (lexer.cpp
// `tokenizeStringOld`):
// - one `Name = value` per line; names are `[A-Za-z_][A-Za-z0-9_]*`, case-insensitive;
// - strings in double quotes; the ONLY escape written is `"` → `\"`; backslashes, tabs and other
//   control characters are written raw. On reading, `\"` is a literal quote unless it is the last
//   thing in the value, in which case the string ends with a backslash. There is no `\\` or `\n`
//   escape in this syntax, so a value containing a newline cannot be carried (HTCondor's job
//   queue refuses such values, IsValidAttrValue); a raw newline in a file shows up here as an
//   unterminated string and is reported as malformed;
// - integers (decimal, no leading zeros), reals (`1.5`, `.5`, `1E+20`, `-0.0004`), `true`/`false`,
//   `undefined`, `error` (keywords case-insensitive), lists `{ "a","b" }`; everything else
//   (`ifThenElse(...)`, `MY.Foo =!= undefined`, `[ ]`) is an expression.

import { isUtf8 } from 'node:buffer';
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { WrapperError } from '../errors';
import type { AdValue, ClassAd } from './types';

export type AdKind = 'job' | 'machine';

/** Larger than any real ad by three orders of magnitude; bounds memory on a hostile file. */
export const MAX_AD_BYTES = 16 * 1024 * 1024;

/** Deeper list nesting is kept as an expression rather than recursed into (stack safety). */
const MAX_LIST_DEPTH = 32;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
// `Name = literal` ending at a newline or the end of the text (parseClassAd's fast path).
const FAST_LINE = /([A-Za-z_][A-Za-z0-9_]*) = (?:"([^"\\\n\r\0]*)"|(-?(?:0|[1-9][0-9]{0,14}))|(-?[0-9]{1,15}\.[0-9]{1,15})|(true|false|undefined))(?=\n|$)/y;
// Sticky, unambiguous patterns: linear on any input (no nested quantifiers over the same text).
const NUMBER_RE = /-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/y;
// {0,} and not *: "*" + "/" would end the block comment the bundle keeps its code in.
const WORD_RE = /[A-Za-z_][A-Za-z0-9_]{0,}/y;

/** Thrown inside the value parser; turned into a WrapperError naming file and line. */
class LineError extends Error {}

interface Parsed {
  readonly value: AdValue;
  readonly end: number;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';
}

function skipSpace(src: string, pos: number): number {
  let i = pos;
  while (i < src.length && isSpace(src[i])) i++;
  return i;
}

/**
 * Old-syntax string literal starting at `start` (which holds the delimiter). Mirrors HTCondor's
 * tokenizeStringOld: a delimiter preceded by a backslash is literal (the backslash dropped)
 * unless nothing follows it. Returns undefined when the string never ends. Linear: indexOf jumps
 * between delimiters and the pieces are joined once.
 */
function lexString(src: string, start: number, delim: string): { value: string; end: number } | undefined {
  const parts: string[] = [];
  let segStart = start + 1;
  let from = segStart;
  for (;;) {
    const q = src.indexOf(delim, from);
    if (q < 0) return undefined;
    if (q > segStart && src[q - 1] === '\\' && q + 1 < src.length) {
      parts.push(src.slice(segStart, q - 1), delim);
      segStart = q + 1;
      from = q + 1;
      continue;
    }
    parts.push(src.slice(segStart, q));
    return { value: parts.join(''), end: q + 1 };
  }
}

/** Checks that every quoted run in an expression is closed, as HTCondor's parser would. */
function checkQuotes(src: string): void {
  // Jumps from quote to quote with a native search: machine ads hold long expressions, and a
  // character loop over them was most of the time spent reading an ad.
  let i = 0;
  for (;;) {
    QUOTE_RE.lastIndex = i;
    const m = QUOTE_RE.exec(src);
    if (m === null) return;
    const c = m[0];
    const s = lexString(src, m.index, c);
    if (s === undefined) throw new LineError(c === '"' ? 'unterminated string' : 'unterminated quoted name');
    i = s.end;
  }
}
const QUOTE_RE = /["']/g;

function parseNumber(src: string, pos: number): Parsed | undefined {
  NUMBER_RE.lastIndex = pos;
  const m = NUMBER_RE.exec(src);
  if (m === null) return undefined;
  const text = m[0];
  const end = pos + text.length;
  if (/[.eE]/.test(text)) {
    const value = Number(text);
    // An overflowing real (1e999) is kept as text rather than turned into Infinity.
    return Number.isFinite(value) ? { value: { type: 'real', value }, end } : undefined;
  }
  const digits = text.startsWith('-') ? text.slice(1) : text;
  // Old ClassAds have no octal/hex integers: "0123" is not a literal there.
  if (digits.length > 1 && digits.startsWith('0')) return undefined;
  const value = Number(text);
  // Beyond 2^53 a JS number would silently change the value: keep the exact text instead.
  if (!Number.isSafeInteger(value)) return undefined;
  return { value: { type: 'integer', value: value === 0 ? 0 : value }, end };
}

function parseWord(src: string, pos: number): Parsed | undefined {
  WORD_RE.lastIndex = pos;
  const m = WORD_RE.exec(src);
  if (m === null) return undefined;
  const end = pos + m[0].length;
  switch (m[0].toLowerCase()) {
    case 'true':
      return { value: { type: 'boolean', value: true }, end };
    case 'false':
      return { value: { type: 'boolean', value: false }, end };
    case 'undefined':
      return { value: { type: 'undefined' }, end };
    case 'error':
      return { value: { type: 'error' }, end };
    default:
      return undefined;
  }
}

function parseList(src: string, pos: number, depth: number): Parsed | undefined {
  if (depth >= MAX_LIST_DEPTH) return undefined;
  const items: AdValue[] = [];
  let i = skipSpace(src, pos + 1);
  if (src[i] === '}') return { value: { type: 'list', items }, end: i + 1 };
  for (;;) {
    const item = parseLiteral(src, i, depth + 1);
    if (item === undefined) return undefined;
    items.push(item.value);
    i = skipSpace(src, item.end);
    if (src[i] === ',') {
      i = skipSpace(src, i + 1);
      continue;
    }
    if (src[i] === '}') return { value: { type: 'list', items }, end: i + 1 };
    return undefined;
  }
}

/**
 * A literal at `pos`, or undefined when the text there is not one (the caller then keeps the
 * whole value as an expression). Throws LineError only for an unterminated string.
 */
function parseLiteral(src: string, pos: number, depth: number): Parsed | undefined {
  const c = src[pos];
  if (c === '"') {
    const s = lexString(src, pos, '"');
    if (s === undefined) throw new LineError('unterminated string');
    return { value: { type: 'string', value: s.value }, end: s.end };
  }
  if (c === '{') return parseList(src, pos, depth);
  if (c === '-' || c === '.' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber(src, pos);
  return parseWord(src, pos);
}

/** The value of one attribute: `rhs` is everything after the first `=`, right-trimmed. */
function parseValue(rhs: string): AdValue {
  const start = skipSpace(rhs, 0);
  if (start >= rhs.length) throw new LineError('no value after "="');
  const lit = parseLiteral(rhs, start, 0);
  if (lit !== undefined && skipSpace(rhs, lit.end) === rhs.length) return lit.value;
  checkQuotes(rhs);
  return { type: 'expression', text: rhs.slice(start) };
}

function adWord(kind: AdKind): string {
  return kind === 'machine' ? 'machine ad' : 'job ad';
}

function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0 && isSpace(s[e - 1])) e--;
  return s.slice(0, e);
}

/**
 * Parses the text of an old-syntax ClassAd file (pure). `file` only names the file in errors.
 * Blank lines, `#` comments and a new-syntax `[` / `]` wrapper (with `;` line ends) are
 * tolerated; a later duplicate of a name (in any case) replaces the earlier, as in HTCondor.
 */
export function parseClassAd(text: string, file: string, kind: AdKind = 'job'): ClassAd {
  const attrs = new Map<string, AdValue>();
  let bracketed = false;
  let lineNo = 0;
  let pos = 0;
  while (pos <= text.length) {
    // The line as HTCondor writes nearly all of them, taken in one native match: the same value
    // the general way below gives (a plain string, a decimal integer of at most 15 digits, a
    // plain real such as 0.0, lower-case true, false or undefined). Anything else (expressions,
    // escapes, exponents, lists, odd spacing, the bracketed form's ";") goes the general way.
    // Half the cost of reading a job ad.
    if (!bracketed) {
      FAST_LINE.lastIndex = pos;
      const m = FAST_LINE.exec(text);
      if (m !== null) {
        const [, name = '', str, int, real, word] = m;
        const value: AdValue = str !== undefined
          ? { type: 'string', value: str }
          : int !== undefined
            ? { type: 'integer', value: Number(int) || 0 }
            : real !== undefined
              ? { type: 'real', value: Number(real) }
              : word === 'undefined'
                ? { type: 'undefined' }
                : { type: 'boolean', value: word === 'true' };
        attrs.set(name.toLowerCase(), value);
        pos = FAST_LINE.lastIndex + 1;
        lineNo++;
        continue;
      }
    }
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl < 0 ? text.length : nl;
    const raw = text.slice(pos, lineEnd);
    pos = lineEnd + 1;
    lineNo++;
    const fail = (why: string): WrapperError =>
      new WrapperError('jobad.malformed', `${adWord(kind)} ${file} line ${lineNo}`, why);

    if (raw.includes('\0')) throw fail('contains a NUL byte');
    let line = trimEnd(raw);
    const body = line.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    if (body === '[') {
      bracketed = true;
      continue;
    }
    if (body === ']' && bracketed) continue;
    if (bracketed && line.endsWith(';')) line = trimEnd(line.slice(0, -1));

    const eq = line.indexOf('=');
    if (eq < 0) throw fail('expected "Name = value"');
    const name = line.slice(0, eq).trim();
    if (!NAME_RE.test(name)) {
      const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
      throw fail(`bad attribute name "${shown}" (letters, digits and _ only, not starting with a digit)`);
    }
    try {
      attrs.set(name.toLowerCase(), parseValue(line.slice(eq + 1)));
    } catch (e) {
      if (e instanceof LineError) throw fail(`${name}: ${e.message}`);
      throw e;
    }
  }
  return { file, attrs };
}

/** Finds the 1-based line holding the first invalid UTF-8 sequence (only called on failure). */
function badUtf8Line(buf: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  while (start <= buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    try {
      decoder.decode(buf.subarray(start, end));
    } catch {
      return line;
    }
    start = end + 1;
    line++;
  }
  return line;
}

function errnoOf(e: unknown): string {
  // Structural, not instanceof: errors from fs may come from another realm (e.g. under jest).
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return String(e);
}

/**
 * Only the lines of `names` (any case) of an ad's text, parsed as parseClassAd would, with their
 * line numbers in errors; the rest is not looked at. For an ad of which a job needs one or two
 * attributes (the machine ad: AssignedGPUs), where parsing every line cost more than any rule.
 * A `[ ... ]` new-syntax wrapper is handled as in parseClassAd.
 */
export function parseClassAdAttrs(text: string, file: string, kind: AdKind, names: readonly string[]): ClassAd {
  for (const n of names) if (!NAME_RE.test(n)) throw new Error(`parseClassAdAttrs: not an attribute name: ${n}`);
  // One native scan for the wanted names at a line start; the name must end at space or "=".
  const re = new RegExp(`^[ \\t\\r\\f\\v]*(?:${names.join('|')})[ \\t\\r\\f\\v]*=`, 'gim');
  const bracketed = /^[ \t\r\f\v]*\[[ \t\r\f\v]*$/m.test(text);
  const attrs = new Map<string, AdValue>();
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const end = text.indexOf('\n', m.index);
    let line = text.slice(m.index, end < 0 ? text.length : end);
    if (bracketed) line = trimEnd(line).replace(/;$/, '');
    // Parsed on its own, then named by its real line number if it is malformed.
    let one: ClassAd;
    try {
      one = parseClassAd(line, file, kind);
    } catch (e) {
      if (!(e instanceof WrapperError)) throw e;
      let lineNo = 1;
      for (let i = text.indexOf('\n'); i >= 0 && i < m.index; i = text.indexOf('\n', i + 1)) lineNo++;
      throw new WrapperError(e.id, `${adWord(kind)} ${file} line ${lineNo}`, e.why);
    }
    for (const [k, v] of one.attrs) attrs.set(k, v);
  }
  return { file, attrs };
}

/**
 * Reads and parses a ClassAd file: the module's only I/O. Bounded to MAX_AD_BYTES; refuses
 * anything but a regular file (a FIFO is opened non-blocking so it cannot hang the wrapper);
 * invalid UTF-8 is an error rather than silently replaced, so values reach the runtime unaltered.
 * With `only`, just those attributes are parsed (parseClassAdAttrs).
 */
export function readClassAdFile(path: string, kind: AdKind = 'job', only?: readonly string[]): ClassAd {
  const what = `${adWord(kind)} ${path}`;
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    throw new WrapperError('jobad.unreadable', what, `cannot read it: ${errnoOf(e)}`);
  }
  let buf: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new WrapperError('jobad.unreadable', what, 'not a regular file');
    // Counted rather than trusting st_size (the file may grow while we read it), but sized from
    // it: one buffer and two reads for the usual ad, not a fresh 64 KiB chunk per read.
    const cap = MAX_AD_BYTES + 1;
    buf = Buffer.allocUnsafe(Math.min(cap, st.size + 4096));
    let total = 0;
    for (;;) {
      if (total === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(cap, buf.length * 2));
        buf.copy(bigger, 0, 0, total);
        buf = bigger;
      }
      const n = readSync(fd, buf, total, buf.length - total, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_AD_BYTES) {
        throw new WrapperError('jobad.unreadable', what, `larger than the ${MAX_AD_BYTES / 1024 / 1024} MiB limit for ClassAd files`);
      }
    }
    buf = buf.subarray(0, total);
  } catch (e) {
    if (e instanceof WrapperError) throw e;
    throw new WrapperError('jobad.unreadable', what, `cannot read it: ${errnoOf(e)}`);
  } finally {
    closeSync(fd);
  }
  if (!isUtf8(buf)) throw new WrapperError('jobad.malformed', `${what} line ${badUtf8Line(buf)}`, 'not valid UTF-8');
  const text = buf.toString('utf8');
  return only === undefined ? parseClassAd(text, path, kind) : parseClassAdAttrs(text, path, kind, only);
}

// ---- typed access for the decide rules ----

function describe(v: AdValue): string {
  switch (v.type) {
    case 'string':
      return 'a string';
    case 'integer':
      return 'an integer';
    case 'real':
      return 'a real';
    case 'boolean':
      return 'a boolean';
    case 'undefined':
      return 'undefined';
    case 'error':
      return 'error';
    case 'list':
      return 'a list';
    case 'expression': {
      // Shown so the owner sees what they wrote; the error line is sanitized by errors.ts.
      const t = v.text.length > 60 ? `${v.text.slice(0, 60)}…` : v.text;
      return `an expression (${t})`;
    }
  }
}

function badType(ad: ClassAd, name: string, want: string, got: AdValue): WrapperError {
  return new WrapperError('jobad.bad-attribute', `attribute ${name} in ${ad.file}`, `must be ${want}, got ${describe(got)}`);
}

/** The raw value of `name` (any case), or undefined when the ad or the attribute is absent. */
export function getAttr(ad: ClassAd | undefined, name: string): AdValue | undefined {
  return ad?.attrs.get(name.toLowerCase());
}

/** A string attribute; undefined when absent or `undefined`; any other type is the job's error. */
export function getString(ad: ClassAd | undefined, name: string): string | undefined {
  if (ad === undefined) return undefined;
  const v = getAttr(ad, name);
  if (v === undefined || v.type === 'undefined') return undefined;
  if (v.type === 'string') return v.value;
  throw badType(ad, name, 'a string', v);
}

/** A boolean attribute (no truthiness: `1` or `"true"` are type errors, as HTCondor's EvalBool). */
export function getBool(ad: ClassAd | undefined, name: string): boolean | undefined {
  if (ad === undefined) return undefined;
  const v = getAttr(ad, name);
  if (v === undefined || v.type === 'undefined') return undefined;
  if (v.type === 'boolean') return v.value;
  throw badType(ad, name, 'a boolean', v);
}

/** An integer attribute; an integral real (machine ads print `TotalCpus = 2.0`) is accepted. */
export function getInt(ad: ClassAd | undefined, name: string): number | undefined {
  if (ad === undefined) return undefined;
  const v = getAttr(ad, name);
  if (v === undefined || v.type === 'undefined') return undefined;
  if (v.type === 'integer') return v.value;
  if (v.type === 'real' && Number.isSafeInteger(v.value)) return v.value;
  throw badType(ad, name, 'an integer', v);
}

/**
 * A list of strings: either a ClassAd list of strings or one string of items separated by
 * commas and/or whitespace (how HTCondor writes SingularityBind and AssignedGPUs). Empty items
 * are dropped.
 */
export function getStringList(ad: ClassAd | undefined, name: string): readonly string[] | undefined {
  if (ad === undefined) return undefined;
  const v = getAttr(ad, name);
  if (v === undefined || v.type === 'undefined') return undefined;
  if (v.type === 'string') return v.value.split(/[\s,]+/).filter((s) => s !== '');
  if (v.type === 'list') {
    const out: string[] = [];
    for (const item of v.items) {
      if (item.type !== 'string') throw badType(ad, name, 'a list of strings', item);
      out.push(item.value);
    }
    return out;
  }
  throw badType(ad, name, 'a string or a list of strings', v);
}
