// Starter-built fallback through the bundle (SPEC S4): the starter's decision to containerize
// stands; only when its runtime is unusable does policy decide — PREFERRED/OPTIONAL run the
// payload on the host with one warning, REQUIRED stops with 69 and runs nothing.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBundle, installWrapper, observedArgv, runWrapper, tempDir } from './harness';

/** The real HTCondor 24.0.23 line (container-apptainer-srv), its runtime gone, re-pointed at a fresh scratch. */
function brokenRuntimeLine(payload: readonly string[]): { argv: string[]; scratch: string; base: string } {
  const base = tempDir('cjw-neg-');
  const scratch = join(base, 'execute', 'dir_24386');
  mkdirSync(scratch, { recursive: true });
  const o = observedArgv('container-apptainer-srv.wrapper.argv.nul');
  const old = o[8] ?? '';
  const imageAt = o.length - 4;
  const argv = [join(base, 'gone', 'apptainer'), ...o.slice(1, imageAt + 1).map((a) => a.split(old).join(scratch)), ...payload];
  return { argv, scratch, base };
}

describeBundle('starter-built with the runtime unusable, bundle on $label', ({ path: nodePath }) => {
  const wrapper = installWrapper(nodePath);

  it.each(['', 'CJW_MODE=PREFERRED', 'CJW_MODE=NEVER', 'CJW_VO_MODE=DISABLE_GWMS'])('%j: the payload runs on the host with one warning', (cfg) => {
    const exe = ['/srv//run.sh', 'a b', ''];
    const l = brokenRuntimeLine(exe);
    // A transferred executable: the starter wrote it as seen inside (/srv//run.sh); on the host it is in the scratch.
    writeFileSync(join(l.scratch, 'run.sh'), '#!/bin/sh\nprintf "[%s]" "$@"\n', { mode: 0o755 });
    const conf = join(l.base, 'wrapper.env');
    writeFileSync(conf, `${cfg}\n`);
    const r = runWrapper(['--config', conf, ...l.argv], { wrapper, env: { _CONDOR_SCRATCH_DIR: l.scratch, PATH: '/usr/bin:/bin' }, cwd: l.scratch });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[a b][]');
    expect(r.stderr.split('\n').filter((x) => x !== '')).toHaveLength(1);
    expect(r.stderr).toMatch(/^condor-job-wrapper: warning: container runtime \S+\/gone\/apptainer is missing or not executable; policy \w+ \(site CJW_MODE=\w+ and request CJW_VO_MODE=\w+\) allows running without a container, so the job runs uncontained\n$/);
  });

  it.each(['CJW_MODE=REQUIRED', 'CJW_MODE=REQUIRED_GWMS', 'CJW_VO_MODE=REQUIRED', 'CJW_MODE=REQUIRED\nCJW_VO_MODE=DISABLE'])('%j: exit 69, nothing runs', (cfg) => {
    const l = brokenRuntimeLine(['/bin/sh', '-c', 'touch payload-ran']);
    const conf = join(l.base, 'wrapper.env');
    writeFileSync(conf, `${cfg}\n`);
    const r = runWrapper(['--config', conf, ...l.argv], { wrapper, env: { _CONDOR_SCRATCH_DIR: l.scratch }, cwd: l.scratch });
    expect(r.status).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^condor-job-wrapper: node error: container runtime \S+\/gone\/apptainer: missing or not executable, and [^\n]+\n$/);
    expect(existsSync(join(l.scratch, 'payload-ran'))).toBe(false);
  });
});
