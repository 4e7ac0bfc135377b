// The demo: the bundled wrapper on a real starter line (HTCondor 24.0.23, recorded in
// test/fixtures/observed) in front of a stand-in runtime that prints what it received.
// Needs nothing but Node and the committed bundle: no npm install, no root, no HTCondor.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const wrapper = join(root, 'wrapper/condor-job-wrapper');
const work = mkdtempSync(join(tmpdir(), 'cjw-demo-'));
try {
  // The recorded line, moved onto this machine: its scratch dir and image become local ones.
  const recorded = readFileSync(join(root, 'test/fixtures/observed/container-apptainer-srv.wrapper.argv.nul'), 'utf8').replace(/\0$/, '').split('\0');
  const oldScratch = '/tmp/personal-condor-verify/execute/dir_24386';
  const scratch = join(work, 'execute/dir_24386');
  const image = join(work, 'images/osgvo-el9');
  mkdirSync(scratch, { recursive: true });
  mkdirSync(image, { recursive: true });
  const runtimeDir = join(work, 'bin');
  mkdirSync(runtimeDir);
  const runtime = join(runtimeDir, 'apptainer');
  copyFileSync(join(root, 'test/fixtures/bin/standin-runtime'), runtime);
  chmodSync(runtime, 0o755);
  writeFileSync(join(runtimeDir, 'print'), '');
  const line = recorded.map((a, i) => (i === 0 ? runtime : a.startsWith('/cvmfs/') ? image : a.split(oldScratch).join(scratch)));

  const env = {
    _CONDOR_SCRATCH_DIR: scratch,
    _CONDOR_JOB_IWD: scratch,
    _CONDOR_WRAPPER_ERROR_FILE: join(scratch, '.job_wrapper_failure'),
    _CONDOR_SLOT: 'slot1_1',
    TMPDIR: scratch,
    APPTAINERENV__CONDOR_SCRATCH_DIR: '/srv',
    APPTAINERENV_TMPDIR: '/srv',
    PYTHONPATH: '/home/someone/python',
    APPTAINER_BINDPATH: '/etc',
  };
  const config = join(root, 'test/fixtures/demo/wrapper.env');
  const show = (title, argv) => {
    console.log(`\n== ${title}`);
    for (const a of argv) console.log(`  ${JSON.stringify(a)}`);
  };
  show('The starter hands the wrapper this line (recorded from HTCondor 24.0.23):', line);
  console.log(`\n== The site config (${config}):\n${readFileSync(config, 'utf8').replace(/^#.*\n/gm, '').trim().replace(/^/gm, '  ')}`);
  console.log('\n== condor-job-wrapper --explain says what it will do and why:');
  const explain = spawnSync(wrapper, ['--explain', '--config', config, '--', ...line], { env, encoding: 'utf8' });
  process.stdout.write(explain.stdout.replace(/^/gm, '  '));
  if (explain.status !== 0) {
    process.stderr.write(explain.stderr);
    process.exit(explain.status ?? 1);
  }
  console.log('\n== Running it for real: the stand-in runtime prints what it received, then runs the payload:');
  const run = spawnSync(wrapper, ['--config', config, ...line], { env, encoding: 'utf8' });
  process.stdout.write(run.stderr.replace(/^/gm, '  '));
  console.log(`\n== The payload's output:\n${run.stdout.replace(/^/gm, '  ')}`);
  console.log(`exit status: ${run.status}`);
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
