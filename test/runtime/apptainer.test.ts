// SPEC S5 rule by rule on the real Apptainer 1.4 (Debian's, non-setuid: user namespaces) in the
// pool root, payloads as the unprivileged condoruser: what the runtime itself does with each flag
// and variable ("bare"), and what the payload sees inside when the bundle (on the root's Node)
// stands in front of HTCondor 25.14's line. Where 1.4 differs from what the code assumed, the test
// names the difference (docs/rules-binds-image-env.md, docs/nested-gpu-compat.md).

import { chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../e2e/harness';
import { tableFor } from '../../src/invocation/families/index';
import {
  APPTAINER, SANDBOX, SIF, UID, apptainerVersion, asJobUser, condor25DefaultLine, condor25Env, condor25Line, describeInRoot,
  insideEnv, installRootWrapper, keyValues, makeSlot, POOL_ROOT, type Run, type Slot,
} from './root';

describeInRoot('S5 rules on the real Apptainer 1.4 (pool root), payload as condoruser', () => {
  let wrapper = '';
  let base = '';

  beforeAll(() => {
    base = tempDir('cjw-rt-app-');
    wrapper = installRootWrapper(join(base));
  });

  function config(text: string): string {
    const f = join(tempDir('cjw-rt-cfg-'), 'wrapper.env');
    writeFileSync(f, text, { mode: 0o644 });
    return f;
  }

  /** The bundle in front of `line`, as the starter runs it (cwd = scratch, the starter's env). */
  function viaWrapper(s: Slot, line: readonly string[], env: Record<string, string>, cfg = '', own: readonly string[] = []): Run {
    return asJobUser([wrapper, '--config', config(cfg), ...own, ...line], env, s.scratch);
  }

  it('the runtime is Apptainer 1.4 (Debian, non-setuid): the suite says which it ran on', () => {
    const v = apptainerVersion();
    console.log(`real-runtime suite on ${v} (${POOL_ROOT})`);
    expect(v).toMatch(/^apptainer version 1\.4\.\d+/);
    // Non-setuid: no starter-suid beside Debian's starter (multiarch lib dir) nor in upstream's libexec.
    const starters = asJobUser(['/bin/sh', '-c', 'ls /usr/lib/*/apptainer/bin/ /usr/libexec/apptainer/bin/ 2>/dev/null']).stdout.split('\n').filter((l) => l.startsWith('starter'));
    expect(starters).toEqual(['starter']);
  });

  it.each(['exec', 'run', 'shell', 'test', 'instance start'])('the flag table knows every flag of 1.4\'s `%s --help`, with the right value-taking', (action) => {
    const help = asJobUser([APPTAINER, ...action.split(' '), '--help']);
    expect(help.status).toBe(0);
    // "  -B, --bind stringArray   a user-bind…" / "      --nv   enable Nvidia support"
    const listed = [...help.stdout.matchAll(/^ {2}(?:(-[a-zA-Z]), )? {0,4}(--[a-z0-9-]+)(?: (string|strings|stringArray|stringToString|int))?\s/gm)];
    expect(listed.length).toBeGreaterThan(40);
    const defs = tableFor('apptainer').actions[action] ?? [];
    const wrong: string[] = [];
    for (const m of listed) {
      const [, short, long = '', type] = m;
      const def = defs.find((d) => d.names.includes(long));
      if (def === undefined) wrong.push(`${long}: not in the table`);
      else if (def.takesValue !== (type !== undefined)) wrong.push(`${long}: takesValue ${String(def.takesValue)}, help says ${type ?? 'boolean'}`);
      else if (short !== undefined && !def.names.includes(short)) wrong.push(`${long}: short ${short} missing`);
    }
    expect(wrong).toEqual([]);
  });

  describe('environment copies (S5.4)', () => {
    const FOO = ['/bin/sh', '-c', 'echo "FOO=$FOO"; echo "BAR=$BAR"'];

    it('bare 1.4: APPTAINERENV_ wins over SINGULARITYENV_; different values warn twice (even with -q), a lone SINGULARITYENV_ logs INFO, -s hides both', () => {
      const both = asJobUser([APPTAINER, 'exec', '-C', SANDBOX, ...FOO], { APPTAINERENV_FOO: 'a', SINGULARITYENV_FOO: 's' });
      expect(both.status).toBe(0);
      expect(both.stdout).toBe('FOO=a\nBAR=\n');
      expect(both.stderr).toBe('WARNING: SINGULARITYENV_FOO and APPTAINERENV_FOO have different values, using the latter\nWARNING: Skipping environment variable [SINGULARITYENV_FOO=s], FOO is already overridden with different value [a]\n');
      const quiet = asJobUser([APPTAINER, '-q', 'exec', '-C', SANDBOX, ...FOO], { APPTAINERENV_FOO: 'a', SINGULARITYENV_FOO: 's' });
      expect(quiet.stderr).toContain('WARNING: SINGULARITYENV_FOO and APPTAINERENV_FOO have different values');
      const lone = asJobUser([APPTAINER, 'exec', '-C', SANDBOX, ...FOO], { SINGULARITYENV_BAR: 'b' });
      expect(lone.stdout).toBe('FOO=\nBAR=b\n');
      expect(lone.stderr).toBe('INFO:    Environment variable SINGULARITYENV_BAR is set, but APPTAINERENV_BAR is preferred\n');
      const same = asJobUser([APPTAINER, 'exec', '-C', SANDBOX, ...FOO], { APPTAINERENV_FOO: 'a', SINGULARITYENV_FOO: 'a' });
      expect(same.stderr).toBe('');
      const silent = asJobUser([APPTAINER, '-s', 'exec', '-C', SANDBOX, ...FOO], { APPTAINERENV_FOO: 'a', SINGULARITYENV_FOO: 's', SINGULARITYENV_BAR: 'b' });
      expect(silent.stderr).toBe('');
      expect(silent.stdout).toBe('FOO=a\nBAR=b\n');
    });

    it('through the wrapper: a pilot\'s SINGULARITYENV_ copies next to the starter\'s APPTAINERENV_ ones give no runtime message, even on a line without -s; APPTAINERENV_ still wins', () => {
      const s = makeSlot();
      const line = condor25Line(s, SANDBOX, FOO).filter((a) => a !== '-s');
      const env = condor25Env(s, { FOO: 'a', APPTAINERENV_FOO: 'a', SINGULARITYENV_FOO: 'pilot', SINGULARITYENV_BAR: 'b' });
      const bare = asJobUser(line, env, s.scratch);
      expect(bare.stderr).toContain('WARNING: SINGULARITYENV_FOO and APPTAINERENV_FOO have different values');
      const r = viaWrapper(s, line, env);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('FOO=a\nBAR=b\n');
    });

    it('bare 1.4: APPTAINERENV_HOME is refused with a warning; PATH and PREPEND_PATH copies work under -C; values are shell-evaluated unless --no-eval', () => {
      const home = asJobUser([APPTAINER, 'exec', '-C', SANDBOX, '/bin/sh', '-c', 'echo "HOME=$HOME"'], { APPTAINERENV_HOME: '/x' });
      expect(home.stderr).toBe('WARNING: Overriding HOME environment variable with APPTAINERENV_HOME is not permitted\n');
      expect(home.stdout).toBe('HOME=/home/condoruser\n');
      const path = asJobUser([APPTAINER, '-s', 'exec', '-C', SANDBOX, '/bin/sh', '-c', 'echo "PATH=$PATH"'], { APPTAINERENV_PREPEND_PATH: '/pre' });
      expect(path.stdout).toBe('PATH=/pre:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
      const ev = asJobUser([APPTAINER, '-s', 'exec', '-C', SANDBOX, '/bin/sh', '-c', 'echo "EV=$EV"'], { APPTAINERENV_EV: '$(echo evaluated)' });
      expect(ev.stdout).toBe('EV=evaluated\n');
      const noEval = asJobUser([APPTAINER, '-s', 'exec', '-C', '--no-eval', SANDBOX, '/bin/sh', '-c', 'echo "EV=$EV"'], { APPTAINERENV_EV: '$(echo evaluated)' });
      expect(noEval.stdout).toBe('EV=$(echo evaluated)\n');
    });

    it('through the wrapper: dropped, reset and retargeted variables, GPU visibility kept, CJW_ENV_SET last, pilot runtime variables gone', () => {
      const s = makeSlot();
      const big = 'v'.repeat(100 * 1024);
      const env = condor25Env(s, {
        LD_LIBRARY_PATH: '/pilot/lib', APPTAINERENV_LD_LIBRARY_PATH: '/pilot/lib', PYTHONPATH: '/pilot/py', APPTAINERENV_PYTHONPATH: '/pilot/py',
        APPTAINERENV_PATH: '/evil/bin', SINGULARITYENV_PREPEND_PATH: '/evil/pre', APPTAINERENV_HOME: '/evil/home',
        JOB_VAR: 'from_submit', APPTAINERENV_JOB_VAR: 'from_submit', BIG: big, APPTAINERENV_BIG: big,
        X509_USER_PROXY: `${s.scratch}/x509up`, APPTAINERENV_X509_USER_PROXY: `${s.scratch}/x509up`,
        APPTAINER_BINDPATH: '/etc:/hostetc', SINGULARITY_BINDPATH: '/etc:/hostetc2', APPTAINER_CONTAINALL: 'false', APPTAINER_NO_HOME: '1',
      });
      const r = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/sh', '-c', 'echo ---; env -0; echo; echo ---; pwd; ls -d /hostetc /hostetc2 2>&1; true']), env, 'CJW_ENV_SET="SITE_VAR=hello,JOB_VAR=site-wins"\n');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const e = insideEnv(r.stdout);
      expect(e.get('LD_LIBRARY_PATH')).toBe('/.singularity.d/libs');
      expect(e.has('PYTHONPATH')).toBe(false);
      expect(e.get('PATH')).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      expect(e.get('HOME')).toBe('/srv/scratch');
      expect(e.get('JOB_VAR')).toBe('site-wins');
      expect(e.get('SITE_VAR')).toBe('hello');
      expect(e.get('CUDA_VISIBLE_DEVICES')).toBe('10000');
      expect(e.get('NVIDIA_VISIBLE_DEVICES')).toBe('none');
      expect(e.get('_CONDOR_SCRATCH_DIR')).toBe('/srv/scratch');
      expect(e.get('_CONDOR_JOB_AD')).toBe('/srv/scratch/.job.ad');
      expect(e.get('_CONDOR_CHIRP_CONFIG')).toBe('/srv/user/.chirp.config');
      expect(e.get('X509_USER_PROXY')).toBe('/srv/scratch/x509up');
      expect(e.get('BIG')).toBe(big);
      expect(r.stdout).toContain('/srv/scratch\nls: /hostetc: No such file or directory\nls: /hostetc2: No such file or directory\n');
    });

    it('hostile values: 1.4 shell-evaluates a job\'s copy ($(…), backquotes) on HTCondor\'s line; with CJW_EXTRA_ARGS=--no-eval it arrives byte for byte', () => {
      const s = makeSlot();
      const nl = 'line1\nline2 $(id -u) `echo bt` "q" \'s\'';
      const env = condor25Env(s, { NL: nl, APPTAINERENV_NL: nl });
      const line = condor25Line(s, SANDBOX, ['/bin/sh', '-c', 'printf "%s|" "$NL"']);
      const evaluated = viaWrapper(s, line, env);
      expect(evaluated.stdout).toBe(`line1\nline2 ${String(UID)} bt "q" 's'|`);
      const r = viaWrapper(s, line, env, 'CJW_EXTRA_ARGS=--no-eval\n');
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${nl}|`);
    });
  });

  describe('home (S5.4) and binds (S5.2)', () => {
    it('--home SRC:DST: HOME and the cwd are DST, the job\'s files land in SRC; the wrapper writes SCRATCH:/srv/scratch for the starter\'s --home SCRATCH', () => {
      const s = makeSlot();
      const bare = asJobUser([APPTAINER, '-s', 'exec', '-C', '--home', `${s.scratch}:/myhome`, SANDBOX, '/bin/sh', '-c', 'echo "HOME=$HOME"; pwd; echo hi >"$HOME/f"'], {}, s.scratch);
      expect(bare.stdout).toBe('HOME=/myhome\n/myhome\n');
      expect(readFileSync(join(s.scratch, 'f'), 'utf8')).toBe('hi\n');
      const r = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/sh', '-c', 'echo "HOME=$HOME"; pwd; echo job >"$HOME/out"']), condor25Env(s));
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('HOME=/srv/scratch\n/srv/scratch\n');
      expect(readFileSync(join(s.scratch, 'out'), 'utf8')).toBe('job\n');
      const plan = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/true']), condor25Env(s), '', ['--explain']);
      expect(plan.stdout).toContain(`--home ${s.scratch} → --home ${s.scratch}:/srv/scratch`);
    });

    it('site binds: :ro is read-only inside (a write fails), a path with "," or ":" goes through --mount; bare -B cannot carry a ":" path', () => {
      const s = makeSlot();
      const d = tempDir('cjw-rt-binds-');
      for (const sub of ['ro', 'a,b', 'c:d', 'allowed/in']) {
        mkdirSync(join(d, sub), { recursive: true });
        chownSync(join(d, sub), UID, UID);
        writeFileSync(join(d, sub, 'f'), `${sub}\n`, { mode: 0o644 });
      }
      const bare = asJobUser([APPTAINER, '-s', 'exec', '-C', '-B', `${d}/c:d:/cd`, SANDBOX, '/bin/true']);
      expect(bare.status).toBe(255);
      expect(bare.stderr).toContain('/cd is not a valid bind option');
      // In CJW_BINDS a literal "," is written "\\," and a literal ":" "\\:" (single quotes: dotenv keeps backslashes).
      const cfg = `CJW_BINDS='${d}/ro:/site:ro,${d}/a\\,b:/ab,${d}/c\\:d:/cd'\nCJW_BIND_ALLOW=${d}/allowed/**\n`;
      const payload = ['/bin/sh', '-c', 'cat /site/f /ab/f /cd/f /in/f; touch /site/x 2>&1; echo "site-rc=$?"; touch /in/new && echo in-writable; grep -E " /(site|in) " /proc/self/mountinfo | cut -d" " -f5,6'];
      const ad = `Owner = "condoruser"\nSingularityBind = "${d}/allowed/in:/in"\n`;
      writeFileSync(s.jobAd, ad);
      const line = condor25Line(s, SANDBOX, payload, ['-B', `${d}/allowed/in:/in`]);
      const plan = viaWrapper(s, line, condor25Env(s), cfg, ['--explain']);
      expect(plan.stderr).toBe('');
      expect(plan.stdout).toContain('--mount');
      const r = viaWrapper(s, line, condor25Env(s), cfg);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines.slice(0, 4)).toEqual(['ro', 'a,b', 'c:d', 'allowed/in']);
      expect(lines[4]).toBe('touch: /site/x: Read-only file system');
      expect(lines[5]).toBe('site-rc=1');
      expect(lines[6]).toBe('in-writable');
      expect(r.stdout).toMatch(/^\/site ro,/m);
      expect(r.stdout).toMatch(/^\/in rw,/m);
      expect(existsSync(join(d, 'allowed/in/new'))).toBe(true);
    });

    it('a job bind outside CJW_BIND_ALLOW is 65 with one line, and the runtime never starts', () => {
      const s = makeSlot(`Owner = "condoruser"\nSingularityBind = "/etc/ssl:/ssl"\n`);
      const d = tempDir('cjw-rt-allow-');
      const r = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/sh', '-c', 'echo RAN'], ['-B', '/etc/ssl:/ssl']), condor25Env(s), `CJW_BIND_ALLOW=${d}/**\n`);
      const line = `condor-job-wrapper: job error: job bind /etc/ssl:/ssl (SingularityBind): /etc/ssl matches no CJW_BIND_ALLOW glob (${d}/**)`;
      expect(r.status).toBe(65);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`${line}\n`);
      expect(readFileSync(s.errorFile, 'utf8').trim()).toBe(line);
    });

    it('bare 1.4: a missing bind source is fatal (255), so the wrapper\'s skip-with-a-warning of an optional site bind is what keeps the job running', () => {
      const bare = asJobUser([APPTAINER, '-s', 'exec', '-C', '-B', '/nonexistent/src:/x', SANDBOX, '/bin/true']);
      expect(bare.status).toBe(255);
      expect(bare.stderr).toContain('mount source /nonexistent/src doesn\'t exist');
      const s = makeSlot();
      const r = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/echo', 'RAN']), condor25Env(s), 'CJW_BINDS=/nonexistent/src:/x\n');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('RAN\n');
      expect(r.stderr).toBe('condor-job-wrapper: warning: site bind /nonexistent/src:/x (CJW_BINDS): source /nonexistent/src does not exist, skipped\n');
    });
  });

  describe('containment: -C, -S, --writable-tmpfs (S5.7)', () => {
    it('bare 1.4: -C --no-pid still makes a new PID namespace (so a nested rule cannot use --no-pid to avoid one)', () => {
      const ns = ['/bin/sh', '-c', 'echo "outerns=$(readlink /proc/self/ns/pid)"; exec "$@"', 'sh', APPTAINER, '-s', 'exec', '-C', '--no-pid', SANDBOX, '/bin/sh', '-c', 'echo "pidns=$(readlink /proc/self/ns/pid)"'];
      const kv = keyValues(asJobUser(ns).stdout);
      expect(kv.get('pidns')).toMatch(/^pid:\[\d+\]$/);
      expect(kv.get('pidns')).not.toBe(kv.get('outerns'));
    });

    it('bare 1.4: --no-home under -C keeps HOME at the host home, which is missing inside: a WARNING and cwd /', () => {
      const r = asJobUser([APPTAINER, 'exec', '-C', '--no-home', SANDBOX, '/bin/sh', '-c', 'echo "HOME=$HOME"; pwd']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('HOME=/home/condoruser\n/\n');
      expect(r.stderr).toBe('WARNING: Error changing the container working directory. Using \'/\' instead: chdir /home/condoruser: no such file or directory\n');
    });

    it('-C on 1.4 = --contain --pid --ipc --cleanenv: own PID and IPC namespaces, host variables gone, private /tmp', () => {
      const s = makeSlot();
      writeFileSync('/tmp/cjw-rt-host-tmp-marker', 'x');
      const r = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/sh', '-c', 'echo "pid=$$"; echo "pidns=$(readlink /proc/self/ns/pid)"; echo "ipc=$(readlink /proc/self/ns/ipc)"; echo "host=${HOST_ONLY-unset}"; ls /tmp']), condor25Env(s, { HOST_ONLY: 'x' }));
      expect(r.stderr).toBe('');
      const kv = keyValues(r.stdout);
      expect(Number(kv.get('pid'))).toBeLessThan(100);
      const host = keyValues(asJobUser(['/bin/sh', '-c', 'echo "pidns=$(readlink /proc/self/ns/pid)"; echo "ipc=$(readlink /proc/self/ns/ipc)"']).stdout);
      expect(kv.get('pidns')).toMatch(/^pid:\[\d+\]$/);
      expect(kv.get('pidns')).not.toBe(host.get('pidns'));
      expect(kv.get('ipc')).toMatch(/^ipc:\[\d+\]$/);
      expect(kv.get('ipc')).not.toBe(host.get('ipc'));
      expect(r.stdout).toContain('host=unset\n');
      expect(r.stdout).not.toContain('cjw-rt-host-tmp-marker');
    });

    it('HTCondor 25.14\'s default line (no target dir): 1.4 fails it bare ("doesn\'t exist in container" under -S /tmp); through the wrapper the -S flags go and the job runs', () => {
      const s = makeSlot();
      const payload = ['/bin/sh', '-c', 'pwd; echo "HOME=$HOME"; echo out >"$_CONDOR_SCRATCH_DIR/out"'];
      const env = condor25Env(s, {}, false);
      const line = condor25DefaultLine(s, SANDBOX, payload);
      const bare = asJobUser(line, env, s.scratch);
      expect(bare.status).toBe(255);
      expect(bare.stderr).toContain(`destination ${s.slot} doesn't exist in container`);
      const noS = asJobUser(line.filter((a, i) => !(a === '-S' || line[i - 1] === '-S')), env, s.scratch);
      expect(noS.stderr).toBe('');
      expect(noS.status).toBe(0);
      const r = viaWrapper(s, line, env);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${s.scratch}\nHOME=${s.scratch}\n`);
      expect(readFileSync(join(s.scratch, 'out'), 'utf8')).toBe('out\n');
      const plan = viaWrapper(s, line, env, '', ['--explain']);
      expect(plan.stdout).toContain('dropped -S /tmp');
      // The starter's own self-test runs the same flags with `test` before the wrapper (not through
      // it) and fails the same way: in a pool this line needs SINGULARITY_TARGET_DIR, or the
      // self-test off (SINGULARITY_RUN_TEST_BEFORE_JOB = False), for the repair to matter.
      const flags = line.slice(3, line.indexOf(SANDBOX));
      const selfTest = asJobUser([APPTAINER, '-s', '-q', 'test', ...flags, SANDBOX], env, s.scratch);
      expect(selfTest.status).toBe(255);
      expect(selfTest.stderr).toContain(`destination ${s.slot} doesn't exist in container`);
      expect(plan.stdout).not.toContain('dropped -S /var/tmp'); // nothing is bound below /var/tmp
    });

    it('with SINGULARITY_TARGET_DIR=/srv the -S flags stay: 1.4 mounts them (nothing is bound below /tmp)', () => {
      const s = makeSlot();
      const r = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/sh', '-c', 'grep -c " /tmp \\| /var/tmp " /proc/self/mountinfo']), condor25Env(s));
      expect(r.stderr).toBe('');
      expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(2);
      const plan = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/true']), condor25Env(s), '', ['--explain']);
      expect(plan.stdout).not.toContain('dropped -S');
    });

    it('--writable-tmpfs works on 1.4 as condoruser (a file can be created in /); without it / is read-only; CJW_EXTRA_ARGS keeps it', () => {
      const s = makeSlot();
      const payload = ['/bin/sh', '-c', 'touch /newfile 2>&1 && echo wrote-root'];
      const without = viaWrapper(s, condor25Line(s, SANDBOX, payload), condor25Env(s));
      expect(without.stdout).toBe('touch: /newfile: Read-only file system\n');
      const r = viaWrapper(s, condor25Line(s, SANDBOX, payload), condor25Env(s), 'CJW_EXTRA_ARGS=--writable-tmpfs\n');
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('wrote-root\n');
    });
  });

  describe('wrapper-built mode (S4): the wrapper builds the line for a vanilla job', () => {
    it.each([
      ['in the scratch dir', false],
      ['a shared-FS working dir under /tmp (bound at its own path: -S /tmp goes)', true],
    ])('job cwd %s: CJW_MODE=REQUIRED runs it in the default image, as condoruser', (_n, shared) => {
      const s = makeSlot();
      const iwd = shared ? tempDir('cjw-rt-iwd-') : s.scratch;
      if (shared) chownSync(iwd, UID, UID);
      const cfg = `CJW_MODE=REQUIRED\nCJW_RUNTIME=${APPTAINER}\nCJW_DEFAULT_IMAGE=${SANDBOX}\n`;
      const env = { _CONDOR_SCRATCH_DIR: s.scratch, _CONDOR_JOB_AD: s.jobAd, _CONDOR_WRAPPER_ERROR_FILE: s.errorFile, _CONDOR_JOB_IWD: iwd };
      const job = ['/bin/sh', '-c', 'echo "pwd=$(pwd)"; echo "name=$APPTAINER_NAME"; echo "uid=$(id -u)"; echo out >out'];
      const r = asJobUser([wrapper, '--config', config(cfg), ...job], env, iwd);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const kv = keyValues(r.stdout);
      expect(kv.get('pwd')).toBe(shared ? iwd : '/srv');
      expect(kv.get('name')).toBe('busybox-sandbox');
      expect(kv.get('uid')).toBe(String(UID));
      expect(readFileSync(join(iwd, 'out'), 'utf8')).toBe('out\n');
      const plan = asJobUser([wrapper, '--config', config(cfg), '--explain', '--', ...job], env, iwd).stdout;
      if (shared) expect(plan).toContain('[compat] dropped -S /tmp');
      else expect(plan).not.toContain('[compat]');
    });
  });

  describe('images (S5.3)', () => {
    it.each([
      ['sandbox', SANDBOX, 'busybox-sandbox', SANDBOX],
      ['SIF', SIF, 'busybox.sif', undefined],
    ])('%s image: the 25.14 line runs through the wrapper, the payload sees APPTAINER_NAME; stderr stays empty under -s', (_n, image, name, container) => {
      const s = makeSlot();
      const r = viaWrapper(s, condor25Line(s, image, ['/bin/sh', '-c', 'echo "name=$APPTAINER_NAME"; echo "container=$APPTAINER_CONTAINER"; ls -d /.singularity.d; exit 37']), condor25Env(s), `CJW_IMAGE_ALLOW=/img/**\n`);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(37);
      const kv = keyValues(r.stdout);
      expect(kv.get('name')).toBe(name);
      // A SIF runs from a temporary extracted copy (no squashfuse in the root): /tmp/rootfs-*.
      if (container === undefined) expect(kv.get('container')).toMatch(/^\/tmp\/rootfs-\d+\/root$/);
      else expect(kv.get('container')).toBe(container);
    });

    it('bare 1.4 without -s: a SIF prints INFO lines (no squashfuse: converted to a temporary sandbox)', () => {
      const r = asJobUser([APPTAINER, 'exec', '-C', SIF, '/bin/true']);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('INFO:    Converting SIF file to temporary sandbox...');
    });

    it('a symlinked allowed image runs as its realpath; a missing one is 66; bare 1.4 exits 255 for a missing or bad image', () => {
      const d = tempDir('cjw-rt-img-');
      const link = join(d, 'el9:latest');
      symlinkSync(SANDBOX, link);
      const s = makeSlot();
      const r = viaWrapper(s, condor25Line(s, link, ['/bin/sh', '-c', 'echo "$APPTAINER_CONTAINER"']), condor25Env(s), 'CJW_IMAGE_ALLOW=/img/**\n');
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${SANDBOX}\n`);
      const s2 = makeSlot();
      const missing = viaWrapper(s2, condor25Line(s2, '/img/gone.sif', ['/bin/true']), condor25Env(s2));
      expect(missing.status).toBe(66);
      expect(missing.stderr).toBe('condor-job-wrapper: job error: image /img/gone.sif: does not exist\n');
      const bareMissing = asJobUser([APPTAINER, 'exec', '/img/gone.sif', '/bin/true']);
      expect(bareMissing.status).toBe(255);
      expect(bareMissing.stderr).toBe('FATAL:   While checking container encryption: could not open image /img/gone.sif: failed to retrieve path for /img/gone.sif: lstat /img/gone.sif: no such file or directory\n');
      const bad = asJobUser([APPTAINER, 'exec', '/etc/passwd', '/bin/true']);
      expect(bad.status).toBe(255);
      expect(bad.stderr).toBe('FATAL:   While checking container encryption: could not open image /etc/passwd: image format not recognized\n');
    });
  });

  describe('GPUs (S5.5)', () => {
    it('bare 1.4 on this GPU-less node: --nv and --rocm are accepted silently (rc 0, no message even without -s)', () => {
      const r = asJobUser([APPTAINER, 'exec', '-C', '--nv', '--rocm', SANDBOX, '/bin/echo', 'ok']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('ok\n');
      expect(r.stderr).toBe('');
    });

    it('a GPU slot: the wrapper adds --nv once (and keeps HTCondor 25\'s --rocm on Apptainer); the job runs here without GPUs', () => {
      const s = makeSlot(undefined, 'AssignedGPUs = "CUDA0"\n');
      const line = condor25Line(s, SANDBOX, ['/bin/echo', 'ran'], ['--nv', '--rocm']);
      const r = viaWrapper(s, line, condor25Env(s, { CUDA_VISIBLE_DEVICES: '0' }));
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('ran\n');
      const plan = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/true']), condor25Env(s), '', ['--explain']);
      expect(plan.stdout).toContain('[gpu] added --nv');
      const kept = viaWrapper(s, line, condor25Env(s), '', ['--explain']);
      expect(kept.stdout).not.toContain('dropped --rocm');
    });
  });

  describe('what 1.4 says when a job is broken (the wrapper passes these through)', () => {
    it('payload exit code passes through; a missing command is 255 "FATAL:   stat …" on 1.4 (3.4.2 said 127)', () => {
      const s = makeSlot();
      const ok = viaWrapper(s, condor25Line(s, SANDBOX, ['/bin/sh', '-c', 'exit 37']), condor25Env(s));
      expect(ok.status).toBe(37);
      const r = viaWrapper(s, condor25Line(s, SANDBOX, ['/no/such/cmd']), condor25Env(s));
      expect(r.status).toBe(255);
      expect(r.stderr).toBe('FATAL:   stat /no/such/cmd: no such file or directory\n');
    });

    it('a missing --pwd is fatal on 1.4 (255; 3.4.2 ignored it)', () => {
      const r = asJobUser([APPTAINER, '-s', 'exec', '-C', '--pwd', '/nonexistent', SANDBOX, '/bin/pwd']);
      expect(r.status).toBe(255);
      expect(r.stderr).toBe('FATAL:   failed to set working directory: chdir /nonexistent: no such file or directory\n');
    });
  });
});
