// Fuzz and hostile input through the real bundle (issue 14): generated lines as real processes,
// ads that are a FIFO, /dev/zero or a socket, 30 tricks in the job's environment that try to run
// code in the front or in Node, and 50 concurrent runs appending to one JSON log. Every run has a
// deadline: a hang is a failure, not a stuck suite. The stand-ins only record what they receive.

import fc from 'fast-check';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { BUNDLE, BUNDLE_RUNS, endsWith, lineArbitrary, makeSite, received, removeSites, SEED, type Line, type Site } from './fuzz';

const DEADLINE_MS = 15000;
afterAll(removeSites);
const ERROR_LINE = /^condor-job-wrapper: (job|node) error: [^\n]+: [^\n]+\n$/;

function runBundle(site: Site, argv: readonly string[], env: Record<string, string>): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  const r = spawnSync(BUNDLE, [...argv], { env, cwd: site.scratch, encoding: 'utf8', timeout: DEADLINE_MS });
  if (r.error !== undefined) throw new Error(`the wrapper did not finish within ${DEADLINE_MS} ms: ${r.error.message}`);
  return r;
}

describe('generated lines through the bundle', () => {
  const site = makeSite('cjw-fuzz-bundle-');
  // Wrapper-built lines run the recording payload program, so that an uncontained run is checked too.
  const lines = lineArbitrary(site, true).map((l): Line => (l.kind === 'starter-built' ? l : { ...l, command: [site.payloadProgram, ...l.command.slice(1)], payload: [site.payloadProgram, ...l.payload.slice(1)] }));

  it(`${BUNDLE_RUNS} lines: payload intact, REQUIRED contained, one specific line per refusal (seed ${SEED})`, () => {
    const tally = { lines: 0, accepted: 0, refused: 0 };
    const t0 = Date.now();
    fc.assert(fc.property(lines, (line) => {
      tally.lines++;
      const r = runBundle(site, ['--config', site.config[line.mode], '--', ...line.command], site.env(line.image, {}, line.ad));
      const rt = received(site.runtime);
      const direct = received(site.payloadProgram);
      if (r.status !== 0) {
        tally.refused++;
        expect([64, 65, 66, 69, 78]).toContain(r.status);
        expect(r.stderr).toMatch(ERROR_LINE);
        expect(rt).toBeUndefined();
        expect(direct).toBeUndefined();
        return;
      }
      tally.accepted++;
      if (line.mode === 'REQUIRED') expect(direct).toBeUndefined();
      const ran = rt ?? direct;
      expect(ran).toBeDefined();
      expect(endsWith(ran ?? [], line.payload)).toBe(true);
    }), { numRuns: BUNDLE_RUNS, seed: SEED });
    console.log(`fuzz bundle: seed ${SEED}: ${tally.lines} lines, ${tally.accepted} accepted, ${tally.refused} refused; ${Date.now() - t0} ms`);
    expect(tally.accepted).toBeGreaterThan(0);
  }, BUNDLE_RUNS * DEADLINE_MS);
});

describe('ads that are not files never hang the wrapper', () => {
  const site = makeSite('cjw-fuzz-ads-');
  const fifo = join(site.base, 'fifo.ad');
  spawnSync('/usr/bin/mkfifo', [fifo]);
  const sock = join(site.base, 'sock.ad');
  let server: Server;
  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((res) => { server.listen(sock, res); });
  });
  afterAll(async () => { await new Promise((res) => { server.close(res); }); });

  const cases = [
    ...[['FIFO', fifo], ['/dev/zero', '/dev/zero'], ['socket', sock]].flatMap(([what, path]) => [
      { name: `job ad is a ${what ?? ''}`, key: '_CONDOR_JOB_AD', path: path ?? '', code: 65 },
      { name: `machine ad is a ${what ?? ''}`, key: '_CONDOR_MACHINE_AD', path: path ?? '', code: 69 },
    ]),
  ];
  it.each(cases)('$name: exit $code with one line, promptly', ({ key, path, code }) => {
    const line = [site.runtime, 'exec', site.images[0]?.path ?? '', '/bin/true'];
    const r = runBundle(site, ['--config', site.config.OPTIONAL, ...line], site.env(0, { [key]: path }));
    expect(r.status).toBe(code);
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(received(site.runtime)).toBeUndefined();
  });
});

describe('30 tricks in the job environment run no code and change nothing', () => {
  const site = makeSite('cjw-fuzz-env-');
  const evil = join(site.base, 'evil');
  mkdirSync(evil);
  const marks = join(site.base, 'marks');
  mkdirSync(marks);
  const mark = (name: string): string => join(marks, name);
  // Code that leaves a mark when anything runs it.
  writeFileSync(join(evil, 'evil.js'), `require('fs').writeFileSync(${JSON.stringify(mark('js'))}, 'ran');\n`);
  writeFileSync(join(evil, 'evil.mjs'), `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(mark('mjs'))}, 'ran');\n`);
  writeFileSync(join(evil, 'evil.sh'), `: > ${mark('sh')}\n`);
  writeFileSync(join(evil, 'evil.env'), `NODE_OPTIONS="--require ${join(evil, 'evil.js')}"\n`);
  const fakeBin = join(evil, 'bin');
  mkdirSync(fakeBin);
  for (const p of ['node', 'env', 'chmod', 'rm', 'cat', 'bash', 'sh', 'apptainer', 'logger']) writeFileSync(join(fakeBin, p), `#!/bin/sh\n: > ${mark(`path-${p}`)}\n`, { mode: 0o755 });
  const hookDir = join(evil, 'setup.d');
  mkdirSync(hookDir);
  writeFileSync(join(hookDir, '10-evil'), `#!/bin/sh\n: > ${mark('hook')}\n`, { mode: 0o755 });
  const cov = join(site.base, 'coverage');
  mkdirSync(cov);
  const cache = join(site.base, 'compile-cache');
  mkdirSync(cache);
  const caFifo = join(evil, 'ca.fifo');
  spawnSync('/usr/bin/mkfifo', [caFifo]);
  const sh = `: > ${mark('expansion')}`;

  const TRICKS: Record<string, Record<string, string>> = {
    'NODE_OPTIONS --require': { NODE_OPTIONS: `--require ${join(evil, 'evil.js')}` },
    'NODE_OPTIONS --import': { NODE_OPTIONS: `--import ${join(evil, 'evil.mjs')}` },
    'NODE_OPTIONS --env-file': { NODE_OPTIONS: `--env-file=${join(evil, 'evil.env')}` },
    'NODE_OPTIONS --inspect': { NODE_OPTIONS: '--inspect=127.0.0.1:0' },
    'NODE_PATH': { NODE_PATH: evil },
    'NODE_REPL_EXTERNAL_MODULE': { NODE_REPL_EXTERNAL_MODULE: join(evil, 'evil.js') },
    'NODE_V8_COVERAGE': { NODE_V8_COVERAGE: cov },
    'NODE_COMPILE_CACHE': { NODE_COMPILE_CACHE: cache },
    'NODE_EXTRA_CA_CERTS at a FIFO': { NODE_EXTRA_CA_CERTS: caFifo },
    'NODE_DEBUG': { NODE_DEBUG: 'module,fs,child_process' },
    'NODE_PENDING_DEPRECATION': { NODE_PENDING_DEPRECATION: '1', NODE_NO_WARNINGS: '0' },
    'NODE_ICU_DATA': { NODE_ICU_DATA: evil },
    'BASH_ENV': { BASH_ENV: join(evil, 'evil.sh') },
    'ENV': { ENV: join(evil, 'evil.sh') },
    'SHELLOPTS=xtrace with PS4': { SHELLOPTS: 'xtrace', PS4: `$(${sh})` },
    'BASHOPTS=extdebug': { BASHOPTS: 'extdebug', BASH_ENV: join(evil, 'evil.sh') },
    'BASH_FUNC_printf': { 'BASH_FUNC_printf%%': `() { ${sh}; }` },
    'BASH_FUNC_exec': { 'BASH_FUNC_exec%%': `() { ${sh}; }` },
    'BASH_FUNC_read and wait': { 'BASH_FUNC_read%%': `() { ${sh}; }`, 'BASH_FUNC_wait%%': `() { ${sh}; }` },
    'a fake node (and env, rm, cat…) first on PATH': { PATH: `${fakeBin}:/usr/bin:/bin` },
    'IFS=/': { IFS: '/' },
    'CDPATH and GLOBIGNORE': { CDPATH: evil, GLOBIGNORE: '*' },
    'TMOUT=1': { TMOUT: '1' },
    'PROMPT_COMMAND': { PROMPT_COMMAND: sh },
    'LC_ALL and LANG nonsense': { LC_ALL: 'xx_XX.bogus', LANG: '$(id)', LANGUAGE: 'x' },
    'POSIXLY_CORRECT': { POSIXLY_CORRECT: '1' },
    'HOME with a .bashrc': { HOME: evil },
    'CJW_* as policy (mode, runtime, hooks)': { CJW_MODE: 'NEVER', CJW_RUNTIME: join(fakeBin, 'apptainer'), CJW_SETUP_DIR: hookDir, CJW_LOG: 'file:/tmp/x' },
    'CJW_* pointing at the job\'s hooks': { CJW_SETUP_DIR: hookDir, CJW_TEST_DIR: hookDir, CJW_HOOK_TIMEOUT: '0' },
    'UV_THREADPOOL_SIZE and TZ': { UV_THREADPOOL_SIZE: '1', TZ: evil },
  };
  writeFileSync(join(evil, '.bashrc'), `${sh}\n`);

  const line = (): string[] => [site.runtime, 'exec', '-B', `${site.scratch}:/srv`, site.images[0]?.path ?? '', '/bin/echo', 'a b', '', '-x'];
  let baseline: string[] | undefined;
  beforeAll(() => {
    const r = runBundle(site, ['--config', site.config.OPTIONAL, ...line()], site.env(0));
    expect(r.status).toBe(0);
    baseline = received(site.runtime);
    expect(baseline).toBeDefined();
  });

  it('there are 30 tricks', () => { expect(Object.keys(TRICKS)).toHaveLength(30); });

  it.each(Object.entries(TRICKS))('%s', (_name, extra) => {
    const r = runBundle(site, ['--config', site.config.OPTIONAL, ...line()], site.env(0, extra));
    expect(readdirSync(marks)).toEqual([]);
    expect(readdirSync(cov)).toEqual([]);
    expect(readdirSync(cache)).toEqual([]);
    // bash itself warns about a locale it cannot set, before the front's first line runs.
    expect(r.stderr.replace(/^\/bin\/bash: warning: setlocale: [^\n]*\n/gm, '')).toBe('');
    expect(r.status).toBe(0);
    expect(received(site.runtime)).toEqual(baseline);
  });
});

describe('50 concurrent runs with one JSON log', () => {
  it('give 50 whole records and no torn line', async () => {
    const N = 50;
    const sites = Array.from({ length: N }, () => makeSite('cjw-fuzz-log-'));
    const log = join(sites[0]?.base ?? '/nonexistent', 'shared.log');
    for (const s of sites) writeFileSync(s.config.OPTIONAL, `${readFileSync(s.config.OPTIONAL, 'utf8')}CJW_LOG=file:${log}\n`);
    // Long argv values make each record several KB, well past what one small write would hold.
    const big = 'x'.repeat(3000);
    const codes = await Promise.all(sites.map((s, i) => new Promise<number | null>((res, rej) => {
      const p = spawn(BUNDLE, ['--config', s.config.OPTIONAL, s.runtime, 'exec', s.images[0]?.path ?? '', '/bin/echo', `run-${i}`, big], { env: s.env(0), cwd: s.scratch, stdio: 'ignore' });
      const t = setTimeout(() => { p.kill('SIGKILL'); rej(new Error(`run ${i} hung`)); }, 60000);
      p.on('close', (c) => { clearTimeout(t); res(c); });
    })));
    expect(codes).toEqual(Array.from({ length: N }, () => 0));
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(N);
    const runs = lines.map((l) => (JSON.parse(l) as { argv: string[] }).argv.find((a) => a.startsWith('run-')));
    expect(new Set(runs).size).toBe(N);
    for (const s of sites) expect(existsSync(`${s.runtime}.nul`)).toBe(true);
  }, 120000);
});
