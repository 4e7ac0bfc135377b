// The failure contract through the bundle (SPEC S7, issue 4): every exit class the wrapper uses
// arrives with its one-line message on stderr and in the starter's error file, and the job's own
// environment is never read as policy.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installWrapper, observedArgv, ROOT, runWrapper, standin, tempDir } from './harness';

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
    name: 'broken machine ad',
    code: 69,
    cls: 'node',
    names: 'malformed-nul.job.ad',
    setup: () => ({ argv: [standin('apptainer').path, 'exec', 'img', '/bin/true'], env: { _CONDOR_MACHINE_AD: ad('malformed-nul.job.ad') } }),
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
