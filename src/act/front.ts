// The bridge between the POSIX front of the bundled file and Node (SPEC S1).
// The front (bash -p, see scripts/front.sh) starts Node with an EMPTY environment, so nothing the
// job exported (NODE_OPTIONS, NODE_PATH, ...) can steer it, and reads our decision back from fd 3
// as NUL-separated records; then it execs the result itself. That gives a real exec (same pid,
// no Node resident) on every Node version, with or without process.execve.

import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { WrapperError } from '../errors';

export const FRONT_MARKER = '--cjw-front-v1';
const FRONT_FD = 3;

/** What the wrapper hands over in the end. */
export type Handover =
  | { readonly kind: 'exec'; readonly argv: readonly string[]; readonly env: ReadonlyMap<string, string> }
  | { readonly kind: 'exit'; readonly code: number }
  /** The trusted sshd of condor_ssh_to_job: the front execs its own argv (less `skip` wrapper options) and environment unchanged. */
  | { readonly kind: 'pass'; readonly skip: number };


/** Splits a NUL-separated /proc record block into strings, refusing what is not valid UTF-8 (S3). */
export function decodeRecords(buf: Buffer, what: (i: number) => string): string[] {
  // The common case in one pass: the whole block is valid UTF-8, so each record is too (NUL is
  // a one-byte code point and never part of a sequence). Record by record only to name a bad one.
  if (isUtf8(buf)) {
    if (buf.length === 0) return [];
    const out = buf.toString('utf8').split('\0');
    if (buf[buf.length - 1] === 0) out.pop();
    return out;
  }
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0) continue;
    out.push(decodeOne(buf.subarray(start, i), what(out.length)));
    start = i + 1;
  }
  if (start < buf.length) out.push(decodeOne(buf.subarray(start), what(out.length)));
  return out;
}

function decodeOne(bytes: Uint8Array, what: string): string {
  try {
    // Only on the slow path (invalid UTF-8 somewhere): not built at start-up.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new WrapperError('invocation.not-utf8', what, 'not valid UTF-8; refusing to pass it on altered');
  }
}

/** KEY=VALUE strings → ordered map; entries without "=" or with an empty name are dropped (execve would keep them, no shell can use them). */
export function envFromEntries(entries: readonly string[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq <= 0) continue;
    const k = e.slice(0, eq);
    if (!env.has(k)) env.set(k, e.slice(eq + 1));
  }
  return env;
}

/** What the failure path needs from the environment (act/report.ts): the error file and the job ad. */
export const REPORTING_KEYS: readonly string[] = ['_CONDOR_WRAPPER_ERROR_FILE', '_CONDOR_JOB_AD'];

/**
 * The failure path's entries, each decoded on its own, so that a job's variable that is not
 * UTF-8 does not hide where the error goes (S7). The first entry of a name wins, as in
 * envFromEntries; one that is not UTF-8 itself is left out.
 */
export function reportingEntries(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0, start);
    if (end < 0) end = buf.length;
    for (const k of REPORTING_KEYS) {
      if (seen.has(k) || end - start <= k.length || buf.toString('latin1', start, start + k.length + 1) !== `${k}=`) continue;
      seen.add(k);
      const value = buf.subarray(start + k.length + 1, end);
      if (isUtf8(value)) out.set(k, value.toString('utf8'));
    }
    start = end + 1;
  }
  return out;
}

/**
 * A /proc file whole (its size reads as 0). With the same open/read/close calls the loader has
 * already made (scripts/loader.js): Node's readFileSync would be more of Node's own code compiled
 * at every job's start.
 */
export function readProcFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(16 * 1024);
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 4);
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) return buf.subarray(0, got);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The job's environment exactly as the starter gave it to the front: /proc/PPID/environ is the
 * front's initial environment block (bash never rewrites it). When the block does not decode,
 * `reporting` receives the failure path's entries before the error is thrown.
 */
export function readFrontEnvironment(ppid: number, reporting?: Map<string, string>): Map<string, string> {
  const buf = readProcFile(`/proc/${ppid}/environ`);
  try {
    return envFromEntries(decodeRecords(buf, (i) => `environment entry ${i + 1}`));
  } catch (e) {
    if (reporting !== undefined) for (const [k, v] of reportingEntries(buf)) reporting.set(k, v);
    throw e;
  }
}

/**
 * The job's argv exactly, from the front's own /proc/PID/cmdline: the front passes Node only its
 * pid and the argument count, never the job's arguments (Node honours options such as --env-file
 * anywhere on its own command line). bash never rewrites its argv, so the front's cmdline ends
 * with exactly its "$@". Layout of ours: node, script, marker, pid, count.
 */
export function readFrontArgv(): string[] {
  const own = readProcFile('/proc/self/cmdline').toString('latin1').split('\0');
  const at = own.indexOf(FRONT_MARKER);
  const pid = Number(own[at + 1]);
  const count = Number(own[at + 2]);
  if (at < 0 || !Number.isSafeInteger(pid) || !Number.isSafeInteger(count) || count < 0) throw new Error('front marker, pid or count missing from /proc/self/cmdline');
  // Our parent must be that front: a reparented Node (the front died) must not read another's argv.
  if (pid !== process.ppid) throw new Error(`the front (pid ${String(pid)}) is not this process's parent (${String(process.ppid)})`);
  const buf = readProcFile(`/proc/${String(pid)}/cmdline`);
  // Records before the job's arguments: bash, its options, the script (for naming a bad one).
  let records = 0;
  for (const b of buf) if (b === 0) records++;
  const all = decodeRecords(buf, (i) => `argument ${String(i - (records - count) + 1)}`);
  if (count > all.length) throw new Error(`the front's cmdline holds ${String(all.length)} entries, fewer than its ${String(count)} arguments`);
  // decodeRecords drops the final NUL's empty tail; an empty last argument is still a record.
  return all.slice(all.length - count);
}

/**
 * Writes the decision for the front. Records: "CJW2", then "exec", envc, env…, argc, argv… or
 * "exit", code; then "END". Framing: "CJW2" and the table's length in 8 digits, the table (each
 * record's byte length, space-separated), then the records back to back. bash reads a pipe one
 * byte per read(2) when it looks for a delimiter, but reads `read -N len` in bulk: with lengths
 * up front, a job's 3 KB environment costs the front a few dozen reads instead of thousands.
 */
export function writeHandover(h: Handover): void {
  const buf = encodeHandover(h);
  let off = 0;
  while (off < buf.length) off += writeSync(FRONT_FD, buf, off);
  closeSync(FRONT_FD);
}

/** The bytes writeHandover sends (see there). */
export function encodeHandover(h: Handover): Buffer {
  const rec: string[] = ['CJW2'];
  if (h.kind === 'exit') {
    rec.push('exit', String(h.code));
  } else if (h.kind === 'pass') {
    rec.push('pass', String(h.skip));
  } else {
    const file = h.argv[0];
    // env(1) would read a command containing "=" as one more assignment.
    if (file === undefined || file.includes('=')) {
      throw new WrapperError('internal.exec', `exec ${file ?? '(nothing)'}`, 'the program path is empty or contains "=", which env(1) cannot run');
    }
    rec.push('exec', String(h.env.size));
    for (const [k, v] of h.env) rec.push(`${k}=${v}`);
    rec.push(String(h.argv.length), ...h.argv);
  }
  rec.push('END');
  // One string and one buffer for the whole decision; the table holds each record's UTF-8 length.
  const lengths: number[] = [];
  for (const r of rec) {
    if (r.includes('\0')) throw new WrapperError('invocation.not-utf8', 'handover', 'a value contains a NUL byte');
    lengths.push(Buffer.byteLength(r, 'utf8'));
  }
  const table = lengths.join(' ');
  const buf = Buffer.from(`CJW2${String(table.length).padStart(8, '0')}${table}${rec.join('')}`, 'utf8');
  // Only a lone surrogate (never from UTF-8 input) could make the joined bytes differ.
  if (buf.length !== 12 + table.length + lengths.reduce((a, b) => a + b, 0)) {
    throw new WrapperError('invocation.not-utf8', 'handover', 'a value is not valid Unicode text');
  }
  return buf;
}
