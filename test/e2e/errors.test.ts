// The failure contract through the bundle (SPEC S7, issue 4): every exit class the wrapper uses
// arrives with its one-line message on stderr and in the starter's error file, and the job's own
// environment is never read as policy.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installWrapper, itAsRoot, observedArgv, ROOT, runWrapper, standin, tempDir } from './harness';

const wrapper = installWrapper('/usr/bin/node');
const LINE = /^condor-job-wrapper: (job|node) error: [^\n]+: [^\n]+\n$/;

interface Case {
  readonly name: string;
  readonly code: number;
  readonly cls: 'job' | 'node';
  /** Text the one-line message must contain (the file, key, path or flag involved). */
  readonly names: string;
  /** Builds the argv and extra environment for the run; `dir` is a fresh temporary directory. */
  readonly setup: (dir: string) => { argv: string[]; env?: Record<string, string> };
}

const ad = (f: string): string => join(ROOT, 'test/fixtures/ads', f);

const cases: readonly Case[] = [
  {
    name: 'unknown runtime flag',
    code: 64,
    cls: 'job',
    names: '--frobnicate',
    setup: () => ({ argv: [standin('apptainer').path, 'exec', '--frobnicate', 'img', '/bin/true'] }),
  },
  {
    name: 'malformed job ad',
    code: 65,
    cls: 'job',
    names: 'malformed-missing-eq.job.ad',
    setup: () => ({ argv: [standin('apptainer').path, 'exec', 'img', '/bin/true'], env: { _CONDOR_JOB_AD: ad('malformed-missing-eq.job.ad') } }),
  },
  {
    name: 'job ad with invalid UTF-8',
    code: 65,
    cls: 'job',
    names: 'malformed-utf8.job.ad',
    setup: () => ({ argv: [standin('apptainer').path, 'exec', 'img', '/bin/true'], env: { _CONDOR_JOB_AD: ad('malformed-utf8.job.ad') } }),
  },
  {
    name: 'job program that does not exist',
    code: 66,
    cls: 'job',
    names: '/no/such/program',
    setup: () => ({ argv: ['/no/such/program', 'x'] }),
  },
  {
    // Only AssignedGPUs is read from the startd's ad (facts/gather.ts): a broken line elsewhere is
    // not the job's business; a broken AssignedGPUs is the node's.
    name: 'broken machine ad',
    code: 69,
    cls: 'node',
    names: 'bad.machine.ad line 2',
    setup: (dir) => {
      const file = join(dir, 'bad.machine.ad');
      writeFileSync(file, 'Name = "slot1@x"\nAssignedGPUs = "GPU-1\n');
      return { argv: [standin('apptainer').path, 'exec', 'img', '/bin/true'], env: { _CONDOR_MACHINE_AD: file } };
    },
  },
  {
    name: 'machine ad that is not UTF-8',
    code: 69,
    cls: 'node',
    names: 'malformed-utf8.job.ad',
    setup: () => ({ argv: [standin('apptainer').path, 'exec', 'img', '/bin/true'], env: { _CONDOR_MACHINE_AD: ad('malformed-utf8.job.ad') } }),
  },
  {
    name: 'unknown key in the site config',
    code: 78,
    cls: 'node',
    names: 'CJW_MDOE',
    setup: (dir) => {
      const f = join(dir, 'site.env');
      writeFileSync(f, 'CJW_MDOE=REQUIRED\n');
      return { argv: ['--config', f, '/bin/true'] };
    },
  },
  {
    name: 'bad value in the site config',
    code: 78,
    cls: 'node',
    names: 'CJW_MODE',
    setup: (dir) => {
      const f = join(dir, 'site.env');
      writeFileSync(f, 'CJW_MODE=SOMETIMES\n');
      return { argv: ['--config', f, '/bin/true'] };
    },
  },
  {
    name: 'unreadable site config',
    code: 78,
    cls: 'node',
    names: 'missing.env',
    setup: (dir) => ({ argv: ['--config', join(dir, 'missing.env'), '/bin/true'] }),
  },
];

describe('every error class reaches stderr and the error file (S7)', () => {
  it.each(cases)('$name → exit $code, $cls error naming $names', (c) => {
    const dir = tempDir();
    const errFile = join(dir, 'wrapper-error');
    const { argv, env = {} } = c.setup(dir);
    const r = runWrapper(argv, { wrapper, env: { PATH: '/usr/bin:/bin', ...env, _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(c.code);
    expect(r.stderr).toMatch(LINE);
    expect(r.stderr).toContain(`${c.cls} error`);
    expect(r.stderr).toContain(c.names);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, never a stack trace
    expect(existsSync(errFile)).toBe(true);
    expect(readFileSync(errFile, 'utf8')).toBe(r.stderr);
  });
});

describe('the job environment is input, never policy (S8)', () => {
  const hostile = {
    CJW_MODE: 'NEVER',
    CJW_VO_MODE: 'DISABLE',
    CJW_BINDS: '/',
    CJW_IMAGES: '*',
    CJW_NESTED: 'yes',
    CJW_GLIDEIN_CONFIG: '/etc/passwd',
    CJW_SETUP_HOOKS: '/tmp',
  };

  it('runs the starter line exactly as without the CJW_* variables', () => {
    // The observed /cvmfs image is not on this node (the image rule would stop the job): an existing sandbox dir stands in.
    const img = tempDir('cjw-img-');
    const line = observedArgv('container-apptainer-srv.wrapper.argv.nul').map((a) => (a.startsWith('/cvmfs/') ? img : a));
    const plain = standin('apptainer');
    const steered = standin('apptainer');
    const base = { PATH: '/usr/bin:/bin', HOME: '/nonexistent' };
    const a = runWrapper([plain.path, ...line.slice(2)], { wrapper, env: base });
    const b = runWrapper([steered.path, ...line.slice(2)], { wrapper, env: { ...base, ...hostile } });
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(steered.argv().slice(1)).toEqual(plain.argv().slice(1));
  });

  it('--explain shows the site default, not the job variables', () => {
    const rt = standin('apptainer');
    const r = runWrapper(['--explain', '--json', rt.path, 'exec', '-C', 'img', '/bin/true'], { wrapper, env: { PATH: '/usr/bin:/bin', ...hostile } });
    expect(r.status).toBe(0);
    const text = r.stdout;
    expect(text).not.toContain('/etc/passwd');
    const plan = JSON.parse(text) as { plan?: { argv?: string[] }; argv?: string[] };
    const argv = plan.plan?.argv ?? plan.argv ?? [];
    expect(argv).toEqual([rt.path, 'exec', '-C', 'img', '/bin/true']);
  });
});

// Issue 14 items 4-7: the failure contract on hostile paths, through the bundle.
describe('the failure contract holds on hostile input (issue 14)', () => {
  /** Runs the wrapper with one environment entry that is not UTF-8 (byte 0xff), set by bash. */
  function runWithBadByte(argv: readonly string[], env: Record<string, string>, w = wrapper): ReturnType<typeof spawnSync> {
    return spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', 'export JOB_BYTES=$(printf "a\\377b"); exec "$0" "$@"', w, ...argv], { env, cwd: tempDir(), encoding: 'utf8', timeout: 20000 });
  }

  itAsRoot('an empty image (exec "" /bin/true) is a job error 65 naming the empty image, not an internal error', () => {
    const dir = tempDir();
    const errFile = join(dir, '.job_wrapper_failure');
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', '', '/bin/true'], { wrapper, env: { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(65);
    expect(r.stderr).toBe('condor-job-wrapper: job error: image "": the runtime line names an empty image\n');
    expect(readFileSync(errFile, 'utf8')).toBe(r.stderr);
    expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
  });

  it('invalid UTF-8 in the job environment: exit 65 and the error file written (its path decoded on its own)', () => {
    const dir = tempDir();
    const errFile = join(dir, '.job_wrapper_failure');
    const r = runWithBadByte(['/bin/true'], { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile });
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/^condor-job-wrapper: job error: environment entry \d+: not valid UTF-8; refusing to pass it on altered\n$/);
    expect(readFileSync(errFile, 'utf8')).toBe(r.stderr);
  });

  it('a directory the job transferred at the error-file path: one stderr line with the original error and its code', () => {
    const dir = tempDir();
    const errFile = join(dir, '.job_wrapper_failure');
    mkdirSync(errFile);
    writeFileSync(join(errFile, 'data'), 'the job\'s');
    const r = runWrapper(['/no/such/program'], { wrapper, env: { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(66);
    expect(r.stderr).toBe('condor-job-wrapper: job error: program /no/such/program: does not exist\n');
    // The job's data is left alone.
    expect(readFileSync(join(errFile, 'data'), 'utf8')).toBe('the job\'s');
  });

  it('an empty directory at the error-file path is removed like a stale file, and the job runs', () => {
    const dir = tempDir();
    const errFile = join(dir, '.job_wrapper_failure');
    mkdirSync(errFile);
    const r = runWrapper(['/bin/echo', 'ran'], { wrapper, env: { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ran\n');
    expect(existsSync(errFile)).toBe(false);
  });

  it('a plan the front cannot carry (a program path with "=") is reported with the error file, not only on stderr', () => {
    const dir = tempDir();
    const errFile = join(dir, '.job_wrapper_failure');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'x=y'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
    const r = runWrapper(['x=y'], { wrapper, env: { PATH: `${bin}:/usr/bin:/bin`, _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(70);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^condor-job-wrapper: node error: exec \S+x=y: the program path is empty or contains "=", which env\(1\) cannot run\n$/);
    expect(readFileSync(errFile, 'utf8')).toBe(r.stderr);
  });

  describe('a FIFO at the error-file path never hangs the wrapper', () => {
    function fifo(): { dir: string; errFile: string } {
      const dir = tempDir();
      const errFile = join(dir, '.job_wrapper_failure');
      execFileSync('/usr/bin/mkfifo', [errFile]);
      return { dir, errFile };
    }
    const expectRegularWith = (errFile: string, text: string): void => {
      expect(lstatSync(errFile).isFile()).toBe(true);
      expect(readFileSync(errFile, 'utf8')).toBe(text);
    };

    it('usage error (before the stale-file removal): 64, the FIFO replaced by the error file', () => {
      const { errFile } = fifo();
      const r = runWrapper(['--frobnicate', '/bin/true'], { wrapper, env: { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile } });
      expect(r.error).toBeUndefined(); // no timeout
      expect(r.status).toBe(64);
      expectRegularWith(errFile, r.stderr);
    });

    it('early error (the environment does not decode): 65, the FIFO replaced by the error file', () => {
      const { errFile } = fifo();
      const r = runWithBadByte(['/bin/true'], { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(65);
      expectRegularWith(errFile, r.stderr as string);
    });

    it('a job error after the removal: 66, and a successful run leaves nothing at the path', () => {
      const { errFile } = fifo();
      const r = runWrapper(['/no/such/program'], { wrapper, env: { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile } });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(66);
      expectRegularWith(errFile, r.stderr);
      const ok = fifo();
      const r2 = runWrapper(['/bin/true'], { wrapper, env: { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: ok.errFile } });
      expect(r2.status).toBe(0);
      expect(existsSync(ok.errFile)).toBe(false);
    });

    it("the front's own failure path (Node missing): 70, the FIFO replaced by the error file", () => {
      const { dir, errFile } = fifo();
      const broken = installWrapper(join(dir, 'no-node'), dir);
      const r = runWrapper(['/bin/true'], { wrapper: broken, env: { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile } });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(70);
      expect(r.stderr).toMatch(/^condor-job-wrapper: node error: internal error: Node\.js not found at .*no-node/);
      expectRegularWith(errFile, r.stderr);
    });
  });

  it('a symlink at the error-file path is replaced, never written through (Node and the front)', () => {
    for (const broken of [false, true]) {
      const dir = tempDir();
      const target = join(dir, 'victim');
      writeFileSync(target, 'untouched\n', { mode: 0o600 });
      const errFile = join(dir, '.job_wrapper_failure');
      symlinkSync(target, errFile);
      const w = broken ? installWrapper(join(dir, 'no-node'), dir) : wrapper;
      const r = runWrapper(broken ? ['/bin/true'] : ['--frobnicate'], { wrapper: w, env: { PATH: '/usr/bin:/bin', _CONDOR_WRAPPER_ERROR_FILE: errFile } });
      expect(r.status).toBe(broken ? 70 : 64);
      expect(readFileSync(target, 'utf8')).toBe('untouched\n');
      expect(lstatSync(target).mode & 0o777).toBe(0o600);
      expect(lstatSync(errFile).isFile()).toBe(true);
      expect(readFileSync(errFile, 'utf8')).toBe(r.stderr);
      expect(() => readlinkSync(errFile)).toThrow();
    }
  });
});
