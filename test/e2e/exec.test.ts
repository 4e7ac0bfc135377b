// End to end through the bundled file: the runtime receives exactly the argv and environment the
// starter gave, with the wrapper's pid, and no Node process is left; on every supported Node.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeAsRoot, describeBundle, IN_CI, installWrapper, nodeBinaries, runWrapper, standin, STATIC_BASH, tempDir, withStaticFront } from './harness';

const HOSTILE_ARGS = ['a b', '"quoted"', "it's", 'line1\nline2', '', '-C', '--bind', '/x:/y', 'ünïcødé ✓', '$(touch /tmp/pwned)', '`id`', '*', '\t', ' '];

// The image rule (S5.3) wants an existing image: an empty sandbox dir is one for the stand-in.
const IMG = tempDir('cjw-img-');

describeBundle('bundle on $label', ({ path: nodePath }) => {
  const wrapper = installWrapper(nodePath);

  it('hands `apptainer exec -C img /bin/echo "a b"` to the runtime unchanged', () => {
    const rt = standin('apptainer');
    const argv = [rt.path, 'exec', '-C', IMG, '/bin/echo', 'a b'];
    const r = runWrapper(argv, { wrapper });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(rt.argv()).toEqual(argv);
    expect(r.stdout).toBe('a b\n');
  });

  it('carries hostile payload arguments byte for byte', () => {
    const rt = standin('singularity');
    const argv = [rt.path, '-s', 'exec', '-B', '/a b:/c', '--pwd', '/srv', '-C', IMG, '/bin/true', ...HOSTILE_ARGS];
    const r = runWrapper(argv, { wrapper });
    expect(r.status).toBe(0);
    expect(rt.argv()).toEqual(argv);
  });

  it('passes the environment through unchanged, including NODE_* and shell startup variables', () => {
    const rt = standin('apptainer');
    const env = { A: 'x y', MULTI: 'l1\nl2', NODE_OPTIONS: '--max-old-space-size=10', EMPTY: '', 'WEIRD-NAME': 'ok', _CONDOR_SCRATCH_DIR: '/tmp' };
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/true'], { wrapper, env });
    expect(r.status).toBe(0);
    expect(Object.fromEntries(rt.env())).toEqual(env);
  });

  it('hands over a large environment intact through the length-framed decision (CJW2)', () => {
    const rt = standin('apptainer');
    // Every non-NUL byte value that is valid UTF-8 as one character, bash's internal quoting bytes
    // (\x01, \x7f) included; a 100 KB value; 400 variables; values that look like framing.
    let allAscii = '';
    for (let c = 1; c < 128; c++) allAscii += String.fromCharCode(c);
    const env: Record<string, string> = { _CONDOR_SCRATCH_DIR: '/tmp', ALL: allAscii, BIG: 'v'.repeat(100_000), FAKE: 'CJW200000003END', DIGITS: '12 0 7', UNI: 'é€😀' };
    for (let i = 0; i < 400; i++) env[`V${i}`] = i % 7 === 0 ? '' : `value ${i}\n`;
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/true', '', 'END', 'CJW2'], { wrapper, env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Object.fromEntries(rt.env())).toEqual(env);
    expect(rt.argv().slice(-3)).toEqual(['', 'END', 'CJW2']);
  });

  it('returns the payload exit code', () => {
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/sh', '-c', 'exit 37'], { wrapper });
    expect(r.status).toBe(37);
  });

  it('reports a payload killed by SIGTERM as SIGTERM', () => {
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/sh', '-c', 'kill -TERM $$'], { wrapper });
    expect(r.signal).toBe('SIGTERM');
  });

  it('execs: the runtime has the wrapper pid and no Node process (not even a zombie) remains', () => {
    const rt = standin('apptainer');
    const out = join(rt.dir, 'proc.txt');
    // Builtins only: a `cat` would itself be a child.
    const script = `readlink /proc/$$/exe > ${out}; read -r c < /proc/$$/task/$$/children; echo "children:$c" >> ${out}`;
    const child = spawnSync('/bin/sh', ['-c', `"$0" "$@" & echo $! > ${rt.dir}/wpid; wait`, wrapper, rt.path, 'exec', IMG, '/bin/sh', '-c', script], { env: {}, encoding: 'utf8' });
    expect(child.status).toBe(0);
    const wrapperPid = Number(readFileSync(join(rt.dir, 'wpid'), 'utf8'));
    expect(rt.pid()).toBe(wrapperPid);
    const [exe, ...rest] = readFileSync(out, 'utf8').trim().split('\n');
    expect(exe).toMatch(/\/(dash|sh|bash)$/);
    expect(rest).toEqual(['children:']);
  });

  it('forwards SIGTERM sent to the wrapper pid to the payload (it is the same process)', async () => {
    const rt = standin('apptainer');
    const mark = join(rt.dir, 'got-term');
    const ready = join(rt.dir, 'ready');
    const child = spawn(wrapper, [rt.path, 'exec', IMG, '/bin/sh', '-c', `trap 'echo term > ${mark}; exit 0' TERM; : > ${ready}; while :; do sleep 0.05; done`], { env: {}, stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(ready)).toBe(true);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => { r(c); }));
    expect(code).toBe(0);
    expect(readFileSync(mark, 'utf8')).toBe('term\n');
  });

  it('runs none of a hostile environment: fake node on PATH, NODE_OPTIONS --require, BASH_ENV, ENV', () => {
    const rt = standin('apptainer');
    const evil = tempDir('cjw-evil-');
    const marker = join(evil, 'pwned');
    writeFileSync(join(evil, 'node'), `#!/bin/sh\necho node > ${marker}\n`, { mode: 0o755 });
    writeFileSync(join(evil, 'evil.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'js')`);
    writeFileSync(join(evil, 'evil.sh'), `echo sh > ${marker}\n`);
    const env = {
      PATH: `${evil}:/usr/bin:/bin`,
      NODE_OPTIONS: `--require ${join(evil, 'evil.js')}`,
      NODE_PATH: evil,
      BASH_ENV: join(evil, 'evil.sh'),
      ENV: join(evil, 'evil.sh'),
      SHELLOPTS: 'xtrace',
      'BASH_FUNC_exec%%': '() { echo f > ' + marker + '; }',
      TMOUT: '1',
    };
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/true'], { wrapper, env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(rt.env().get('NODE_OPTIONS')).toBe(env.NODE_OPTIONS);
  });

  it('refuses an argument that is not valid UTF-8 with exit 65 instead of mangling it', () => {
    const rt = standin('apptainer');
    const r = spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', 'exec "$0" "$1" exec "$2" /bin/echo "$(printf "a\\377b")"', wrapper, rt.path, IMG], { env: {}, encoding: 'utf8' });
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/^condor-job-wrapper: job error: argument 5: not valid UTF-8/);
    expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
  });

  it('passes the sshd of condor_ssh_to_job through untouched, environment included', () => {
    const rt = standin('sshd');
    // sshd needs HTCondor's LD_PRELOAD (libgetpwnam.so); a harmless real library stands in for it.
    const env = { LD_PRELOAD: '/lib/x86_64-linux-gnu/libm.so.6', PYTHONPATH: '/x', X: '1' };
    const argv = [rt.path, '-i', '-e', '-f', '/scratch/.condor_ssh_to_job_1/sshd_config'];
    const r = runWrapper(argv, { wrapper, env });
    expect(r.status).toBe(0);
    expect(rt.argv()).toEqual(argv);
    expect(Object.fromEntries(rt.env())).toEqual(env);
  });

  it('runs a job executable directly when HTCondor did not containerize it', () => {
    const r = runWrapper(['/bin/echo', 'hello', 'two words'], { wrapper });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('hello two words\n');
  });

  it('names an unknown runtime flag and the family, exit 64, in stderr and the error file', () => {
    const rt = standin('apptainer');
    const scratch = tempDir();
    const errFile = join(scratch, '.job_wrapper_failure');
    const r = runWrapper([rt.path, 'exec', '--bogus-flag', IMG, '/bin/true'], { wrapper, env: { _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/^condor-job-wrapper: job error: runtime flag --bogus-flag: not a flag of Apptainer/);
    expect(readFileSync(errFile, 'utf8')).toBe(r.stderr);
    // The runtime may have been asked its --version (no cache on this node), never to run the job.
    if (existsSync(join(rt.dir, 'argv.nul'))) expect(rt.argv().slice(1)).toEqual(['--version']);
  });

  it('removes a stale error file before running the job', () => {
    const rt = standin('apptainer');
    const scratch = tempDir();
    const errFile = join(scratch, '.job_wrapper_failure');
    writeFileSync(errFile, 'stale');
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/true'], { wrapper, env: { _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(0);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it.each([
    ['the front edited (its shell, its Node, a comment): the code is still read by its byte range', (t: string): string => t.replace('# condor-job-wrapper (SPEC S1).', '# condor-job-wrapper (SPEC S1), as edited by a site.'), 'by its byte range'],
    ['a byte after the code (edited after the loader): the whole file is searched, and it still runs', (t: string): string => `${t}\n`, 'whole file searched (the file changed after its loader)'],
  ])('%s', (_name, edit, how) => {
    const text = readFileSync(wrapper, 'utf8');
    const edited = join(tempDir('cjw-edited-'), 'condor-job-wrapper');
    writeFileSync(edited, edit(text), { mode: 0o755 });
    expect(readFileSync(edited, 'utf8')).not.toBe(text);
    expect(runWrapper(['--version'], { wrapper: edited }).stdout).toContain(`\ncode: ${how}\n`);
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', '-C', IMG, '/bin/echo', 'moved'], { wrapper: edited });
    expect({ status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({ status: 0, stderr: '', stdout: 'moved\n' });
  });

  it('answers --version and --help, and refuses an unknown own option with 64', () => {
    expect(runWrapper(['--version'], { wrapper }).stdout).toMatch(/^condor-job-wrapper \d+\.\d+\.\d+\nnode: v\d+\.\d+\.\d+ \/\S+; V8 flags: (none|--jitless( --no-expose-wasm)?)\ncode: by its byte range\ncode cache: \/var\/cache\/condor-job-wrapper\/code-[0-9a-f]{16}-v[0-9.]+-x64\.bin: (used|absent|rejected by V8 \(stale\)|ignored [^\n]*)\n$/);
    expect(runWrapper(['--help'], { wrapper }).stdout).toMatch(/^usage: condor-job-wrapper/);
    const r = runWrapper(['--frobnicate', '/bin/true'], { wrapper });
    expect(r.status).toBe(64);
    expect(r.stderr).toBe('condor-job-wrapper: job error: unknown wrapper option --frobnicate: see condor-job-wrapper --help\n');
  });

  it('leaves no signal ignored for the runtime and the payload (Node ignores SIGPIPE and SIGXFSZ)', () => {
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/grep', '^SigIgn:', '/proc/self/status'], { wrapper });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('SigIgn:\t0000000000000000\n');
  });

  it('run directly with node (no bash front): a real exec where Node has process.execve, no signal left ignored', () => {
    const rt = standin('apptainer');
    const r = spawnSync(nodePath, [wrapper, rt.path, 'exec', IMG, '/bin/grep', '^SigIgn:', '/proc/self/status'], { env: {}, encoding: 'utf8', cwd: tempDir() });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('SigIgn:\t0000000000000000\n');
    const hasExecve = spawnSync(nodePath, ['-e', 'process.exit(typeof process.execve === "function" ? 0 : 1)']).status === 0;
    // With execve the runtime is the process we started; without it, a supervised child.
    if (hasExecve) expect(rt.pid()).toBe(r.pid);
    else expect(rt.pid()).not.toBe(r.pid);
  });

  it('fails closed with exit 70 and a message when Node is missing', () => {
    const broken = installWrapper('/nonexistent/node');
    const scratch = tempDir();
    const errFile = join(scratch, '.job_wrapper_failure');
    const r = runWrapper(['/bin/true'], { wrapper: broken, env: { _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(70);
    expect(r.stderr).toMatch(/^condor-job-wrapper: node error: internal error: Node.js not found at \/nonexistent\/node/);
    expect(readFileSync(errFile, 'utf8')).toBe(r.stderr);
  });
});

// The dynamic linker starts the front's shell with the job's environment: a job's LD_PRELOAD
// would run code there before any policy. Everything the front starts gets an empty environment;
// the shell itself is safe only when statically linked (docs/deployment.md, "Hardening").
const haveStaticBash = existsSync(STATIC_BASH);
describeAsRoot('the front and a job\'s LD_PRELOAD', () => {
  const preload = { LD_PRELOAD: '/nonexistent/cjw-preload.so' };
  const ldso = /ERROR: ld\.so: object '\/nonexistent\/cjw-preload\.so' from LD_PRELOAD cannot be preloaded/g;

  it('with the default dynamic bash, only bash itself loads it (nothing the front starts does)', () => {
    const wrapper = installWrapper('/usr/bin/node');
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/true'], { wrapper, env: preload });
    expect(r.status).toBe(0);
    // One message: bash. Not Node, not env(1), and not the runtime (the env rule dropped it).
    expect(r.stderr.match(ldso)?.length).toBe(1);
    expect(rt.env().has('LD_PRELOAD')).toBe(false);
  });

  if (!haveStaticBash && !IN_CI) {
    it.skip(`static bash tests need ${STATIC_BASH} (Debian: apt install bash-static)`, () => undefined);
    return;
  }
  it('with the static bash as the first line, no process before the runtime loads it', () => {
    const wrapper = installWrapper('/usr/bin/node');
    writeFileSync(wrapper, withStaticFront(readFileSync(wrapper, 'latin1')), 'latin1');
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', IMG, '/bin/echo', 'ran'], { wrapper, env: preload });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ran\n');
  });
});

// Issue 16 (first deployment), items 1, 12 and 13, through the bundle on one Node.
describeAsRoot('first deployment findings, through the bundle', () => {
  const node = nodeBinaries()[0];
  const wrapper = installWrapper(node?.path ?? '/usr/bin/node');

  /** HTCondor 25.14.1's default line (shared/pool/README.md, "Verified"), in a fresh slot dir. */
  function slot(): { slotDir: string; scratch: string; errorFile: string; env: Record<string, string> } {
    const slotDir = tempDir('cjw-slot-');
    const scratch = join(slotDir, 'scratch');
    mkdirSync(scratch);
    // The job ad names the image the lines below use: a line that agrees with it is the starter's (SPEC S2).
    writeFileSync(join(scratch, '.job.ad'), `Owner = "condoruser"\nSingularityImage = "${IMG}"\n`);
    const errorFile = join(scratch, '.job_wrapper_failure');
    return { slotDir, scratch, errorFile, env: { _CONDOR_SCRATCH_DIR: scratch, _CONDOR_WRAPPER_ERROR_FILE: errorFile, _CONDOR_JOB_AD: join(scratch, '.job.ad'), PATH: '/usr/bin:/bin' } };
  }
  const line25 = (rt: string, s: { slotDir: string; scratch: string }, image: string, payload: string[]): string[] =>
    [rt, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', s.scratch, '--pwd', s.scratch, '-B', s.slotDir, '--home', s.scratch, '-C', image, ...payload];

  describe('item 1: a container universe image transferred into the scratch dir (-C busybox-sandbox)', () => {
    const site = tempDir('cjw-site-');
    const nodeCopy = join(site, 'img', 'busybox-sandbox');
    mkdirSync(nodeCopy, { recursive: true });
    const config = join(site, 'wrapper.env');
    writeFileSync(config, `CJW_IMAGE_ALLOW=${site}/img/*\nCJW_NESTED=no\n`);

    it('runs the node\'s own copy of the job ad\'s allowed ContainerImage', () => {
      const rt = standin('apptainer');
      const s = slot();
      mkdirSync(join(s.scratch, 'busybox-sandbox'));
      // As HTCondor 25.14.1 writes it for a transferred image (seen on the pool).
      writeFileSync(join(s.scratch, '.job.ad'), `ContainerImage = "busybox-sandbox"\nContainerImageFullPath = "${nodeCopy}"\nContainerImageSource = "cedar"\nOwner = "condoruser"\n`);
      const r = runWrapper(['--config', config, '--', ...line25(rt.path, s, 'busybox-sandbox', ['/bin/echo', 'ok'])], { wrapper, env: s.env, cwd: s.scratch });
      expect(r.stderr).toBe('');
      expect([r.status, r.stdout]).toEqual([0, 'ok\n']);
      // (Apptainer 1.4 compat also drops -S /tmp: the slot dir bound at its own path lies below it.)
      const want = line25(rt.path, s, nodeCopy, ['/bin/echo', 'ok']);
      want.splice(want.indexOf('-S'), 2);
      expect(rt.argv()).toEqual(want);
    });

    it('holds the job (65) naming transfer_container = false when the ad\'s image is not allowed', () => {
      const rt = standin('apptainer');
      const s = slot();
      mkdirSync(join(s.scratch, 'busybox-sandbox'));
      const mine = tempDir('cjw-mine-');
      writeFileSync(join(s.scratch, '.job.ad'), `ContainerImage = "busybox-sandbox"\nContainerImageFullPath = "${mine}"\n`);
      const r = runWrapper(['--config', config, '--', ...line25(rt.path, s, 'busybox-sandbox', ['/bin/echo', 'ok'])], { wrapper, env: s.env, cwd: s.scratch });
      expect(r.status).toBe(65);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('condor-job-wrapper: job error: image busybox-sandbox: came with the job');
      expect(r.stderr).toContain('submit with transfer_container = false');
      expect(readFileSync(s.errorFile, 'utf8')).toContain('transfer_container = false');
      expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
    });
  });

  it('item 13: --no-home becomes --home SCRATCH:INSIDE, and copies of bind-path variables are dropped', () => {
    const rt = standin('apptainer');
    const s = slot();
    const line = [rt.path, '-s', 'exec', '-W', s.scratch, '--pwd', '/srv/scratch', '-B', `${s.slotDir}:/srv`, '--no-home', '-C', IMG, '/bin/true'];
    const env = { ...s.env, APPTAINERENV_APPTAINER_BINDPATH: '/etc', SINGULARITYENV_SINGULARITY_BIND: '/root', APPTAINERENV_KEEP: 'kept' };
    const r = runWrapper(line, { wrapper, env, cwd: s.scratch });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const got = rt.argv();
    expect(got).not.toContain('--no-home');
    expect(got.join(' ')).toContain(`--home ${s.scratch}:/srv/scratch -C`);
    const e = rt.env();
    expect(e.has('APPTAINERENV_APPTAINER_BINDPATH')).toBe(false);
    expect(e.has('SINGULARITYENV_SINGULARITY_BIND')).toBe(false);
    expect(e.get('APPTAINERENV_KEEP')).toBe('kept');
  });

  it('item 12: with an inside hook, nothing of the launcher\'s watchdog is left beside the payload (40 runs)', () => {
    const t = 5000 + (process.pid % 4000);
    const site = tempDir('cjw-site-');
    const inside = join(site, 'inside.d');
    mkdirSync(inside);
    writeFileSync(join(inside, '10-quick'), '#!/bin/sh\ntrue\n', { mode: 0o755 });
    const config = join(site, 'wrapper.env');
    writeFileSync(config, `CJW_INSIDE_DIR=${inside}\nCJW_HOOK_TIMEOUT=${String(t)}\nCJW_NESTED=no\n`);
    // The stand-in runs the payload on the host: it stands for the read-only hook bind with a symlink.
    const rt = standin('apptainer');
    renameSync(rt.path, join(rt.dir, 'standin'));
    writeFileSync(rt.path, `#!/bin/sh\nfor a; do case $a in *'/inside.d:ro') d=\${a#*:}; d=\${d%:ro}; rmdir "$d" && ln -s "\${a%%:*}" "$d" ;; esac; done\nexec "\${0%/*}/standin" "$@"\n`, { mode: 0o755 });
    const probe = 'read -r kids < /proc/$$/task/$$/children || true; echo "children:[$kids]"';
    // A race: against the old launcher this failed in one of two 20-run tries, hence 40.
    for (let i = 0; i < 40; i++) {
      const s = slot();
      const r = runWrapper(['--config', config, '--', rt.path, '-s', 'exec', '-W', s.scratch, '--pwd', s.scratch, '-B', s.slotDir, '-C', IMG, '/bin/sh', '-c', probe], { wrapper, env: s.env, cwd: s.scratch });
      expect([r.status, r.stderr, r.stdout]).toEqual([0, '', 'children:[]\n']);
    }
    const left = readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${String(t)}\0`;
      } catch {
        return false;
      }
    });
    for (const p of left) process.kill(Number(p), 'SIGKILL');
    expect(left).toEqual([]);
  });
});
