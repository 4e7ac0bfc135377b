// Hooks end to end through the bundled file (SPEC S6, S7, S10), with real hook scripts as real
// processes in front of the recording stand-in runtime: what hooks see, their order, a failing,
// hanging (with children) and very chatty hook, what setup hooks contribute (and hostile output),
// the inside launcher in the line, and the traceability log record.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBundle, IN_CI, installWrapper, runWrapper, type Standin, standin, tempDir } from './harness';

interface Job {
  readonly dir: string;
  readonly scratch: string;
  readonly image: string;
  readonly rt: Standin;
  readonly errorFile: string;
  readonly config: string;
  line(payload?: string[]): string[];
  env(extra?: Record<string, string>): Record<string, string>;
}

/** A job sandbox, an image, hook dirs with the given scripts, and a config naming them. */
function job(hooks: { setup?: Record<string, string>; test?: Record<string, string>; inside?: Record<string, string> }, extraConfig = ''): Job {
  const dir = tempDir('cjw-e2e-hooks-');
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch, { mode: 0o755 });
  const image = join(dir, 'image.sif');
  writeFileSync(image, 'not really an image');
  const lines: string[] = [];
  for (const [stage, scripts] of Object.entries(hooks)) {
    const d = join(dir, `${stage}.d`);
    mkdirSync(d);
    for (const [name, body] of Object.entries(scripts ?? {})) {
      writeFileSync(join(d, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(d, name), 0o755);
    }
    lines.push(`CJW_${stage.toUpperCase()}_DIR=${d}`);
  }
  const config = join(dir, 'wrapper.env');
  writeFileSync(config, `${lines.join('\n')}\n${extraConfig}`);
  const rt = standin('apptainer');
  const errorFile = join(scratch, '.job_wrapper_failure');
  return {
    dir, scratch, image, rt, errorFile, config,
    line: (payload = ['/bin/echo', 'PAYLOAD']) => ['--config', config, rt.path, 'exec', '-W', scratch, '-B', `${scratch}:/srv`, '--pwd', '/srv', image, ...payload],
    env: (extra = {}) => ({ _CONDOR_SCRATCH_DIR: scratch, _CONDOR_WRAPPER_ERROR_FILE: errorFile, _CONDOR_SLOT: 'slot1_3', JOB_SECRET: 'from-the-job', PATH: '/job/bin:/usr/bin:/bin', ...extra }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function noProcess(pid: string): boolean {
  // Gone, or a zombie waiting for init.
  const stat = `/proc/${pid.trim()}/stat`;
  return !existsSync(stat) || / Z /.test(readFileSync(stat, 'utf8'));
}

describeBundle('hooks through the bundle on $label', ({ path: nodePath }) => {
  const wrapper = installWrapper(nodePath);

  it('runs setup then test hooks with only the documented environment, then execs the runtime', () => {
    const j = job({
      setup: { '20-second': 'echo "setup 20" >> "$CJW_SCRATCH/../order"', '10-first': 'echo "setup 10" >> "$CJW_SCRATCH/../order"; env | sort > "$CJW_SCRATCH/../env"' },
      test: { '10-test': 'echo "test 10" >> "$CJW_SCRATCH/../order"; echo "test output is captured, not shown"' },
    });
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('PAYLOAD\n');
    expect(readFileSync(join(j.dir, 'order'), 'utf8')).toBe('setup 10\nsetup 20\ntest 10\n');
    const env = Object.fromEntries(readFileSync(join(j.dir, 'env'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    // Only what docs/hooks.md documents (PWD comes from the hook's own sh); nothing of the job's.
    expect(Object.keys(env).filter((k) => k !== 'PWD' && k !== 'SHLVL' && k !== '_').sort()).toEqual(['CJW_HOOK_OUTPUT', 'CJW_IMAGE', 'CJW_JOB_AD', 'CJW_MACHINE_AD', 'CJW_MODE', 'CJW_SCRATCH', 'CJW_SLOT', 'CJW_STAGE', 'CJW_TARGET_DIR', 'LANG', 'PATH']);
    expect(env).toMatchObject({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', CJW_STAGE: 'setup', CJW_SCRATCH: j.scratch, CJW_SLOT: 'slot1_3', CJW_TARGET_DIR: '/srv', CJW_MODE: 'OPTIONAL' });
    expect(env.CJW_IMAGE).toMatch(/image\.sif$/);
    // The contribution file is private to the wrapper and gone afterwards.
    expect(existsSync(env.CJW_HOOK_OUTPUT ?? '/')).toBe(false);
    expect(j.rt.argv()[0]).toBe(j.rt.path);
    expect(existsSync(j.errorFile)).toBe(false);
  });

  it('a failing test hook: exit 69, one line naming the hook and its last stderr line, no runtime', () => {
    const j = job({ test: { '10-ok': 'true', '20-cvmfs': 'echo "checking" >&2; echo "/cvmfs/cms.cern.ch not mounted" >&2; exit 4', '30-never': 'touch "$CJW_SCRATCH/../ran"' } });
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    const line = 'condor-job-wrapper: node error: test hook 20-cvmfs: exit 4: /cvmfs/cms.cern.ch not mounted';
    expect(r.status).toBe(69);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe('');
    expect(readFileSync(j.errorFile, 'utf8')).toBe(`${line}\n`);
    expect(existsSync(join(j.rt.dir, 'argv.nul'))).toBe(false);
    expect(existsSync(join(j.dir, 'ran'))).toBe(false);
  });

  it('a hook that hangs is killed at CJW_HOOK_TIMEOUT together with its children', () => {
    const j = job({ setup: { '10-hang': 'sleep 91 & echo $! > "$CJW_SCRATCH/../child"; echo "waiting for the cache" >&2; sleep 92' } }, 'CJW_HOOK_TIMEOUT=1\n');
    const t0 = Date.now();
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    const took = Date.now() - t0;
    expect(r.status).toBe(69);
    expect(readFileSync(j.errorFile, 'utf8')).toBe('condor-job-wrapper: node error: setup hook 10-hang: killed after the 1 s timeout (CJW_HOOK_TIMEOUT); last stderr line: waiting for the cache\n');
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(8000);
    expect(noProcess(readFileSync(join(j.dir, 'child'), 'utf8'))).toBe(true);
    expect(existsSync(join(j.rt.dir, 'argv.nul'))).toBe(false);
  });

  it('the starter killing the wrapper while a hook runs kills the hook group and the Node process too', async () => {
    const j = job({ setup: { '10-hang': 'echo $$ > "$CJW_SCRATCH/../hook"; sleep 95 & echo $! > "$CJW_SCRATCH/../child"; sleep 96' } });
    const front = spawn(wrapper, j.line(), { env: j.env(), cwd: j.scratch, stdio: 'ignore' });
    const hookFile = join(j.dir, 'child');
    for (let i = 0; i < 100 && !existsSync(hookFile); i++) await sleep(50);
    const node = readFileSync(`/proc/${String(front.pid)}/task/${String(front.pid)}/children`, 'utf8').trim().split(' ').filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--cjw-front-v1'));
    expect(node).toHaveLength(1);
    front.kill('SIGKILL');
    await sleep(1000);
    expect(noProcess(readFileSync(join(j.dir, 'hook'), 'utf8'))).toBe(true);
    expect(noProcess(readFileSync(hookFile, 'utf8'))).toBe(true);
    expect(noProcess(node[0] ?? '')).toBe(true);
  });

  // Issue 14 item 8: hooks die with the wrapper however it ends. The hook records its pid, a
  // child in its group, a child that left by setsid, and the private hooks directory.
  const TREE = 'echo $$ > "$CJW_SCRATCH/../hook"; dirname "$CJW_HOOK_OUTPUT" > "$CJW_SCRATCH/../outdir"; sleep 93 & echo $! > "$CJW_SCRATCH/../child"; setsid sleep 94 & echo $! > "$CJW_SCRATCH/../escaper"; echo started > "$CJW_SCRATCH/../started"; sleep 95';

  async function startTree(j: Job, detached: boolean): Promise<{ front: ReturnType<typeof spawn>; stderr: () => string; exited: Promise<number | null> }> {
    const front = spawn(wrapper, j.line(), { env: j.env(), cwd: j.scratch, stdio: ['ignore', 'ignore', 'pipe'], detached });
    let err = '';
    front.stderr?.on('data', (c: Buffer) => { err += c.toString('utf8'); });
    const exited = new Promise<number | null>((res) => { front.on('close', (code, sig) => { res(code ?? (sig === null ? null : 128)); }); });
    for (let i = 0; i < 200 && !existsSync(join(j.dir, 'started')); i++) await sleep(50);
    expect(existsSync(join(j.dir, 'started'))).toBe(true);
    return { front, stderr: () => err, exited };
  }

  async function expectTreeGone(j: Job): Promise<void> {
    // The watchdog acts on EOF; give it time on a loaded machine (2 cores shared by many runs).
    const pids = ['hook', 'child', 'escaper'].map((f) => readFileSync(join(j.dir, f), 'utf8').trim());
    const outDir = readFileSync(join(j.dir, 'outdir'), 'utf8').trim();
    for (let i = 0; i < 200 && (pids.some((p) => !noProcess(p)) || existsSync(outDir)); i++) await sleep(50);
    const alive = pids.filter((p) => !noProcess(p)).map((p) => `${p}: ${readFileSync(`/proc/${p}/stat`, 'utf8').trim()}`);
    expect(alive).toEqual([]);
    expect(outDir).toMatch(/^\/tmp\/cjw-hooks-/);
    expect(existsSync(outDir)).toBe(false);
  }

  function nodeOf(frontPid: number | undefined): number {
    const pid = String(frontPid);
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter((p) => p !== '' && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--cjw-front-v1'));
    expect(kids).toHaveLength(1);
    return Number(kids[0]);
  }

  it('Node killed by SIGKILL during a setup hook: the hook tree dies, its directory goes, the message names signal 9 (69)', async () => {
    const j = job({ setup: { '10-hang': TREE } });
    const t = await startTree(j, false);
    process.kill(nodeOf(t.front.pid), 'SIGKILL');
    const code = await t.exited;
    await expectTreeGone(j);
    expect(code).toBe(69);
    const line = "condor-job-wrapper: node error: the wrapper's Node process";
    expect(t.stderr()).toMatch(new RegExp(`^${line} \\(${nodePath.replace(/[/.]/g, '\\$&')}\\): killed by signal 9 \\(SIGKILL\\) before it decided; the job was not started\\n$`));
    expect(t.stderr()).not.toContain('internal error');
    expect(readFileSync(j.errorFile, 'utf8')).toBe(t.stderr());
    expect(existsSync(join(j.rt.dir, 'argv.nul'))).toBe(false);
  });

  it('the whole process group SIGKILLed during a setup hook: the hook tree dies and its directory goes', async () => {
    const j = job({ setup: { '10-hang': TREE } });
    const t = await startTree(j, true);
    process.kill(-(t.front.pid ?? 0), 'SIGKILL');
    await t.exited;
    await expectTreeGone(j);
    expect(existsSync(join(j.rt.dir, 'argv.nul'))).toBe(false);
  });

  it('the whole process group SIGTERMed during a setup hook: the hook tree dies, and the line names signal 15', async () => {
    const j = job({ setup: { '10-hang': TREE } });
    const t = await startTree(j, true);
    process.kill(-(t.front.pid ?? 0), 'SIGTERM');
    await t.exited;
    await expectTreeGone(j);
    const line = 'condor-job-wrapper: node error: setup hook 10-hang: the wrapper was stopped by signal 15 (SIGTERM) while the hook ran; the hook and what it started were killed\n';
    expect(t.stderr()).toBe(line);
    expect(readFileSync(j.errorFile, 'utf8')).toBe(line);
    expect(existsSync(join(j.rt.dir, 'argv.nul'))).toBe(false);
  });

  it('CJW_HOOK_TIMEOUT kills the whole tree, also a child that left the group with setsid', async () => {
    const j = job({ setup: { '10-hang': TREE } }, 'CJW_HOOK_TIMEOUT=1\n');
    const t = await startTree(j, false);
    const code = await t.exited;
    expect(code).toBe(69);
    await expectTreeGone(j);
    expect(t.stderr()).toBe('condor-job-wrapper: node error: setup hook 10-hang: killed after the 1 s timeout (CJW_HOOK_TIMEOUT)\n');
  });

  it('a hook writing 20 MB to stdout and stderr neither hangs nor floods: the tail names the failure', () => {
    const j = job({ setup: { '10-chatty': 'head -c 10000000 /dev/zero | tr "\\0" "x"; head -c 10000000 /dev/zero | tr "\\0" "y" >&2; echo >&2; echo "the real reason" >&2; exit 1' } });
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    expect(r.status).toBe(69);
    expect(r.stderr).toBe('condor-job-wrapper: node error: setup hook 10-chatty: exit 1: the real reason\n');
    expect(r.stdout).toBe('');
  });

  it('setup hook contributions become binds and inside environment, with the hook as origin', () => {
    const src = tempDir('cjw-hookbind-');
    const j = job({ setup: { '10-binds': `echo "CJW_ADD_BIND=${src}:/mnt/hookdata:ro" >> "$CJW_HOOK_OUTPUT"; echo "HOOK_VAR='from the hook'" >> "$CJW_HOOK_OUTPUT"` } }, `CJW_LOG=file:${tempDir()}/x.log\n`);
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const argv = j.rt.argv();
    const at = argv.indexOf(`${src}:/mnt/hookdata:ro`);
    expect(at).toBeGreaterThan(0);
    expect(['-B', '--bind']).toContain(argv[at - 1]);
    expect(argv.indexOf(`${src}:/mnt/hookdata:ro`)).toBeLessThan(argv.indexOf(j.image));
    expect(j.rt.env().get('APPTAINERENV_HOOK_VAR')).toBe('from the hook');
  });

  it('hostile hook output is a config error (78) naming the hook and the line; the job does not run', () => {
    const j = job({ setup: { '10-evil': "printf 'OK=1\\n$(id)\\nCJW_MODE=NEVER\\n' >> \"$CJW_HOOK_OUTPUT\"" } });
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/^condor-job-wrapper: node error: setup hook 10-evil: CJW_HOOK_OUTPUT line 2: expected KEY=VALUE with KEY a variable name\n$/);
    expect(existsSync(join(j.rt.dir, 'argv.nul'))).toBe(false);
  });

  it('a hook bind outside CJW_BIND_ALLOW is refused by the same policy as every bind', () => {
    const j = job({ setup: { '10-binds': 'echo "CJW_ADD_BIND=/etc:/mnt/etc" >> "$CJW_HOOK_OUTPUT"' } }, 'CJW_BIND_ALLOW=/cvmfs/**\n');
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('bind /etc:/mnt/etc from setup hook 10-binds');
    expect(existsSync(join(j.rt.dir, 'argv.nul'))).toBe(false);
  });

  it('inside hooks: the launcher is written in SCRATCH/.condor-job-wrapper and put before the payload', () => {
    const j = job({ inside: { '10-inside': 'echo inside' } });
    const r = runWrapper(j.line(['/bin/true']), { wrapper, env: j.env(), cwd: j.scratch });
    // The stand-in runs the payload on the host, where the hook dir is not mounted: only the line is checked here (test/runtime/inside.test.ts runs it for real).
    expect(r.status).not.toBe(0);
    const argv = j.rt.argv();
    expect(argv.slice(-2)).toEqual(['/srv/.condor-job-wrapper/launcher.sh', '/bin/true']);
    expect(argv).toContain(`${j.dir}/inside.d:/srv/.condor-job-wrapper/inside.d:ro`);
    const launcher = join(j.scratch, '.condor-job-wrapper/launcher.sh');
    expect(statSync(launcher).mode & 0o777).toBe(0o700);
    expect(readFileSync(launcher, 'utf8')).toContain("cjw_hook '10-inside' '/srv/.condor-job-wrapper/inside.d/10-inside'");
    // Nothing at the top of the scratch dir that output transfer would send back.
    expect(existsSync(join(j.scratch, 'launcher.sh'))).toBe(false);
  });

  it('no hooks configured: the line reaches the runtime untouched and nothing is written', () => {
    const j = job({});
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    expect(r.status).toBe(0);
    expect(j.rt.argv()).toEqual(j.line().slice(2));
    expect(existsSync(join(j.scratch, '.condor-job-wrapper'))).toBe(false);
  });

  it('CJW_LOG=file: one JSON record per job, with hook results and the exit path, and no environment values', () => {
    const log = join(tempDir(), 'wrapper.log');
    const j = job({ setup: { '10-ok': 'true' } }, `CJW_LOG=file:${log}\n`);
    writeFileSync(join(j.scratch, '.job.ad'), `GlobalJobId = "ap.example.org#12.0#1700000000"\nOwner = "alice"\nSingularityImage = "${j.image}"\n`);
    const r = runWrapper(j.line(), { wrapper, env: j.env({ _CONDOR_JOB_AD: join(j.scratch, '.job.ad'), X509_USER_PROXY: '/tmp/x509up_u1001' }), cwd: j.scratch });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(rec).toMatchObject({ event: 'job', GlobalJobId: 'ap.example.org#12.0#1700000000', Owner: 'alice', slot: 'slot1_3', dispatch: 'starter-built', contained: true, exit: { kind: 'exec-container', program: j.rt.path } });
    expect(rec.argv).toEqual(j.rt.argv());
    expect(rec.hooks).toEqual([{ stage: 'setup', name: '10-ok', outcome: 'ok', exitCode: 0, durationMs: expect.any(Number) as number }]);
    expect(lines[0]).not.toContain('from-the-job');

    // A failing job appends its own record with the error.
    const bad = job({ test: { '10-bad': 'exit 2' } }, `CJW_LOG=file:${log}\n`);
    expect(runWrapper(bad.line(), { wrapper, env: bad.env(), cwd: bad.scratch }).status).toBe(69);
    const second = JSON.parse(readFileSync(log, 'utf8').trim().split('\n')[1] ?? '{}') as { exit: Record<string, unknown> };
    expect(second.exit).toEqual({ kind: 'error', id: 'hook.failed', code: 69, class: 'node', line: 'condor-job-wrapper: node error: test hook 10-bad: exit 2' });
  });

  it('CJW_LOG=file: an unwritable log is one warning, and the job still runs', () => {
    const j = job({}, 'CJW_LOG=file:/nonexistent-dir/wrapper.log\n');
    const r = runWrapper(j.line(), { wrapper, env: j.env(), cwd: j.scratch });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('PAYLOAD\n');
    expect(r.stderr).toMatch(/^condor-job-wrapper: warning: cannot write the job log \(CJW_LOG\): .*ENOENT.*\n$/);
  });
});

// syslog through logger(1): a stand-in /dev/log (a datagram socket, as journald/rsyslog offer)
// receives the record. Needs root to create /dev/log, and no syslog daemon already owning it.
const SYSLOG_SKIP = process.getuid?.() !== 0 ? 'not root' : existsSync('/dev/log') ? '/dev/log exists (a real syslog would get test records)' : !existsSync('/usr/bin/logger') ? 'no /usr/bin/logger' : spawnSync('/usr/bin/python3', ['-c', '0']).status !== 0 ? 'no python3 for the stand-in socket' : undefined;
if (SYSLOG_SKIP !== undefined && IN_CI && SYSLOG_SKIP !== '/dev/log exists (a real syslog would get test records)') throw new Error(`syslog log test: ${SYSLOG_SKIP} (CI=true)`);
(SYSLOG_SKIP === undefined ? describe : describe.skip)('CJW_LOG=syslog through logger(1)', () => {
  if (SYSLOG_SKIP !== undefined) console.log(`skipping syslog log test: ${SYSLOG_SKIP}`);
  it('sends one record tagged condor-job-wrapper to /dev/log', () => {
    const out = join(tempDir(), 'received');
    const server = `import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind('/dev/log')\nopen(sys.argv[1]+'.ready','w').close()\ns.settimeout(15)\nopen(sys.argv[1],'wb').write(s.recv(70000))\n`;
    const py = spawnSync('/bin/sh', ['-c', '/usr/bin/python3 -c "$0" "$1" </dev/null >/dev/null 2>&1 & echo $!', server, out], { encoding: 'utf8' });
    try {
      for (let i = 0; i < 100 && !existsSync(`${out}.ready`); i++) spawnSync('sleep', ['0.05']);
      const j = job({}, 'CJW_LOG=syslog\n');
      const r = runWrapper(j.line(), { wrapper: installWrapper('/usr/bin/node'), env: j.env(), cwd: j.scratch });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      for (let i = 0; i < 100 && !existsSync(out); i++) spawnSync('sleep', ['0.05']);
      const msg = readFileSync(out, 'utf8');
      expect(msg).toMatch(/^<14>.* condor-job-wrapper(\[\d+\])?: \{"level":30,/);
      expect(msg).toContain('"event":"job"');
      expect(msg).toContain('"slot":"slot1_3"');
    } finally {
      const pid = Number(py.stdout.trim());
      if (pid > 0) {
        try {
          process.kill(pid);
        } catch {
          // already gone
        }
      }
      rmSync('/dev/log', { force: true });
    }
  });
});
