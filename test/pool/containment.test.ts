// Real pool, CJW_MODE=REQUIRED (issue 14): the REQUIRED bypasses, submitted as condoruser through
// the real starter. Each job is the exploit; each must run inside the site's container (or not
// at all), never on the host:
//  - a transferred executable named sshd / apptainer (HTCondor keeps the name);
//  - a job argument --env-file=evil.env with a transferred evil.env that loads the job's JavaScript
//    (and Node 22/24's --experimental-default-config-file with a node.config.json);
//  - a vanilla job whose executable is the site's own runtime, binding a denied host path.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, SANDBOX, SETUP_TIMEOUT_MS, SITE, describePool, keyValues, siteConfig, submitFile, type Job, type WaitResult } from './pool';

const FACTS = '#!/bin/sh\necho "contained=$(test -d /.singularity.d && echo yes || echo no)"\necho "args=$*"\n';

/** A vanilla job (no image: the starter does not containerize it) whose transferred executable is `name`. */
function namedExecutable(name: string, args: string, files: Readonly<Record<string, string>> = {}): Job {
  const inputs = Object.keys(files);
  return {
    submit: submitFile([`executable = ${name}`, `arguments = ${args}`, ...(inputs.length === 0 ? [] : [`transfer_input_files = ${inputs.join(', ')}`])]),
    files: { [name]: FACTS, ...files },
  };
}

describePool('pool: containment holds against the job (REQUIRED)', () => {
  const pool = new Pool('containment');
  const token = `evil-${String(process.pid)}-${String(Date.now())}`;
  const marker = join(SITE.drop, token);
  let sshd: Promise<WaitResult>;
  let apptainer: Promise<WaitResult>;
  let envFile: Promise<WaitResult>;
  let configFile: Promise<WaitResult>;
  let ownLine: Promise<WaitResult>;

  beforeAll(async () => {
    await pool.prepare();
    pool.start({ accessPoint: true, wrapperEnv: `${siteConfig()}CJW_MODE=REQUIRED\nCJW_DEFAULT_IMAGE=${SANDBOX}\nCJW_BIND_DENY=/etc/ssl,/etc/ssl/**\n` });
    const evil = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`;
    sshd = pool.launch('sshd', namedExecutable('sshd', '-i'));
    apptainer = pool.launch('apptainer', namedExecutable('apptainer', 'exec /img/busybox-sandbox /bin/id'));
    envFile = pool.launch('envfile', namedExecutable('run.sh', '--env-file=evil.env', { 'evil.env': 'NODE_OPTIONS="--require ./evil.js"\n', 'evil.js': evil }));
    configFile = pool.launch('configfile', namedExecutable('run.sh', '--experimental-default-config-file', { 'node.config.json': `${JSON.stringify({ nodeOptions: { require: ['./evil.js'] } })}\n`, 'evil.js': evil }));
    // The site's runtime as the job's own executable, binding a path the site denies.
    ownLine = pool.launch('ownline', submitFile(['executable = /usr/bin/apptainer', 'transfer_executable = false', 'arguments = "exec -B /etc/ssl:/x /img/busybox-sandbox /bin/ls /x"']));
  }, SETUP_TIMEOUT_MS);
  afterAll(() => { pool.finish(); }, 60_000);

  it.each([['sshd', () => sshd, '-i'], ['apptainer', () => apptainer, 'exec /img/busybox-sandbox /bin/id']] as const)('a transferred executable named %s runs inside the site container', async (_name, job, args) => {
    const r = await job();
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=0`);
      const kv = keyValues(pool.read(r.dir, 'out'));
      expect(kv.get('contained')).toBe('yes');
      expect(kv.get('args')).toBe(args);
    });
  }, 180_000);

  it.each([['--env-file=evil.env', () => envFile], ['--experimental-default-config-file', () => configFile]] as const)('a job argument %s runs none of the job\'s code in the wrapper; the payload runs contained', async (arg, job) => {
    const r = await job();
    pool.explain(r, () => {
      expect(r.lines).toContain(`job ${String(r.cluster)}.0 completed exit_code=0`);
      const kv = keyValues(pool.read(r.dir, 'out'));
      expect(kv.get('contained')).toBe('yes');
      expect(kv.get('args')).toBe(arg);
      expect(existsSync(marker)).toBe(false);
    });
  }, 180_000);

  it('a vanilla job running the site runtime itself with -B /etc/ssl:/x: its line is the job\'s payload inside the site container, and the host\'s /etc/ssl is not shown', async () => {
    const r = await ownLine;
    pool.explain(r, () => {
      // Inside the busybox image there is no apptainer: the job's own line cannot run, and its bind never happens.
      expect(r.lines.join('\n')).toMatch(/completed exit_code=(?!0\b)\d+/);
      expect(pool.read(r.dir, 'out')).not.toMatch(/openssl\.cnf|certs/);
      expect(pool.read(r.dir, 'err')).toMatch(/apptainer.*(not found|No such file)/);
    });
  }, 180_000);
});
