// --explain through the bundle (SPEC S9): it prints the decision and runs nothing — no hook, no
// runtime (not even --version), no payload, no launcher written, no stale error file removed —
// and its --json output has the documented shape (docs/policy.md#the---json-shape).

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES } from '../../src/decide/rules/index';
import { describeBundle, installWrapper, observedArgv, ROOT, runWrapper, type Standin, standin, tempDir } from './harness';

interface Site {
  readonly base: string;
  readonly scratch: string;
  readonly image: string;
  readonly config: string;
  readonly markers: readonly string[];
  readonly env: Record<string, string>;
}

/** A node with one hook of each stage (each leaves a marker when run) and a job's scratch dir. */
function site(config: string): Site {
  const base = tempDir('cjw-explain-');
  const scratch = join(base, 'execute', 'dir_24386');
  mkdirSync(scratch, { recursive: true });
  const markers: string[] = [];
  const dirs: string[] = [];
  for (const stage of ['setup', 'test', 'inside']) {
    const dir = join(base, 'hooks', stage);
    mkdirSync(dir, { recursive: true });
    const marker = join(base, `${stage}-hook-ran`);
    writeFileSync(join(dir, '10-mark'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    markers.push(marker);
    dirs.push(`CJW_${stage.toUpperCase()}_DIR=${dir}`);
  }
  const image = join(base, 'el9.sif');
  writeFileSync(image, 'image');
  const cfg = join(base, 'wrapper.env');
  writeFileSync(cfg, `${dirs.join('\n')}\nCJW_NESTED=no\nCJW_DEFAULT_IMAGE=${image}\n${config}\n`);
  const errorFile = join(scratch, '.job_wrapper_failure');
  writeFileSync(errorFile, 'stale');
  const env = { _CONDOR_SCRATCH_DIR: scratch, _CONDOR_WRAPPER_ERROR_FILE: errorFile, PATH: '/usr/bin:/bin', LD_PRELOAD: '' };
  return { base, scratch, image, config: cfg, markers, env };
}

/** The observed HTCondor 24.0.23 line, re-pointed at this test's runtime, scratch and image. */
function starterLine(rt: Standin, s: Site, payload: readonly string[]): string[] {
  const o = observedArgv('container-apptainer-srv.wrapper.argv.nul');
  const oldScratch = o[8] ?? '';
  const imageAt = o.length - 4;
  return [rt.path, ...o.slice(1, imageAt).map((a) => a.split(oldScratch).join(s.scratch)), s.image, ...payload];
}

/** Nothing ran: no runtime call (not even --version), no hook, no payload, nothing written. */
function expectNothingRan(rt: Standin, s: Site, payloadMarker: string): void {
  expect(readdirSync(rt.dir).sort()).toEqual(['apptainer']);
  for (const m of s.markers) expect(existsSync(m)).toBe(false);
  expect(existsSync(payloadMarker)).toBe(false);
  expect(readdirSync(s.scratch)).toEqual(['.job_wrapper_failure']); // not removed, no launcher dir
}

const TOP_KEYS = ['argv', 'binds', 'changes', 'contained', 'dispatch', 'dispatchReason', 'envDiff', 'explain', 'hooks', 'negotiation', 'outcome', 'runtime', 'scratch', 'unknown', 'warnings'];

/** The documented shape, checked field by field (types, not values). */
function expectShape(j: Record<string, unknown>): void {
  expect(Object.keys(j).sort()).toEqual(TOP_KEYS);
  expect(j.explain).toBe(1);
  expect(['starter-built', 'wrapper-built', 'passthrough']).toContain(j.dispatch);
  expect(typeof j.contained).toBe('boolean');
  const o = j.outcome as Record<string, unknown>;
  expect(['exec-runtime', 'exec-payload', 'exec-passthrough', 'error']).toContain(o.kind);
  if (o.kind === 'error') expect(Object.keys(o).sort()).toEqual(['errorClass', 'errorId', 'exitCode', 'kind', 'line', 'rule']);
  else expect(Object.keys(o)).toEqual(['kind']);
  if (j.runtime !== null) expect(Object.keys(j.runtime as object).sort()).toEqual(['family', 'path', 'source', 'usable', 'version']);
  if (j.scratch !== null) expect(Object.keys(j.scratch as object).sort()).toEqual(['assumed', 'path']);
  if (j.negotiation !== null) expect(Object.keys(j.negotiation as object).sort()).toEqual(['consulted', 'effective', 'reason', 'request', 'site', 'siteOrigin', 'vo', 'voOrigin']);
  for (const a of j.argv as unknown[]) expect(typeof a).toBe('string');
  for (const e of j.envDiff as Record<string, unknown>[]) {
    expect(typeof e.key).toBe('string');
    expect(Object.keys(e).every((k) => ['key', 'before', 'after'].includes(k))).toBe(true);
  }
  for (const b of j.binds as object[]) expect(Object.keys(b).sort()).toEqual(['dst', 'opts', 'origin', 'src']);
  for (const h of j.hooks as object[]) expect(Object.keys(h).sort()).toEqual(['path', 'stage']);
  for (const c of j.changes as object[]) expect(Object.keys(c).sort()).toEqual(['reason', 'rule', 'what']);
  for (const w of j.warnings as unknown[]) expect(typeof w).toBe('string');
}

describeBundle('--explain, bundle on $label', ({ path: nodePath }) => {
  const wrapper = installWrapper(nodePath);

  it('control: without --explain the same line does run the runtime and the hooks', () => {
    const rt = standin('apptainer');
    const s = site('');
    // (The stand-in then runs the inside launcher on the host, where /srv does not exist: only
    // that the runtime and the setup hook ran matters here.)
    runWrapper(['--config', s.config, ...starterLine(rt, s, ['/bin/true'])], { wrapper, env: s.env, cwd: s.scratch });
    expect(rt.argv()[0]).toBe(rt.path);
    expect(existsSync(s.markers[0] ?? '')).toBe(true); // the setup hook ran
  });

  it('starter-built: prints the plan, one argv element per line, and runs nothing', () => {
    const rt = standin('apptainer');
    const s = site('');
    const marker = join(s.base, 'payload-ran');
    const line = starterLine(rt, s, ['/bin/sh', '-c', `touch ${marker}`]);
    const r = runWrapper(['--explain', '--config', s.config, '--', ...line], { wrapper, env: s.env, cwd: s.scratch });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^condor-job-wrapper --explain: nothing was run\nmode: starter-built /);
    expect(r.stdout).toContain('hooks that would run:\n');
    for (const stage of ['setup', 'test', 'inside']) expect(r.stdout).toContain(`  ${stage}: ${join(s.base, 'hooks', stage, '10-mark')}\n`);
    // The argv block: "[i] JSON" per element, exactly the --json argv.
    const block = r.stdout.split('\nfinal argv:\n')[1]?.split('\n\n')[0] ?? '';
    const j = JSON.parse(runWrapper(['--explain', '--json', '--config', s.config, '--', ...line], { wrapper, env: s.env, cwd: s.scratch }).stdout) as { argv: string[] };
    expect(block.split('\n')).toEqual(j.argv.map((a, i) => `  [${i}] ${JSON.stringify(a)}`));
    expect(j.argv[0]).toBe(rt.path);
    expect(j.argv.slice(-3)).toEqual(['/bin/sh', '-c', `touch ${marker}`]);
    expectNothingRan(rt, s, marker);
  });

  it('wrapper-built: --json has the documented shape and says what was built and why', () => {
    const rt = standin('apptainer');
    const s = site(`CJW_MODE=REQUIRED\nCJW_RUNTIME=${rt.path}`);
    const marker = join(s.base, 'payload-ran');
    const r = runWrapper(['--explain', '--json', '--config', s.config, '/bin/sh', '-c', `touch ${marker}`], { wrapper, env: s.env, cwd: s.scratch });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expectShape(j);
    expect(j.dispatch).toBe('wrapper-built');
    expect(j.outcome).toEqual({ kind: 'exec-runtime' });
    expect(j.contained).toBe(true);
    expect(j.runtime).toEqual({ path: rt.path, usable: true, family: 'apptainer', version: null, source: 'basename' });
    expect(j.scratch).toEqual({ path: s.scratch, assumed: null });
    expect(j.negotiation).toEqual({
      consulted: true, site: 'REQUIRED', siteOrigin: s.config, vo: 'OPTIONAL', voOrigin: 'default', request: 'OPTIONAL', effective: 'REQUIRED',
      reason: 'site REQUIRED x request OPTIONAL -> REQUIRED: the job runs only in a container, whatever fails',
    });
    const argv = j.argv as string[];
    expect(argv.slice(0, 16)).toEqual([rt.path, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', s.scratch, '--pwd', '/srv', '-B', `${s.scratch}:/srv`, '--home', `${s.scratch}:/srv`, '-C']);
    expect(argv.slice(-3)).toEqual(['/bin/sh', '-c', `touch ${marker}`]);
    const changes = j.changes as { rule: string; what: string; reason: string }[];
    expect(changes.filter((c) => c.rule === 'wrapperBuilt').map((c) => c.what)).toContain(`image ${s.image}`);
    expect((j.envDiff as { key: string }[]).map((e) => e.key)).toContain('APPTAINERENV__CONDOR_SCRATCH_DIR');
    expect((j.hooks as { stage: string }[]).map((h) => h.stage)).toEqual(['setup', 'test', 'inside']);
    expectNothingRan(rt, s, marker);
  });

  it('a decision that stops the job is explained (exit 0), with the error it would raise', () => {
    const rt = standin('apptainer');
    const s = site(`CJW_MODE=REQUIRED_GWMS\nCJW_VO_MODE=DISABLE_GWMS\nCJW_RUNTIME=${rt.path}`);
    const marker = join(s.base, 'payload-ran');
    const r = runWrapper(['--explain', '--json', '--config', s.config, '/bin/sh', '-c', `touch ${marker}`], { wrapper, env: s.env, cwd: s.scratch });
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expectShape(j);
    expect(j.outcome).toEqual({
      kind: 'error', exitCode: 69, errorId: 'negotiation.fail', errorClass: 'node', rule: 'negotiate',
      line: 'condor-job-wrapper: node error: container policy: site CJW_MODE=REQUIRED and request CJW_VO_MODE=DISABLE cannot both hold (negotiation table: FAIL)',
    });
    expect((j.negotiation as { effective: string }).effective).toBe('FAIL');
    const text = runWrapper(['--explain', '--config', s.config, '/bin/true'], { wrapper, env: s.env, cwd: s.scratch }).stdout;
    expect(text).toContain('outcome: the job would stop: exit 69 (node error, rule negotiate)\n  condor-job-wrapper: node error: container policy: ');
    expectNothingRan(rt, s, marker);
  });

  it('--job-ad: the image the job asks for is chosen and the request raised, and said so', () => {
    const rt = standin('apptainer');
    const s = site(`CJW_RUNTIME=${rt.path}`);
    const ad = join(s.base, 'job.ad');
    writeFileSync(ad, `Owner = "u"\nSingularityImage = "${s.image}"\n`);
    const r = runWrapper(['--explain', '--json', '--job-ad', ad, '--config', s.config, '/bin/true'], { wrapper, env: s.env, cwd: s.scratch });
    const j = JSON.parse(r.stdout) as { negotiation: { request: string; effective: string; reason: string }; changes: { what: string; reason: string }[] };
    expect(j.negotiation.request).toBe('PREFERRED');
    expect(j.negotiation.effective).toBe('PREFERRED');
    expect(j.negotiation.reason).toMatch(/^request OPTIONAL raised to PREFERRED because the job ad names an image; /);
    expect(j.changes).toContainEqual({ rule: 'wrapperBuilt', what: `image ${s.image}`, reason: "from the job's SingularityImage" });
  });

  it('PREFERRED with the runtime missing: the fallback and its warning are shown', () => {
    const s = site('CJW_MODE=PREFERRED\nCJW_RUNTIME=/nonexistent/apptainer');
    const r = runWrapper(['--explain', '--json', '--config', s.config, '/bin/true'], { wrapper, env: s.env, cwd: s.scratch });
    const j = JSON.parse(r.stdout) as { outcome: unknown; contained: boolean; argv: string[]; warnings: string[] };
    expect(j.outcome).toEqual({ kind: 'exec-payload' });
    expect(j.contained).toBe(false);
    expect(j.argv).toEqual(['/bin/true']);
    expect(j.warnings).toHaveLength(1);
  });

  it('no starter around: the scratch dir is assumed to be the current directory, and says so', () => {
    const rt = standin('apptainer');
    const s = site(`CJW_MODE=REQUIRED\nCJW_RUNTIME=${rt.path}`);
    const r = runWrapper(['--explain', '--json', '--config', s.config, '/bin/true'], { wrapper, env: {}, cwd: s.scratch });
    const j = JSON.parse(r.stdout) as { scratch: { path: string; assumed: string | null }; warnings: string[] };
    expect(j.scratch.path).toBe(s.scratch);
    expect(j.scratch.assumed).toContain('--explain assumed the current directory');
    expect(j.warnings).toContain(j.scratch.assumed);
  });

  // Issue 16, item 11: a line copied from a StarterLog, run with the starter's environment on a
  // node where the job's slot dir and ads are gone, failed with "job ad …: cannot read it: ENOENT"
  // (rc 65). It explains what it can, says what it could not know, and exits 0.
  it('a StarterLog line with the starter\'s environment, the job gone: explained, exit 0, the unknowns said', () => {
    const rt = standin('apptainer');
    const s = site('');
    const gone = join(s.base, 'execute', 'dir_19537');
    const line = [rt.path, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', `${gone}/scratch`, '--pwd', '/srv/scratch', '-B', `${gone}:/srv`, '--home', `${gone}/scratch`, '-C', s.image, '/srv//scratch/job.sh'];
    const env = { _CONDOR_SCRATCH_DIR: `${gone}/scratch`, _CONDOR_JOB_AD: `${gone}/scratch/.job.ad`, _CONDOR_MACHINE_AD: `${gone}/scratch/.machine.ad`, PATH: '/usr/bin:/bin' };
    const r = runWrapper(['--explain', '--json', '--config', s.config, '--', ...line], { wrapper, env, cwd: '/tmp' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { outcome: { kind: string }; unknown: string[]; argv: string[]; hooks: { stage: string }[] };
    expectShape(j);
    expect(j.outcome.kind).toBe('exec-runtime');
    expect(j.unknown).toEqual([
      `job ad ${gone}/scratch/.job.ad: cannot read it: ENOENT; not known: which -B the job requested (SingularityBind; every -B is taken as the site's), the job's image (ContainerImage, SingularityImage) and request`,
      `machine ad ${gone}/scratch/.machine.ad: cannot read it: ENOENT; not known: the GPUs assigned to the slot (AssignedGPUs)`,
      `the scratch dir ${gone}/scratch is not a directory on this node (the job is gone?): what is in it (a transferred image, the ads) could not be looked at`,
    ]);
    // The inside launcher goes where the line's slot-dir bind carries the scratch dir.
    expect(j.argv).toContain('/srv/scratch/.condor-job-wrapper/launcher.sh');
    expect(j.hooks.map((h) => h.stage)).toEqual(['setup', 'test', 'inside']);
    expectNothingRan(rt, s, join(s.base, 'never'));
    const text = runWrapper(['--explain', '--config', s.config, '--', ...line], { wrapper, env, cwd: '/tmp' });
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`could not know (the decision above is made without it):\n  job ad ${gone}/scratch/.job.ad: cannot read it: ENOENT`);
  });

  // Issue 16, item 11: a minimal line run from /tmp on a site with inside hooks gave a false node
  // error (78, "scratch dir not bound"): the scratch dir was only assumed.
  it('a minimal `-s exec -C IMAGE /bin/true` from /tmp with inside hooks: no false node error', () => {
    const rt = standin('apptainer');
    const s = site('');
    const cwd = tempDir('cjw-explain-cwd-');
    const r = runWrapper(['--explain', '--json', '--config', s.config, '--', rt.path, '-s', 'exec', '-C', s.image, '/bin/true'], { wrapper, env: { PATH: '/usr/bin:/bin' }, cwd });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { outcome: { kind: string }; unknown: string[]; warnings: string[]; argv: string[] };
    expect(j.outcome.kind).toBe('exec-runtime');
    expect(j.argv).toEqual([rt.path, '-s', 'exec', '-C', s.image, '/bin/true']);
    expect(j.unknown).toContain(`no _CONDOR_SCRATCH_DIR and no -W on the line: --explain assumed the current directory ${cwd} is the scratch dir`);
    expect(j.warnings).toEqual([`--explain could not place the inside launcher: no bind on the line carries the assumed scratch dir ${cwd}`]);
  });

  it('passthrough (sshd): explained, nothing read or changed', () => {
    // A root-owned sshd outside the job's directories: what condor_ssh_to_job runs.
    const sshd = standin('sshd').path;
    const r = runWrapper(['--explain', '--json', '--', sshd, '-i'], { wrapper });
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expectShape(j);
    expect(j).toMatchObject({ dispatch: 'passthrough', outcome: { kind: 'exec-passthrough' }, negotiation: null, runtime: null, argv: [sshd, '-i'], changes: [], envDiff: [] });
    expect(j.dispatchReason).toMatch(/is the sshd of condor_ssh_to_job \(.*root-owned/);
  });
});

describe('docs/policy.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/policy.md'), 'utf8');
  it('the pipeline table lists RULES in order', () => {
    const rows = [...doc.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => m[2]);
    expect(rows).toEqual(RULES.map((r) => r.name));
  });
  it('documents every top-level --json key', () => {
    for (const k of TOP_KEYS) expect(doc).toContain(`| \`${k}\` |`);
  });
});

