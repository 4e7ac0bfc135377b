// Shared pieces of the fuzz and hostile-input suite (issue 14): a site fixture (a recording
// stand-in runtime, images, job ads that agree with them, one config per site mode), the
// generator of starter-like and job-built command lines, and the size/seed settings.
// `npm test` runs it at a bounded size; `npm run fuzz -- --runs N --seed S` runs it long
// (scripts/fuzz.mjs sets CJW_FUZZ_RUNS / CJW_FUZZ_BUNDLE_RUNS / CJW_FUZZ_SEED).

import fc from 'fast-check';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tableFor } from '../../src/invocation/families/index';

export const ROOT = resolve(__dirname, '../..');
export const BUNDLE = join(ROOT, 'wrapper/condor-job-wrapper');

/** Lines through the in-process parse → facts → decide path per run of the suite. */
export const RUNS = Number(process.env.CJW_FUZZ_RUNS ?? 2000);
/** Lines through the real bundle (one process each). */
export const BUNDLE_RUNS = Number(process.env.CJW_FUZZ_BUNDLE_RUNS ?? 150);
/** Printed on every failure by fast-check ("seed: N"); fixed with CJW_FUZZ_SEED to reproduce. */
export const SEED = process.env.CJW_FUZZ_SEED === undefined ? (Date.now() ^ (process.pid << 8)) >>> 0 : Number(process.env.CJW_FUZZ_SEED);

export const MODES = ['NEVER', 'OPTIONAL', 'PREFERRED', 'REQUIRED'] as const;
export type Mode = (typeof MODES)[number];

/** Writes "$0" and its arguments NUL-terminated to <its name>.nul, and nothing else (a version probe is not recorded). */
const RECORDER = '#!/bin/sh\n[ "$*" = --version ] && exit 0\nprintf \'%s\\000\' "$0" "$@" >"$0.nul"\n';

/** What a recording stand-in received, or undefined when it did not run; each call clears it. */
export function received(program: string): string[] | undefined {
  const f = `${program}.nul`;
  if (!existsSync(f)) return undefined;
  const t = readFileSync(f, 'utf8');
  rmSync(f);
  return t === '' ? [] : t.slice(0, -1).split('\0');
}

export interface Site {
  readonly base: string;
  readonly runtime: string;
  /** A recording payload program (wrapper-built lines run it, contained or not). */
  readonly payloadProgram: string;
  readonly scratch: string;
  /** Existing images (a sandbox directory and a file), each with a job ad that names it. */
  readonly images: readonly { readonly path: string; readonly jobAd: string }[];
  /**
   * Other job ads a job may bring: one asking for a bind the site denies, one naming an image
   * the site does not allow, one malformed, one naming the other image (disagreeing with a
   * starter-built line); index 4 means no job ad at all.
   */
  readonly otherAds: readonly string[];
  readonly machineAd: string;
  readonly config: Readonly<Record<Mode, string>>;
  /** The job's environment; `ad` picks a job ad of otherAds instead of the image's own. */
  env(image: number, extra?: Record<string, string>, ad?: number): Record<string, string>;
}

const made: string[] = [];

/** Removes every site fixture this process made (call from afterAll). */
export function removeSites(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Builds the site fixture in a fresh temporary directory (root-owned, mode 0755 throughout). */
export function makeSite(prefix = 'cjw-fuzz-'): Site {
  const base = mkdtempSync(join(tmpdir(), prefix));
  made.push(base);
  chmodSync(base, 0o755);
  const bin = join(base, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  // Recording-only stand-ins: the runtime and a payload program write their argv next to
  // themselves and run nothing (generated payloads must not run on the test machine).
  const runtime = join(bin, 'apptainer');
  writeFileSync(runtime, RECORDER, { mode: 0o755 });
  const payloadProgram = join(bin, 'payload');
  writeFileSync(payloadProgram, RECORDER, { mode: 0o755 });
  const scratch = join(base, 'execute/dir_1');
  mkdirSync(scratch, { recursive: true, mode: 0o755 });
  const sandbox = join(base, 'images/el9');
  mkdirSync(sandbox, { recursive: true });
  const sif = join(base, 'images/el8.sif');
  writeFileSync(sif, 'not really an image');
  const images = [sandbox, sif].map((path, i) => {
    const jobAd = join(base, `job${i}.ad`);
    writeFileSync(jobAd, `Owner = "alice"\nClusterId = 7\nProcId = ${i}\nSingularityImage = "${path}"\nGlobalJobId = "ap#7.${i}#1"\n`);
    return { path, jobAd };
  });
  const otherAds = [
    `Owner = "alice"\nSingularityImage = "${sandbox}"\nSingularityBind = "/etc:/x,/tmp:/t"\n`,
    'Owner = "alice"\nSingularityImage = "/home/alice/evil.sif"\n',
    'Owner = "alice"\nSingularityImage = "unterminated\n',
    `Owner = "alice"\nSingularityImage = "${sif}"\n`,
  ].map((text, i) => {
    const f = join(base, `other${i}.ad`);
    writeFileSync(f, text);
    return f;
  });
  const machineAd = join(base, 'machine.ad');
  writeFileSync(machineAd, 'Name = "slot1@wn"\nHasSingularity = true\n');
  const config = Object.fromEntries(MODES.map((m) => {
    const f = join(base, `${m}.env`);
    writeFileSync(f, `CJW_MODE=${m}\nCJW_RUNTIME=${runtime}\nCJW_DEFAULT_IMAGE=${sandbox}\nCJW_NESTED=no\nCJW_BIND_DENY=/etc/**\n`);
    return [m, f];
  })) as Record<Mode, string>;
  return {
    base, runtime, payloadProgram, scratch, images, otherAds, machineAd, config,
    env: (image, extra = {}, ad) => ({
      PATH: '/usr/bin:/bin',
      _CONDOR_SCRATCH_DIR: scratch,
      ...(ad === 4 ? {} : { _CONDOR_JOB_AD: (ad === undefined ? images[image]?.jobAd : otherAds[ad]) ?? '' }),
      _CONDOR_MACHINE_AD: machineAd,
      ...extra,
    }),
  };
}

/** One generated case: the wrapper's argv (after --config), and what must reach the payload. */
export interface Line {
  readonly mode: Mode;
  readonly image: number;
  /** undefined: the image's own job ad; else an index of Site.otherAds (4: none). */
  readonly ad: number | undefined;
  readonly kind: 'starter-built' | 'wrapper-built';
  /** The command the starter hands the wrapper. */
  readonly command: string[];
  /** The payload argv: after the image (starter-built), or the whole command (wrapper-built). */
  readonly payload: string[];
}

/** Text a job controls: anything but NUL (argv cannot carry it), biased towards the awkward. */
const jobText = (bundle: boolean): fc.Arbitrary<string> => fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: bundle ? 'grapheme' : 'binary', maxLength: 16 }).map((s) => s.replace(/\0/g, '')) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '--', '-', '-B', '--bind=/etc:/x', '-C', '$(touch /tmp/pwned)', '`id`', '"\'', 'a\nb', '\t', '*', '~', '=', 'x=y', '/condor_container_launcher.sh', '--env-file=evil.env', 'é', '\u{1f600}', '\\', '%s%n', '..', '/etc/shadow') },
);

/** A value a job (or a confused site) could give a runtime flag. */
const flagValue = fc.oneof(
  fc.constantFrom('/srv', '/tmp', '/cvmfs:/cvmfs:ro', '/etc:/x', '/a b:/c', '/x,/y', '', '-x', '=', 'a=b', '/nonexistent/path', '.'),
  fc.string({ maxLength: 10 }).map((s) => s.replace(/\0/g, '')),
);

/** Starter-like and job-built lines; `bundle` keeps the text valid UTF-8 (the bundle refuses the rest, by design). */
export function lineArbitrary(site: Site, bundle = false): fc.Arbitrary<Line> {
  const t = tableFor('apptainer');
  const defs = (t.actions.exec ?? []).flatMap((d) => d.names.map((n) => ({ n, v: d.takesValue })));
  const flag: fc.Arbitrary<string[]> = fc.constantFrom(...defs).chain(({ n, v }) =>
    v ? fc.oneof(flagValue.map((x) => [n, x]), ...(n.startsWith('--') ? [flagValue.map((x) => `${n}=${x}`).map((x) => [x])] : [])) : fc.constant([n]),
  );
  // Now and then something no table knows: refused (64), never guessed.
  const anyFlag = fc.oneof({ weight: 12, arbitrary: flag }, { weight: 1, arbitrary: fc.constantFrom(['--frobnicate'], ['-Z'], ['--no-such-flag=x'], ['-%']) });
  // What HTCondor itself puts in front (scratch binds, --pwd, -C …), then random flags.
  const starterPrefix = fc.constantFrom<string[][]>([], [['-s']], [['-q']]);
  const payload = fc.array(jobText(bundle), { maxLength: 6 });
  const mode = fc.constantFrom(...MODES);
  const image = fc.constantFrom(0, 1);
  const ad = fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 3, 4) });
  const starter = fc.record({ mode, image, ad, pre: starterPrefix, action: fc.constantFrom('exec', 'run'), flags: fc.array(anyFlag, { maxLength: 6 }), payload, program: fc.constantFrom('/bin/echo', '/usr/bin/env', '/bin/true') })
    .map(({ mode: m, image: i, ad: a, pre, action, flags, payload: p, program }): Line => {
      const pl = action === 'exec' ? [program, ...p] : p;
      return {
        mode: m,
        image: i,
        ad: a,
        kind: 'starter-built',
        command: [site.runtime, ...pre.flat(), action, '-B', `${site.scratch}:/srv`, '--pwd', '/srv', ...flags.flat(), site.images[i]?.path ?? '', ...pl],
        payload: pl,
      };
    });
  const job = fc.record({ mode, image, ad, program: fc.constantFrom('/bin/echo', '/usr/bin/printf', '/bin/true', site.payloadProgram), args: payload })
    .map(({ mode: m, image: i, ad: a, program, args }): Line => ({ mode: m, image: i, ad: a, kind: 'wrapper-built', command: [program, ...args], payload: [program, ...args] }));
  return fc.oneof({ weight: 3, arbitrary: starter }, { weight: 1, arbitrary: job });
}

/** True when `tail` is a contiguous suffix of `all`, element by element. */
export function endsWith(all: readonly string[], tail: readonly string[]): boolean {
  if (tail.length > all.length) return false;
  const off = all.length - tail.length;
  return tail.every((t, i) => all[off + i] === t);
}
