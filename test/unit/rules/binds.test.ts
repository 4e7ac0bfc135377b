// Table tests for the binds rule (SPEC S5.2): site binds (optional and required), job binds held
// to CJW_BIND_ALLOW / CJW_BIND_DENY by realpath, one bind per destination, the scratch bind and
// the launcher dirs never covered, --mount for "," and ":", and hostile paths (.., symlinks out
// of allowed trees, newlines, 100 KB).

import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { applyBinds, bindSpec, hasMountFlag, mountSpec } from '../../../src/decide/rules/binds';
import { parseClassAd } from '../../../src/facts/classad';
import { parseConfig } from '../../../src/facts/config/load';
import { probePaths } from '../../../src/facts/paths';
import type { Facts, HookContribution, PathFact } from '../../../src/facts/types';
import type { FamilyId } from '../../../src/invocation/flagTable';
import { tableFor } from '../../../src/invocation/families/index';
import { render } from '../../../src/invocation/model';
import { parseInvocation } from '../../../src/invocation/parse';
import { thrown } from './thrown';

const S = '/x/dir_1';

interface Opts {
  cfg?: string;
  /** SingularityBind as ClassAd source text, e.g. "\"/a,/b\"" or "{ \"/a\" }". */
  bind?: string;
  paths?: Record<string, PathFact['kind'] | [PathFact['kind'], string]>;
  family?: FamilyId;
  version?: string;
  contributions?: HookContribution[];
  realPaths?: ReadonlyMap<string, PathFact>;
}

function facts(o: Opts): Facts {
  const paths = new Map<string, PathFact>(o.realPaths ?? []);
  for (const [p, v] of Object.entries(o.paths ?? {})) {
    const [kind, real] = Array.isArray(v) ? v : [v, p];
    paths.set(p, kind === 'missing' ? { path: p, kind } : { path: p, kind, real });
  }
  return {
    env: new Map([['_CONDOR_SCRATCH_DIR', S]]),
    config: parseConfig(o.cfg === undefined ? [] : [{ path: '/etc/condor-job-wrapper/wrapper.env', text: o.cfg }]),
    cwd: S,
    runtime: { path: '/s', usable: true, family: o.family ?? 'singularity3', source: 'cache', ...(o.version === undefined ? { version: '3.4.2' } : { version: o.version }) },
    ...(o.bind === undefined ? {} : { jobAd: parseClassAd(`SingularityBind = ${o.bind}\n`, `${S}/.job.ad`) }),
    paths,
    hooks: [],
    contributions: o.contributions ?? [],
  };
}

/** HTCondor 24's line: the scratch at /srv, a site bind, then what the job asked for. */
function line(jobBinds: string[] = [], family: FamilyId = 'singularity3'): string[] {
  const rt = family === 'apptainer' ? '/usr/bin/apptainer' : '/opt/singularity-3.4.2/bin/singularity';
  return [rt, '-s', 'exec', '-W', S, '--pwd', '/srv', '-B', `${S}:/srv`, '-B', '/etc/hosts:/etc/hosts:ro', ...jobBinds.flatMap((b) => ['-B', b]), '--home', S, '-C', '/img', '/bin/true'];
}

function run(argv: string[], f: Facts, dispatch: 'starter-built' | 'wrapper-built' = 'starter-built'): Draft {
  const family = f.runtime?.family ?? 'singularity3';
  const invocation = parseInvocation(argv, tableFor(family));
  return applyBinds({ ...initialDraft({ dispatch, invocation, command: argv }, f), invocation }, f);
}

const argvOf = (d: Draft): string[] => (d.invocation === undefined ? [] : render(d.invocation));
const reasons = (d: Draft): string[] => d.changes.map((c) => `${c.what} | ${c.reason}`);

describe('how binds are written', () => {
  it.each([
    ['/a', '/a', '', '/a'],
    ['/a', '/b', '', '/a:/b'],
    ['/a', '/a', 'ro', '/a:/a:ro'],
  ])('bindSpec(%j, %j, %j) = %j', (src, dst, opts, want) => { expect(bindSpec(src, dst, opts)).toBe(want); });

  it.each([
    ['/a,b', '/d', '', 'type=bind,"source=/a,b",destination=/d'],
    ['/a:b', '/d:e', 'ro', 'type=bind,source=/a:b,destination=/d:e,ro'],
    ['/q"x', '/d', '', 'type=bind,"source=/q""x",destination=/d'],
    ['/a\nb', '/d', '', 'type=bind,"source=/a\nb",destination=/d'],
  ])('mountSpec(%j, %j, %j) = %j', (src, dst, opts, want) => { expect(mountSpec(src, dst, opts)).toBe(want); });

  it.each([
    ['apptainer', undefined, true],
    ['singularity3', '3.9.0', true],
    ['singularity3', '3.4.2', false],
    ['singularity3', undefined, false],
    ['singularity2', '2.6.1', false],
  ] as const)('%s %s has --mount: %s', (family, version, want) => { expect(hasMountFlag(family, version)).toBe(want); });
});

describe('site binds (CJW_BINDS)', () => {
  const cfg = 'CJW_BINDS="/cvmfs,/etc/grid-security,/data/my\\:dir:/data:ro,/opt/with space:/opt/ws"\n';

  it('adds existing sources (realpath), skips missing ones with a warning, keeps spaces in one argv element', () => {
    const d = run(line(), facts({ cfg, paths: { '/cvmfs': 'dir', '/etc/grid-security': 'missing', '/data/my:dir': 'dir', '/opt/with space': ['dir', '/real/with space'] }, family: 'apptainer' }));
    const argv = argvOf(d);
    expect(argv).toContain('/cvmfs');
    expect(argv).toContain('/real/with space:/opt/ws');
    expect(argv).toContain('type=bind,source=/data/my:dir,destination=/data,ro');
    expect(argv.join(' ')).not.toContain('grid-security');
    expect(d.warnings).toEqual(['site bind /etc/grid-security (CJW_BINDS): source /etc/grid-security does not exist, skipped']);
    expect(reasons(d)).toContain('added --bind /real/with space:/opt/ws (source resolved from /opt/with space) | site bind /opt/with space:/opt/ws (CJW_BINDS)');
    expect(reasons(d)).toContain('added --mount type=bind,source=/data/my:dir,destination=/data,ro | site bind /data/my\\:dir:/data:ro (CJW_BINDS); written with --mount because the path holds "," or ":"');
    expect(d.binds.filter((b) => b.origin === 'site').map((b) => b.dst)).toEqual(['/cvmfs', '/data', '/opt/ws']);
  });

  it('a missing source marked "!" is exit 66, a job-class error', () => {
    const e = thrown(() => run(line(), facts({ cfg: 'CJW_BINDS=/etc/grid-security!\n', paths: { '/etc/grid-security': 'missing' } })));
    expect([e.id, e.code, e.errorClass]).toEqual(['bind.missing-required', 66, 'job']);
    expect(e.line).toBe('condor-job-wrapper: job error: site bind /etc/grid-security! (CJW_BINDS): the source /etc/grid-security does not exist (or this user cannot reach it); it is marked required with "!"');
  });

  it('a site path with ":" on a runtime without --mount is exit 78 (node), naming the runtime', () => {
    const e = thrown(() => run(line(), facts({ cfg, paths: { '/cvmfs': 'dir', '/etc/grid-security': 'dir', '/data/my:dir': 'dir', '/opt/with space': 'dir' } })));
    expect([e.id, e.code, e.errorClass]).toEqual(['bind.unexpressible', 78, 'node']);
    expect(e.why).toBe('a path with "," or ":" needs --mount, which Singularity 3.x 3.4.2 lacks; rename the path or use a runtime with --mount (Apptainer 1.x, SingularityCE 3.9+)'.replace('Singularity 3.x', tableFor('singularity3').displayName));
  });

  it('never covers the scratch bind or the wrapper\'s launcher dir; one bind per destination', () => {
    const d = run(line(), facts({ cfg: 'CJW_BINDS="/a:/srv,/b:/,/c:/srv/.condor-job-wrapper/x,/d:/etc/hosts,/e:/e2,/f:/e2"\n', paths: { '/a': 'dir', '/b': 'dir', '/c': 'dir', '/d': 'file', '/e': 'dir', '/f': 'dir' } }));
    expect(argvOf(d).filter((a) => /^\/[a-f]:/.test(a))).toEqual(['/e:/e2']);
    expect(reasons(d)).toContain('skipped site bind /a:/srv (CJW_BINDS) | its destination /srv would replace or hide the starter\'s scratch bind at /srv');
    expect(reasons(d)).toContain('skipped site bind /b:/ (CJW_BINDS) | its destination / would replace or hide the starter\'s scratch bind at /srv');
    expect(reasons(d)).toContain('skipped site bind /c:/srv/.condor-job-wrapper/x (CJW_BINDS) | its destination /srv/.condor-job-wrapper/x would cover or sit inside /srv/.condor-job-wrapper, which belongs to the wrapper or HTCondor');
    expect(reasons(d)).toContain('skipped site bind /d:/etc/hosts (CJW_BINDS) | /etc/hosts is already bound by the starter\'s line or an earlier site bind: one bind per destination');
    expect(reasons(d)).toContain('skipped site bind /f:/e2 (CJW_BINDS) | /e2 is already bound by the starter\'s line or an earlier site bind: one bind per destination');
  });

  it('setup-hook binds are site binds, but held to the bind policy (78 when refused)', () => {
    const hook: HookContribution = { hook: '20-binds', binds: ['/etc/ssl:/ssl', '/data/ok'], env: new Map() };
    const f = facts({ cfg: 'CJW_BIND_DENY=/etc/**\n', paths: { '/etc/ssl': 'dir', '/data/ok': 'dir' }, contributions: [hook] });
    const e = thrown(() => run(line(), f));
    expect([e.id, e.code]).toEqual(['bind.not-allowed', 78]);
    expect(e.line).toBe('condor-job-wrapper: node error: bind /etc/ssl:/ssl from setup hook 20-binds: /etc/ssl matches the CJW_BIND_DENY glob /etc/**');
    const ok = run(line(), facts({ paths: { '/data/ok': 'dir' }, contributions: [{ hook: '20-binds', binds: ['/data/ok'], env: new Map() }] }));
    expect(ok.binds.find((b) => b.src === '/data/ok')?.origin).toBe('hook:20-binds');
  });
});

describe('job binds (SingularityBind)', () => {
  const policy = 'CJW_BIND_ALLOW=/data/**,/cvmfs/*\nCJW_BIND_DENY=/data/secret/**\n';

  it.each([
    // [SingularityBind entry, path facts, expected: 'kept' | error why]
    ['/data/in:/in', { '/data/in': 'dir' }, 'kept'],
    ['/cvmfs/cms.cern.ch', { '/cvmfs/cms.cern.ch': 'dir' }, 'kept'],
    ['/cvmfs/cms.cern.ch/sub', { '/cvmfs/cms.cern.ch/sub': 'dir' }, '/cvmfs/cms.cern.ch/sub matches no CJW_BIND_ALLOW glob (/data/**, /cvmfs/*)'],
    ['/etc/shadow:/in', { '/etc/shadow': 'file' }, '/etc/shadow matches no CJW_BIND_ALLOW glob (/data/**, /cvmfs/*)'],
    ['/data/secret/key', { '/data/secret/key': 'file' }, '/data/secret/key matches the CJW_BIND_DENY glob /data/secret/**'],
    ['/data/../etc:/in', { '/data/../etc': ['dir', '/etc'] }, '/data/../etc (it resolves to /etc) matches no CJW_BIND_ALLOW glob (/data/**, /cvmfs/*)'],
    ['/data/link:/in', { '/data/link': ['dir', '/root'] }, '/data/link (it resolves to /root) matches no CJW_BIND_ALLOW glob (/data/**, /cvmfs/*)'],
    ['/data/x/../secret/key', { '/data/x/../secret/key': ['file', '/data/secret/key'] }, '/data/x/../secret/key (it resolves to /data/secret/key) matches the CJW_BIND_DENY glob /data/secret/**'],
    ['/data/my dir:/in', { '/data/my dir': 'dir' }, 'kept'],
    // A job ad cannot carry a newline (the ClassAd reader refuses it); a backslash is literal.
    ['/data/back\\nslash', { '/data/back\\nslash': 'dir' }, 'kept'],
    ['/data/*', { '/data/*': 'dir' }, 'kept'],
    ['/data', { '/data': 'dir' }, 'kept'],
    ['/datax/in', { '/datax/in': 'dir' }, '/datax/in matches no CJW_BIND_ALLOW glob (/data/**, /cvmfs/*)'],
  ] as const)('%j → %s', (entry, paths, expected) => {
    // A list-typed ad: its items are not split on spaces or newlines (a string would be).
    const f = facts({ cfg: policy, bind: `{ "${entry}" }`, paths: paths as NonNullable<Opts['paths']> });
    if (expected === 'kept') {
      const d = run(line([entry]), f);
      expect(argvOf(d)).toEqual(line([entry]));
      expect(d.binds.find((b) => b.origin === 'job')?.src).toBe(entry.split(':')[0]);
      expect(reasons(d)).toEqual([expect.stringMatching(new RegExp(`^kept job bind .* \\| its realpath .* matches the CJW_BIND_ALLOW glob (/data/\\*\\*|/cvmfs/\\*) and no CJW_BIND_DENY glob$`))]);
      return;
    }
    const e = thrown(() => run(line([entry]), f));
    expect([e.id, e.code, e.errorClass]).toEqual(['bind.not-allowed', 65, 'job']);
    expect(e.what).toBe(`job bind ${entry} (SingularityBind)`);
    expect(e.why).toBe(expected);
    expect(e.line).not.toContain('\n');
  });

  it('only -B values equal to a SingularityBind entry are the job\'s: the starter\'s own -B is not checked', () => {
    const f = facts({ cfg: 'CJW_BIND_DENY=/etc/**\n', bind: '"/data/in"', paths: { '/data/in': 'dir' } });
    const d = run(line(['/data/in']), f);
    expect(argvOf(d)).toEqual(line(['/data/in']));
    expect(reasons(d)).toEqual(['kept job bind /data/in (SingularityBind) | CJW_BIND_ALLOW is empty (any source), and /data/in matches no CJW_BIND_DENY glob']);
  });

  it('rewrites a symlinked source to the path that was checked', () => {
    const f = facts({ cfg: policy, bind: '"/data/latest:/in"', paths: { '/data/latest': ['dir', '/data/v2'] } });
    const d = run(line(['/data/latest:/in']), f);
    expect(argvOf(d)).toContain('/data/v2:/in');
    expect(argvOf(d)).not.toContain('/data/latest:/in');
    expect(reasons(d)).toContain('rewrote job bind /data/latest:/in (SingularityBind) as --bind /data/v2:/in | the source resolves to /data/v2: the runtime gets the path that was checked');
  });

  it('drops a missing source, a bind over the scratch or the launcher dirs, and a destination the site holds', () => {
    const entries = ['/data/gone:/g', '/data/a:/srv', '/data/b:/srv/.condor-job-wrapper', '/data/c:/etc/hosts', '/data/d:/dd', '/data/e:/dd', '/data/f:/condor_container_launcher.sh'];
    const f = facts({ bind: JSON.stringify(entries.join(',')), paths: { '/data/gone': 'missing', '/data/a': 'dir', '/data/b': 'dir', '/data/c': 'file', '/data/d': 'dir', '/data/e': 'dir', '/data/f': 'file' } });
    const withLauncher = [...line(entries).slice(0, -1), '/condor_container_launcher.sh', '/bin/true'];
    const d = run(withLauncher, f);
    expect(argvOf(d).filter((a) => a.startsWith('/data/'))).toEqual(['/data/d:/dd']);
    expect(reasons(d)).toEqual(expect.arrayContaining([
      'dropped job bind /data/gone:/g (SingularityBind) | the source /data/gone does not exist, skipped',
      'dropped job bind /data/a:/srv (SingularityBind) | its destination /srv would replace or hide the starter\'s scratch bind at /srv',
      'dropped job bind /data/b:/srv/.condor-job-wrapper (SingularityBind) | its destination /srv/.condor-job-wrapper would cover or sit inside /srv/.condor-job-wrapper, which belongs to the wrapper or HTCondor',
      'dropped job bind /data/c:/etc/hosts (SingularityBind) | /etc/hosts is already bound by the site: one bind per destination, the site\'s wins',
      'dropped job bind /data/e:/dd (SingularityBind) | /dd is already bound by an earlier job bind: one bind per destination',
      'dropped job bind /data/f:/condor_container_launcher.sh (SingularityBind) | its destination /condor_container_launcher.sh would cover or sit inside /condor_container_launcher.sh, which belongs to the wrapper or HTCondor',
    ]));
    expect(d.warnings).toHaveLength(4);
  });

  it('site beats job on the same destination', () => {
    const f = facts({ cfg: 'CJW_BINDS=/site/data:/data\n', bind: '"/job/data:/data"', paths: { '/site/data': 'dir', '/job/data': 'dir' } });
    const d = run(line(['/job/data:/data']), f);
    expect(argvOf(d)).toContain('/site/data:/data');
    expect(argvOf(d)).not.toContain('/job/data:/data');
    expect(d.binds.filter((b) => b.dst === '/data').map((b) => b.origin)).toEqual(['site']);
  });

  it('a job path with "," is 65 on Singularity 3.4.2 and --mount on Apptainer', () => {
    const bind = '{ "/data/a,b:/in" }';
    // On the starter's line a -B splits at the comma (as the runtime reads it): two specs, each checked.
    const split = run(line(['/data/a,b:/in']), facts({ bind, paths: { '/data/a': 'dir', b: 'missing' } }));
    expect(argvOf(split).join(' ')).toContain('--bind /data/a');
    expect(argvOf(split)).not.toContain('/data/a,b:/in');
    expect(reasons(split)).toContain('dropped job bind /data/a,b:/in (SingularityBind) | the source b does not exist, skipped');
    expect(reasons(split)).toContain('rewrote job bind /data/a,b:/in (SingularityBind) as --bind /data/a | its -B held several specs (/data/a,b:/in): each is written as its own flag, kept or dropped on its own');
    const wb = run(line([], 'apptainer'), facts({ bind, family: 'apptainer', paths: { '/data/a,b': 'dir' } }), 'wrapper-built');
    expect(argvOf(wb)).toContain('type=bind,"source=/data/a,b",destination=/in');
    const e2 = thrown(() => run(line([]), facts({ bind, paths: { '/data/a,b': 'dir' } }), 'wrapper-built'));
    expect([e2.id, e2.code]).toEqual(['bind.job-unexpressible', 65]);
    expect(e2.why).toContain('use a path without "," and ":"');
  });

  it('wrapper-built mode adds the job ad\'s binds itself, after the policy check', () => {
    const f = facts({ cfg: policy, bind: '"/data/in:/in /cvmfs/sft.cern.ch"', paths: { '/data/in': 'dir', '/cvmfs/sft.cern.ch': 'dir' } });
    const d = run(line(), f, 'wrapper-built');
    expect(argvOf(d).length).toBe(line().length + 4);
    expect(argvOf(d)).toContain('/data/in:/in');
    expect(argvOf(d)).toContain('/cvmfs/sft.cern.ch');
    expect(reasons(d)).toContain('added job bind /data/in:/in (SingularityBind) as --bind /data/in:/in | the job asks for it in SingularityBind (wrapper-built mode); its realpath /data/in matches the CJW_BIND_ALLOW glob /data/** and no CJW_BIND_DENY glob');
  });

  it('a 100 KB hostile path is refused quickly, with a one-line error', () => {
    const long = `/data/${'a/'.repeat(50 * 1024)}x`;
    const f = facts({ cfg: 'CJW_BIND_ALLOW=/cvmfs/**\n', bind: JSON.stringify(long), paths: { [long]: 'dir' } });
    const t0 = Date.now();
    const e = thrown(() => run(line([long]), f));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e.code).toBe(65);
    expect(e.line.split('\n')).toHaveLength(1);
  });
});

describe('with the real filesystem: realpath through facts/paths.ts', () => {
  let root = '';
  beforeAll(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'cjw-binds-')));
    mkdirSync(join(root, 'allowed/sub'), { recursive: true });
    mkdirSync(join(root, 'outside'));
    writeFileSync(join(root, 'outside/secret'), 'x');
    symlinkSync(join(root, 'outside'), join(root, 'allowed/escape'));
    symlinkSync(join(root, 'allowed/sub'), join(root, 'allowed/inner'));
    symlinkSync(join(root, 'nowhere'), join(root, 'allowed/dangling'));
  });
  afterAll(() => { rmSync(root, { recursive: true, force: true }); });

  function probe(entry: string): Facts {
    const src = entry.split(':')[0] ?? '';
    return facts({ cfg: `CJW_BIND_ALLOW=${root}/allowed/**\n`, bind: JSON.stringify(entry), realPaths: probePaths([src]) });
  }

  it('a symlink out of the allowed tree is refused by its realpath', () => {
    const e = thrown(() => run(line([`${root}/allowed/escape:/in`]), probe(`${root}/allowed/escape:/in`)));
    expect(e.why).toBe(`${root}/allowed/escape (it resolves to ${root}/outside) matches no CJW_BIND_ALLOW glob (${root}/allowed/**)`);
  });

  it('".." out of the allowed tree is refused', () => {
    const entry = `${root}/allowed/../outside/secret:/in`;
    const e = thrown(() => run(line([entry]), probe(entry)));
    expect(e.why).toContain(`(it resolves to ${root}/outside/secret)`);
  });

  it('a symlink inside the allowed tree is bound by its realpath', () => {
    const entry = `${root}/allowed/inner:/in`;
    expect(argvOf(run(line([entry]), probe(entry)))).toContain(`${root}/allowed/sub:/in`);
  });

  it('a dangling symlink is a missing source: dropped with a warning', () => {
    const entry = `${root}/allowed/dangling:/in`;
    const d = run(line([entry]), probe(entry));
    expect(argvOf(d).join(' ')).not.toContain('dangling');
    expect(d.warnings).toHaveLength(1);
  });
});
