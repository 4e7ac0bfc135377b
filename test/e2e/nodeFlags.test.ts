// The V8 flags the front starts Node with (scripts/front.sh, src/act/nodeFlags.ts): taken only from
// a hard link to the very Node binary the front runs; none for a Node replaced since; a Node that
// refuses them is a node error that names the fix. Each test uses its own stand-in "node" (a
// script that execs the real one), so the links here never reach another suite's Node.

import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeAsRoot, installWrapper, runWrapper, standin, tempDir } from './harness';

const FLAGS_DIR = '/var/cache/condor-job-wrapper/node';
const IMG = tempDir('cjw-img-');

describeAsRoot('V8 flags chosen by --check', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const f of made) rmSync(f, { force: true });
  });

  /** A "node" of its own: a script that runs the real one with what the front gave it. */
  function node(refuse?: string): { path: string; wrapper: string; args: () => string[] } {
    const dir = tempDir('cjw-fakenode-');
    const path = join(dir, 'node');
    const log = join(dir, 'args');
    const refusal = refuse === undefined ? '' : `for a; do [ "$a" = ${refuse} ] && { echo "$0: bad option: ${refuse}" >&2; exit 9; }; done\n`;
    writeFileSync(path, `#!/bin/sh\n${refusal}printf '%s\\n' "$@" > ${log}\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
    return { path, wrapper: installWrapper(path), args: () => readFileSync(log, 'utf8').split('\n').slice(0, -1) };
  }

  function link(set: string, target: string): string {
    mkdirSync(FLAGS_DIR, { recursive: true, mode: 0o755 });
    const l = join(FLAGS_DIR, `${set}.e2e${String(process.pid)}${String(made.length)}`);
    linkSync(target, l);
    made.push(l);
    return l;
  }

  const sameFs = (): boolean => statSync(tempDir()).dev === statSync('/var/cache').dev;

  it('no link for this Node: no flags', () => {
    const n = node();
    expect(runWrapper(['--version'], { wrapper: n.wrapper }).stdout).toContain('; V8 flags: none\n');
    expect(n.args()[0]).toBe(n.wrapper);
  });

  it('a hard link to this Node: its flags, and a job runs as before', () => {
    if (!sameFs()) return; // /tmp and /var on different filesystems: no hard link can be made here
    const n = node();
    link('jitless-no-wasm', n.path);
    const v = runWrapper(['--version'], { wrapper: n.wrapper });
    expect(v.stdout).toContain('; V8 flags: --jitless --no-expose-wasm\n');
    expect(v.stderr).toBe('');
    expect(n.args().slice(0, 3)).toEqual(['--jitless', '--no-expose-wasm', n.wrapper]);
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', '-C', IMG, '/bin/echo', 'a b'], { wrapper: n.wrapper });
    expect({ status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({ status: 0, stderr: '', stdout: 'a b\n' });
  });

  it('the Node replaced since (a new file at its path): the old link no longer counts', () => {
    if (!sameFs()) return;
    const n = node();
    link('jitless', n.path);
    expect(runWrapper(['--version'], { wrapper: n.wrapper }).stdout).toContain('; V8 flags: --jitless\n');
    const fresh = `${n.path}.new`;
    writeFileSync(fresh, readFileSync(n.path), { mode: 0o755 });
    renameSync(fresh, n.path);
    expect(runWrapper(['--version'], { wrapper: n.wrapper }).stdout).toContain('; V8 flags: none\n');
  });

  it('a Node that refuses them (overwritten in place by one without the flag): node error 69, naming the fix', () => {
    if (!sameFs()) return;
    const n = node('--no-expose-wasm');
    link('jitless-no-wasm', n.path);
    const scratch = tempDir();
    const errFile = join(scratch, '.job_wrapper_failure');
    const rt = standin('apptainer');
    const r = runWrapper([rt.path, 'exec', '-C', IMG, '/bin/true'], { wrapper: n.wrapper, env: { _CONDOR_WRAPPER_ERROR_FILE: errFile } });
    expect(r.status).toBe(69);
    const line = `condor-job-wrapper: node error: the wrapper's Node process (${n.path}) refused the V8 flags --jitless --no-expose-wasm that --check chose for it (Node overwritten in place since?); the job was not started: run condor-job-wrapper --check as root`;
    expect(r.stderr).toBe(`${n.path}: bad option: --no-expose-wasm\n${line}\n`);
    expect(readFileSync(errFile, 'utf8')).toBe(`${line}\n`);
    expect(existsSync(join(rt.dir, 'argv.nul'))).toBe(false);
  });
});
