// The REQUIRED bypasses of issue 14, end to end through the bundled file: each test is the
// exploit itself, run as the starter would run it, and asserts the payload ran inside the site's
// container (the recording stand-in runtime received it) and never on the host.
//  1. a job argument on Node's command line (--env-file=evil.env → NODE_OPTIONS=--require evil.js);
//  2. a job executable named sshd / apptainer / singularity / run-singularity;
//  3. a job-written runtime line (its -B would have counted as the site's);
//  and the other way round: a site runtime with any name whose line agrees with the job ad.

import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBundle, installWrapper, runWrapper, type Standin, standin, tempDir } from './harness';

const JOB_UID = 4242;

interface Job {
  readonly base: string;
  readonly scratch: string;
  readonly image: string;
  readonly config: string;
  readonly env: Record<string, string>;
  readonly ad: string;
}

/** A starter-like sandbox: scratch dir, job ad, site config naming the stand-in runtime. */
function job(rt: Standin, config: string, ad = 'Owner = "condoruser"\nClusterId = 1\nProcId = 0\n'): Job {
  const base = tempDir('cjw-cont-');
  const scratch = join(base, 'execute', 'dir_1');
  mkdirSync(scratch, { recursive: true });
  const image = join(base, 'el9.sif');
  writeFileSync(image, 'image');
  const adFile = join(scratch, '.job.ad');
  writeFileSync(adFile, ad.replace(/@IMAGE@/g, image));
  const cfg = join(base, 'wrapper.env');
  writeFileSync(cfg, `CJW_NESTED=no\nCJW_RUNTIME=${rt.path}\nCJW_DEFAULT_IMAGE=${image}\n${config}\n`);
  return {
    base, scratch, image, config: cfg, ad: adFile,
    env: { _CONDOR_SCRATCH_DIR: scratch, _CONDOR_JOB_AD: adFile, _CONDOR_WRAPPER_ERROR_FILE: join(scratch, '.job_wrapper_failure'), PATH: '/usr/bin:/bin' },
  };
}

/** The runtime received a line that runs `payload` inside `image`. */
function expectContained(rt: Standin, image: string, payloadTail: readonly string[]): void {
  const argv = rt.argv();
  expect(argv[0]).toBe(rt.path);
  const at = argv.indexOf(image);
  expect(at).toBeGreaterThan(0);
  expect(argv.slice(argv.length - payloadTail.length)).toEqual([...payloadTail]);
}

describeBundle('containment against the job, bundle on $label', ({ path: nodePath }) => {
  const wrapper = installWrapper(nodePath);

  describe('1. no job argument reaches the wrapper\'s Node', () => {
    // Every option that Node 20.20 / 22.23 / 24.22 honour after the script
    // (scripts/node-option-audit.sh): each reads a job file that can load the job's JavaScript.
    it.each(['--env-file=evil.env', '--env-file-if-exists=evil.env', '--experimental-config-file=node.config.json', '--experimental-default-config-file'])('a job argument %s runs no job code in the wrapper, and the payload stays contained', (arg) => {
      const rt = standin('apptainer');
      const j = job(rt, 'CJW_MODE=REQUIRED');
      const marker = join(j.base, 'evil-ran');
      writeFileSync(join(j.scratch, 'evil.env'), 'NODE_OPTIONS="--require ./evil.js"\n');
      writeFileSync(join(j.scratch, 'node.config.json'), `${JSON.stringify({ nodeOptions: { require: [join(j.scratch, 'evil.js')] } })}\n`);
      // What the exploit's code did: mark that it ran, and fake an "exec the payload" decision on fd 3.
      writeFileSync(join(j.scratch, 'evil.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); try { require('fs').writeSync(3, 'CJW2'); } catch {}\n`);
      const payload = [join(j.scratch, 'payload.sh'), arg];
      writeFileSync(payload[0] ?? '', '#!/bin/sh\ntouch ran-on-host-or-inside\n', { mode: 0o755 });
      const r = runWrapper(['--config', j.config, '--', ...payload], { wrapper, env: j.env, cwd: j.scratch });
      // (The stand-in then runs /srv/payload.sh on the host, where it does not exist: only the wrapper's part counts.)
      expect(r.stderr).not.toContain('condor-job-wrapper');
      expect(existsSync(marker)).toBe(false);
      // Wrapper-built REQUIRED: the payload (retargeted to /srv) runs in the site's image.
      expectContained(rt, j.image, ['/srv/payload.sh', arg]);
    });

    it('a legitimate job line `/usr/bin/node --env-file=.env app.js` is carried through unchanged', () => {
      const rt = standin('apptainer');
      const j = job(rt, 'CJW_MODE=OPTIONAL', 'Owner = "condoruser"\nSingularityImage = "@IMAGE@"\n');
      writeFileSync(join(j.scratch, '.env'), 'GREETING=hi\n');
      const line = [rt.path, '-s', 'exec', '-W', j.scratch, '--pwd', j.scratch, '-B', j.scratch, '-C', j.image, process.execPath, '--env-file=.env', '-e', 'console.log(process.env.GREETING)'];
      const r = runWrapper(['--config', j.config, '--', ...line], { wrapper, env: j.env, cwd: j.scratch });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(rt.argv()).toEqual(line);
      expect(r.stdout).toBe('hi\n');
    });
  });

  describe('2. a job executable with a runtime\'s or sshd\'s name is the job\'s payload', () => {
    it.each(['sshd', 'apptainer', 'singularity', 'run-singularity'])('a transferred executable named %s runs inside the site container under REQUIRED', (name) => {
      const rt = standin('apptainer');
      const j = job(rt, 'CJW_MODE=REQUIRED');
      const exe = join(j.scratch, name);
      writeFileSync(exe, '#!/bin/sh\ntouch "$0.ran"\n', { mode: 0o755 });
      chownSync(exe, JOB_UID, JOB_UID);
      const args = name === 'sshd' ? ['-i'] : ['exec', '/any/image', '/bin/sh', '-c', 'id'];
      const r = runWrapper(['--config', j.config, '--', exe, ...args], { wrapper, env: j.env, cwd: j.scratch });
      expect(r.stderr).not.toContain('condor-job-wrapper');
      expectContained(rt, j.image, [`/srv/${name}`, ...args]);
      expect(existsSync(`${exe}.ran`)).toBe(false);
    });

    it('outside the scratch dir too: a job-owned file named sshd is not trusted', () => {
      const rt = standin('apptainer');
      const j = job(rt, 'CJW_MODE=REQUIRED');
      const elsewhere = tempDir('cjw-own-');
      const exe = join(elsewhere, 'sshd');
      writeFileSync(exe, '#!/bin/sh\ntouch "$0.ran"\n', { mode: 0o555 });
      chownSync(exe, JOB_UID, JOB_UID);
      const r = runWrapper(['--config', j.config, '--', exe, '-i'], { wrapper, env: j.env, cwd: j.scratch });
      expect(r.status).toBe(0);
      expectContained(rt, j.image, [exe, '-i']);
      expect(existsSync(`${exe}.ran`)).toBe(true); // by the stand-in, which runs the payload "inside"
    });

    it('the real sshd (root-owned, outside the job\'s dirs) still passes through untouched, without reading the config', () => {
      const sshd = standin('sshd');
      const j = job(standin('apptainer'), 'CJW_MODE=REQUIRED');
      writeFileSync(j.config, 'CJW_MODE=THIS IS BROKEN\n');
      const argv = [sshd.path, '-i', '-e', '-f', join(j.scratch, '.condor_ssh_to_job_1/sshd_config')];
      const r = runWrapper(['--config', j.config, '--', ...argv], { wrapper, env: j.env, cwd: j.scratch });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(sshd.argv()).toEqual(argv);
      expect(Object.fromEntries(sshd.env())).toEqual(j.env);
    });
  });

  describe('3. a runtime line must agree with the job ad to be the starter\'s', () => {
    it('a vanilla job whose executable is the site runtime, with -B /etc/ssl:/x: its line is the job\'s own and runs inside the site container', () => {
      const rt = standin('apptainer');
      const j = job(rt, 'CJW_MODE=REQUIRED\nCJW_BIND_DENY=/etc/ssl');
      const own = [rt.path, 'exec', '-B', '/etc/ssl:/x', j.image, '/bin/cat', '/x/openssl.cnf'];
      const r = runWrapper(['--config', j.config, '--explain', '--json', '--', ...own], { wrapper, env: j.env, cwd: j.scratch });
      expect(r.status).toBe(0);
      const plan = JSON.parse(r.stdout) as { dispatch: string; dispatchReason: string; argv: string[] };
      expect(plan.dispatch).toBe('wrapper-built');
      expect(plan.dispatchReason).toMatch(/job's own command.*names no image/);
      // The whole job line is the payload of the site's container: no -B /etc/ssl on the host side.
      const imageAt = plan.argv.indexOf(j.image);
      expect(plan.argv.slice(0, imageAt)).not.toContain('/etc/ssl:/x');
      expect(plan.argv.slice(imageAt + 1)).toEqual(own);
      // And really run: the stand-in "container" runs the job's line as its payload, so the last
      // call it recorded is the job's own line, made from inside.
      const run = runWrapper(['--config', j.config, '--', ...own], { wrapper, env: j.env, cwd: j.scratch });
      expect(run.stderr).not.toMatch(/node error|job error/);
      expect(rt.argv()).toEqual(own);
    });

    it('a line whose image is not the job ad\'s is the job\'s own', () => {
      const rt = standin('apptainer');
      const j = job(rt, 'CJW_MODE=REQUIRED', 'Owner = "condoruser"\nSingularityImage = "/cvmfs/other.sif"\n');
      const own = [rt.path, '-s', 'exec', '-W', j.scratch, '-B', '/etc/ssl:/x', j.image, '/bin/true'];
      const r = runWrapper(['--config', j.config, '--explain', '--json', '--', ...own], { wrapper, env: j.env, cwd: j.scratch });
      const plan = JSON.parse(r.stdout) as { dispatch: string; dispatchReason: string };
      expect(plan).toMatchObject({ dispatch: 'wrapper-built' });
      expect(plan.dispatchReason).toMatch(/is not the job ad's \(SingularityImage = "\/cvmfs\/other.sif"\)/);
    });

    it('a line without the job\'s scratch dir as -W (unknown at submit time) is the job\'s own', () => {
      const rt = standin('apptainer');
      const j = job(rt, 'CJW_MODE=REQUIRED', 'Owner = "condoruser"\nSingularityImage = "@IMAGE@"\n');
      const own = [rt.path, '-s', 'exec', '-W', '/tmp', '-B', '/etc/ssl:/x', j.image, '/bin/true'];
      const plan = JSON.parse(runWrapper(['--config', j.config, '--explain', '--json', '--', ...own], { wrapper, env: j.env, cwd: j.scratch }).stdout) as { dispatch: string; dispatchReason: string };
      expect(plan.dispatch).toBe('wrapper-built');
      expect(plan.dispatchReason).toMatch(/-W \(\/tmp\) is not the job's scratch dir/);
    });

    it('the starter\'s real line (image from the ad, -W scratch) is starter-built, also for a transferred copy', () => {
      const rt = standin('apptainer');
      const j = job(rt, 'CJW_MODE=REQUIRED', 'Owner = "condoruser"\nContainerImage = "/img/busybox-sandbox"\nWantContainer = true\n');
      mkdirSync(join(j.scratch, 'busybox-sandbox'));
      const line = [rt.path, '-s', 'exec', '-S', '/tmp', '-W', j.scratch, '--pwd', j.scratch, '-B', j.scratch, '-C', 'busybox-sandbox', '/bin/true'];
      const plan = JSON.parse(runWrapper(['--config', j.config, '--explain', '--json', '--', ...line], { wrapper, env: j.env, cwd: j.scratch }).stdout) as { dispatch: string; dispatchReason: string };
      expect(plan.dispatch).toBe('starter-built');
      expect(plan.dispatchReason).toMatch(/starter's container line.*ContainerImage = "\/img\/busybox-sandbox"/);
    });

    it('a site runtime with an unknown name (a site script) whose line agrees with the job ad is the starter\'s: not wrapped a second time', () => {
      const site = standin('site-container-run');
      writeFileSync(join(site.dir, 'version'), 'apptainer version 1.4.5\n');
      const j = job(standin('apptainer'), 'CJW_MODE=REQUIRED', 'Owner = "condoruser"\nSingularityImage = "@IMAGE@"\n');
      const line = [site.path, '-s', 'exec', '-W', j.scratch, '--pwd', j.scratch, '-B', j.scratch, '-C', j.image, '/bin/echo', 'inner'];
      const r = runWrapper(['--config', j.config, '--', ...line], { wrapper, env: j.env, cwd: j.scratch });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(site.argv()).toEqual(line);
      expect(r.stdout).toBe('inner\n');
      const plan = JSON.parse(runWrapper(['--config', j.config, '--explain', '--json', '--', ...line], { wrapper, env: j.env, cwd: j.scratch }).stdout) as { dispatch: string; dispatchReason: string };
      expect(plan.dispatchReason).toMatch(/whatever the runtime is called/);
    });
  });
});
