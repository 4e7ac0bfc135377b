// The demo on the real thing (issue 15 item 5): one real container job through the bundled
// wrapper in a real HTCondor pool with a real Apptainer (the Debian root of ../shared/pool, run
// through bubblewrap). Root only; installs the root when it is missing (~90 s), starts a
// personal pool whose USER_JOB_WRAPPER is a small recording shim in front of the wrapper,
// submits one job as the unprivileged condoruser, prints the starter's line as the wrapper got
// it, the wrapper's own --explain of it (decision, reasons, the line after), the job's output,
// and stops the pool. `npm run demo` is the set-up-free one (a recorded line, a stand-in runtime).
//
//   node scripts/demo-pool.mjs [--suite sid|trixie]      (npm run demo:pool)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '../shared/pool');
const i = process.argv.indexOf('--suite');
const suite = i > 0 ? process.argv[i + 1] : 'sid';
if (suite !== 'sid' && suite !== 'trixie') fail('--suite sid or trixie');
const poolRoot = `/srv/cjw-pool-${suite}`;
const poolSh = join(shared, 'pool.sh');
// Under /tmp: the same path inside the root, so the pool sees the wrapper, the shim and the records.
const work = '/tmp/cjw-demo-pool';
const state = join(work, 'state');
const rec = join(work, 'rec');

function fail(msg) {
  console.error(`demo:pool: ${msg}`);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 900_000, ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  return r;
}
function must(cmd, args, what) {
  const r = run(cmd, args);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
const pool = (...args) => run(poolSh, ['--root', poolRoot, '--state', state, ...args]);
const heading = (t) => console.log(`\n== ${t}`);
const indent = (t) => t.replace(/\n$/, '').replace(/^/gm, '  ');

if (process.getuid?.() !== 0) fail('run as root (the pool runs its jobs as the unprivileged condoruser)');
if (!existsSync(poolSh)) fail(`${poolSh} is missing (../shared/pool beside the checkout)`);
const bundle = join(root, 'wrapper/condor-job-wrapper');
if (!existsSync(bundle)) fail(`${bundle} is missing: npm run build`);

if (!existsSync(join(poolRoot, 'usr/sbin/condor_master')) || !existsSync(join(poolRoot, 'img/busybox.sif'))) {
  heading(`Installing the ${suite} root into ${poolRoot} (Debian's condor, apptainer, nodejs; about 90 s)`);
  must('bash', [join(shared, 'install.sh'), '--suite', suite], 'install.sh');
}
const version = (cmd) => pool('run', ...cmd).stdout.trim().split('\n')[0];

rmSync(work, { recursive: true, force: true });
mkdirSync(rec, { recursive: true });
chmodSync(work, 0o755);
chmodSync(rec, 0o1777);
// The wrapper as a site installs it: the bundle with its Node path set (the root's own Node).
const wrapper = join(work, 'condor-job-wrapper');
writeFileSync(wrapper, readFileSync(bundle, 'utf8').replace(/^cjw_node=.*$/m, 'cjw_node=/usr/bin/node'), { mode: 0o755 });
const config = join(work, 'wrapper.env');
writeFileSync(config, ['CJW_MODE=REQUIRED', 'CJW_IMAGE_ALLOW=/img/*', 'CJW_ENV_SET=SITE_NAME=demo-site', 'CJW_ENV_DROP=LD_PRELOAD,LD_LIBRARY_PATH,PYTHONPATH', ''].join('\n'), { mode: 0o644 });
// The recording shim: the line exactly as the starter hands it over, the wrapper's explanation of
// it (explain runs nothing), then the wrapper itself, which execs the runtime.
const shim = join(work, 'shim');
writeFileSync(
  shim,
  [
    '#!/bin/sh',
    `printf '%s\\0' "$@" > ${rec}/starter.argv.nul`,
    `${wrapper} --explain --config ${config} -- "$@" > ${rec}/explain.txt 2>&1`,
    `exec ${wrapper} --config ${config} "$@"`,
    '',
  ].join('\n'),
  { mode: 0o755 },
);

let started = false;
try {
  heading(`Starting a personal HTCondor pool (${poolRoot}) with USER_JOB_WRAPPER = ${shim}`);
  const conf = join(root, 'condor-config/worker-node.conf');
  const s = pool('start', '--wrapper', shim, '--config', conf, '--set', `USER_JOB_WRAPPER = ${shim}`, '--slots', '1');
  started = true;
  if (s.status !== 0) fail(`pool.sh start failed:\n${s.stderr}`);
  console.log(indent(`${version(['condor_version'])}\n${version(['apptainer', '--version'])}, wrapper on the root's Node ${version(['node', '--version'])}\nsite config: condor-config/worker-node.conf (SINGULARITY_TARGET_DIR = /srv) and ${config}`));

  const dir = pool('jobdir', 'demo').stdout.trim();
  const payload = [
    'echo "hello from the payload: uid=$(id -u) pwd=$(pwd)"',
    'echo "contained: $(test -d /.singularity.d && echo yes || echo no), image: ${APPTAINER_NAME:-?}"',
    'echo "SITE_NAME=${SITE_NAME:-unset} (set by the wrapper from CJW_ENV_SET)"',
    'exit 0',
    '',
  ].join('\n');
  const submit = [
    'universe = container',
    'container_image = /img/busybox.sif',
    'transfer_container = false',
    'executable = /bin/sh',
    'transfer_executable = false',
    'arguments = payload.sh',
    'transfer_input_files = payload.sh',
    'should_transfer_files = YES',
    'output = out',
    'error = err',
    'log = log',
    'queue',
    '',
  ].join('\n');
  for (const [name, text] of [['job.sub', submit], ['payload.sh', payload]]) {
    writeFileSync(join(dir, name), text, { mode: 0o644 });
    must('chown', ['4242:4242', join(dir, name)], 'chown');
  }
  heading(`Submitting one container job as condoruser (${join(dir, 'job.sub')}):`);
  console.log(indent(submit.replace(/\n+$/, '')));
  const t0 = Date.now();
  const w = pool('submit-wait', join(dir, 'job.sub'), '120');
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);

  const argvFile = join(rec, 'starter.argv.nul');
  heading("The starter's line, as the wrapper received it:");
  if (existsSync(argvFile)) console.log(readFileSync(argvFile, 'utf8').replace(/\0$/, '').split('\0').map((a) => `  ${JSON.stringify(a)}`).join('\n'));
  else console.log('  (none recorded: the wrapper never ran)');
  heading('The decision and the line after (condor-job-wrapper --explain on that line, in the job\'s environment):');
  const explain = join(rec, 'explain.txt');
  console.log(existsSync(explain) ? indent(readFileSync(explain, 'utf8')) : '  (none recorded)');
  heading(`The job (submit to completion ${seconds} s):`);
  console.log(indent(w.stdout || w.stderr));
  const read = (f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  console.log(`  stdout:\n${indent(read('out')) || '  (empty)'}`);
  if (read('err') !== '') console.log(`  stderr:\n${indent(read('err'))}`);
  if (w.status !== 0 || !/completed exit_code=0$/m.test(w.stdout)) {
    console.log(indent(pool('logs', '20').stderr));
    process.exitCode = 1;
  }
} finally {
  if (started) {
    heading('Stopping the pool');
    console.log(indent(pool('stop').stderr));
  }
}
