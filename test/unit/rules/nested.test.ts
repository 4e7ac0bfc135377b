// Table tests for nested runs (SPEC S5.1): what counts as "inside a container" (never the job's
// environment), the -C/--pid rewrite, and the setuid runtime that cannot start there.

import { decide, initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { applyNested, nestedRule } from '../../../src/decide/rules/nested';
import { parseConfig } from '../../../src/facts/config/load';
import { gatherFacts } from '../../../src/facts/gather';
import { detectNested, detectSetuidRuntime, isIdentityUidMap, nestedFactFor, type HostProbe } from '../../../src/facts/host';
import type { Facts, NestedFact } from '../../../src/facts/types';
import { tableFor } from '../../../src/invocation/families/index';
import type { FamilyId } from '../../../src/invocation/flagTable';
import { render } from '../../../src/invocation/model';
import { parseInvocation } from '../../../src/invocation/parse';
import { thrown } from './thrown';

const IMG = '/images/el9.sif';
const PAYLOAD = ['/bin/echo', '-C', '--pid'];

function facts(nested: NestedFact | undefined, cfg = ''): Facts {
  return {
    env: new Map([['APPTAINER_CONTAINER', '/fake.sif']]),
    config: parseConfig(cfg === '' ? [] : [{ path: '/etc/condor-job-wrapper/wrapper.env', text: cfg }]),
    cwd: '/x/dir_1',
    runtime: { path: '/usr/bin/apptainer', usable: true, family: 'apptainer', source: 'basename' },
    ...(nested === undefined ? {} : { nested }),
    paths: new Map(),
    hooks: [],
    contributions: [],
  };
}

function draftOf(family: FamilyId, flags: string[], runtime = '/usr/bin/apptainer'): Draft {
  const inv = parseInvocation([runtime, 'exec', ...flags, IMG, ...PAYLOAD], tableFor(family));
  return initialDraft({ dispatch: 'starter-built', command: render(inv), invocation: inv }, facts(undefined));
}

function argvAfter(d: Draft): string[] {
  if (d.invocation === undefined) throw new Error('no invocation');
  return render(d.invocation);
}

const INSIDE: NestedFact = { inside: true, evidence: '/.singularity.d exists' };

/** A host probe over an in-memory file table. */
function probe(files: Record<string, string | { mode: number; uid: number }>, uid = 1001): HostProbe {
  return {
    exists: (p) => p in files,
    read: (p) => {
      const v = files[p];
      return typeof v === 'string' ? v : undefined;
    },
    stat: (p) => {
      const v = files[p];
      if (v === undefined) return undefined;
      return typeof v === 'string' ? { mode: 0o100644, uid: 0 } : v;
    },
    realpath: (p) => (p in files || p.endsWith('/singularity') || p.endsWith('/apptainer') ? p : undefined),
    uid: () => uid,
  };
}

describe('isIdentityUidMap', () => {
  it.each([
    ['         0          0 4294967295\n', true],
    ['0 0 4294967295', true],
    ['         0       1001          1\n', false],
    ['      1001       1001          1\n', false],
    ['0 0 4294967295\n1 2 3\n', false],
    ['', false],
  ])('%j -> %s', (text, want) => { expect(isIdentityUidMap(text)).toBe(want); });
});

describe('detectNested: only what a job cannot forge', () => {
  it.each([
    ['CJW_NESTED=yes wins over an identity map', 'yes', { '/proc/self/uid_map': '0 0 4294967295' }, true, 'CJW_NESTED=yes'],
    ['CJW_NESTED=no wins over /.singularity.d', 'no', { '/.singularity.d': 'dir' }, false, 'CJW_NESTED=no'],
    ['auto: /.singularity.d', 'auto', { '/.singularity.d': 'dir', '/proc/self/uid_map': '0 0 4294967295' }, true, '/.singularity.d exists'],
    ['auto: a user namespace (3.4 -u maps 1001 to 1001)', 'auto', { '/proc/self/uid_map': '      1001       1001          1\n' }, true, '/proc/self/uid_map is "1001 1001 1" (a user namespace)'],
    ['auto: the host', 'auto', { '/proc/self/uid_map': '0 0 4294967295\n' }, false, 'no /.singularity.d, identity uid_map'],
    ['auto: unreadable map is not evidence', 'auto', {}, false, 'no /.singularity.d, uid_map unreadable'],
  ] as const)('%s', (_n, setting, files, inside, evidence) => {
    expect(detectNested(setting, probe(files))).toEqual({ inside, evidence });
  });

  it('APPTAINER_CONTAINER / SINGULARITY_CONTAINER in the job environment never make it nested (real host)', () => {
    const inv = parseInvocation(['/usr/bin/apptainer', 'exec', '-C', IMG, '/bin/true'], tableFor('apptainer'));
    const cfg = parseConfig([]);
    const env = new Map([['APPTAINER_CONTAINER', '/x.sif'], ['SINGULARITY_CONTAINER', '/x.sif'], ['SINGULARITY_NAME', 'x']]);
    const f = gatherFacts({ env, cwd: '/', config: cfg, dispatch: 'starter-built', command: render(inv), invocation: inv });
    // This test host is not a container: the fact must say so, whatever the job exported.
    expect(f.nested?.inside).toBe(false);
    expect(f.nested?.evidence).toMatch(/^no \/\.singularity\.d/);
  });
});

describe('detectSetuidRuntime: from the install layout', () => {
  const SUID = { mode: 0o104755, uid: 0 };
  it.each([
    ['3.4 starter-suid, setuid root', 'singularity3', '/opt/s/bin/singularity', { '/opt/s/libexec/singularity/bin/starter-suid': SUID }, true, '/opt/s/libexec/singularity/bin/starter-suid is setuid root'],
    ['2.6 action-suid, setuid root', 'singularity2', '/opt/s/bin/singularity', { '/opt/s/libexec/singularity/bin/action-suid': SUID }, true, '/opt/s/libexec/singularity/bin/action-suid is setuid root'],
    ['apptainer starter-suid', 'apptainer', '/usr/bin/apptainer', { '/usr/libexec/apptainer/bin/starter-suid': SUID }, true, '/usr/libexec/apptainer/bin/starter-suid is setuid root'],
    ['helper without the setuid bit', 'singularity3', '/opt/s/bin/singularity', { '/opt/s/libexec/singularity/bin/starter-suid': { mode: 0o100755, uid: 0 } }, false, 'no setuid helper under /opt/s/libexec'],
    ['setuid but owned by a user', 'singularity3', '/opt/s/bin/singularity', { '/opt/s/libexec/singularity/bin/starter-suid': { mode: 0o104755, uid: 1001 } }, false, 'no setuid helper under /opt/s/libexec'],
    ['no helper (unprivileged install)', 'apptainer', '/usr/bin/apptainer', {}, false, 'no setuid helper under /usr/libexec'],
    ['allow setuid = no in the prefix config', 'singularity3', '/opt/s/bin/singularity', { '/opt/s/libexec/singularity/bin/starter-suid': SUID, '/opt/s/etc/singularity/singularity.conf': '# x\nallow setuid = no\n' }, false, '/opt/s/libexec/singularity/bin/starter-suid is setuid but the config says "allow setuid = no"'],
    ['a /usr install reads /etc', 'apptainer', '/usr/bin/apptainer', { '/usr/libexec/apptainer/bin/starter-suid': SUID, '/etc/apptainer/apptainer.conf': 'allow setuid = yes\n' }, true, '/usr/libexec/apptainer/bin/starter-suid is setuid root'],
  ] as const)('%s', (_n, family, rt, files, setuid, evidence) => {
    expect(detectSetuidRuntime(rt, family, probe(files))).toEqual({ setuid, evidence });
  });
  // The same detection on installs: test/runtime/legacy.test.ts (setuid stand-ins of 2.6.1/3.4.2).
});

describe('nestedFactFor: probed only when the line has something to change', () => {
  const line = (flags: string[], family: FamilyId = 'singularity3') => parseInvocation(['/opt/s/bin/singularity', 'exec', ...flags, IMG], tableFor(family));
  const rt = { path: '/opt/s/bin/singularity', family: 'singularity3' as const };
  const inside = { '/.singularity.d': 'd', '/opt/s/libexec/singularity/bin/starter-suid': { mode: 0o104755, uid: 0 } };

  it('CJW_NESTED=no: no probe at all', () => { expect(nestedFactFor('no', line(['-C']), rt, probe(inside))).toBeUndefined(); });
  it('a line with -u and without -C/-p: nothing to change', () => { expect(nestedFactFor('auto', line(['-u', '-c']), rt, probe(inside))).toBeUndefined(); });
  it('on the host: inside false, no setuid probe', () => {
    expect(nestedFactFor('auto', line(['-C']), rt, probe({ '/proc/self/uid_map': '0 0 4294967295' }))).toEqual({ inside: false, evidence: 'no /.singularity.d, identity uid_map' });
  });
  it('inside, a normal user, no -u: the setuid probe runs', () => {
    expect(nestedFactFor('auto', line(['-C']), rt, probe(inside))).toEqual({
      inside: true, evidence: '/.singularity.d exists', asRoot: false,
      runtimeSetuid: { setuid: true, evidence: '/opt/s/libexec/singularity/bin/starter-suid is setuid root' },
    });
  });
  it('inside as root: setuid still works, not probed', () => {
    expect(nestedFactFor('auto', line(['-C']), rt, probe(inside, 0))).toEqual({ inside: true, evidence: '/.singularity.d exists', asRoot: true });
  });
  it('inside with -u already on the line: not probed', () => {
    expect(nestedFactFor('auto', line(['-u', '-C']), rt, probe(inside))).toEqual({ inside: true, evidence: '/.singularity.d exists', asRoot: false });
  });
  it('wrapper-built (no line yet): probes the chosen runtime', () => {
    expect(nestedFactFor('yes', undefined, rt, probe(inside))?.runtimeSetuid?.setuid).toBe(true);
  });
});

describe('applyNested: the rewrite (argv in, argv out, reasons)', () => {
  const A = '/usr/bin/apptainer';
  it.each([
    ['-C → --contain --ipc --cleanenv', 'apptainer', ['-S', '/tmp', '-C'], ['-S', '/tmp', '--contain', '--ipc', '--cleanenv']],
    ['--containall, same', 'apptainer', ['--containall', '-B', '/a'], ['--contain', '--ipc', '--cleanenv', '-B', '/a']],
    ['--ipc already there: not added twice', 'apptainer', ['--ipc', '-C'], ['--ipc', '--contain', '--cleanenv']],
    ['-p and --pid dropped', 'apptainer', ['-c', '-p', '-e', '--pid'], ['-c', '-e']],
    ['a cluster is split, the rest keeps its spelling', 'apptainer', ['-Cu'], ['-u', '--contain', '--ipc', '--cleanenv']],
    ['--containall=false is not containall', 'apptainer', ['--containall=false'], ['--containall=false']],
    ['HTCondor\'s no-PID-namespace line is left alone', 'apptainer', ['--contain', '--ipc', '--cleanenv'], ['--contain', '--ipc', '--cleanenv']],
    ['Singularity 2.6 spellings', 'singularity2', ['-C', '-B', '/a'], ['--contain', '--ipc', '--cleanenv', '-B', '/a']],
    ['Singularity 3.x', 'singularity3', ['-C'], ['--contain', '--ipc', '--cleanenv']],
  ] as const)('%s', (_n, family, flags, want) => {
    const d = applyNested(draftOf(family, [...flags], A), facts(INSIDE));
    expect(argvAfter(d)).toEqual([A, 'exec', ...want, IMG, ...PAYLOAD]);
  });

  it('says why, with the evidence', () => {
    const d = applyNested(draftOf('apptainer', ['-C', '-p']), facts(INSIDE));
    expect(d.changes).toEqual([
      { rule: 'nested', what: '-C → --contain --ipc --cleanenv', reason: 'inside a container (/.singularity.d exists) the runtime cannot make a new PID namespace: keep what -C means except --pid' },
      { rule: 'nested', what: 'dropped -p', reason: 'inside a container (/.singularity.d exists) the runtime cannot make a new PID namespace ("Multiple devpts instances unsupported")' },
    ]);
  });

  it('not nested, or no fact: the line is untouched', () => {
    for (const n of [undefined, { inside: false, evidence: 'x' }]) {
      const d0 = draftOf('apptainer', ['-C', '--pid']);
      const d = applyNested(d0, facts(n));
      expect(d).toBe(d0);
    }
  });

  it('payload flags after the image are never touched', () => {
    const d = applyNested(draftOf('apptainer', ['-C']), facts(INSIDE));
    expect(d.invocation?.payload).toEqual(PAYLOAD);
  });
});

describe('applyNested: a setuid runtime inside a container', () => {
  const S34 = '/opt/singularity-3.4.2/bin/singularity';
  const setuidInside = (setuid: boolean, asRoot = false): NestedFact => ({
    inside: true, evidence: '/.singularity.d exists', asRoot,
    ...(asRoot ? {} : { runtimeSetuid: { setuid, evidence: setuid ? '/opt/singularity-3.4.2/libexec/singularity/bin/starter-suid is setuid root' : 'no setuid helper' } }),
  });

  it('Singularity 3.x setuid, normal user: --userns added (3.4 → 3.4u works nested)', () => {
    const d = applyNested(draftOf('singularity3', ['-C'], S34), facts(setuidInside(true)));
    expect(argvAfter(d)).toEqual([S34, 'exec', '--contain', '--ipc', '--cleanenv', '--userns', IMG, ...PAYLOAD]);
    expect(d.changes[1]?.what).toBe('added --userns');
    expect(d.changes[1]?.reason).toContain('"Failed to set effective UID to 0"');
  });

  it('not setuid, or root: no --userns', () => {
    expect(argvAfter(applyNested(draftOf('singularity3', ['-c'], S34), facts(setuidInside(false))))).toEqual([S34, 'exec', '-c', IMG, ...PAYLOAD]);
    expect(argvAfter(applyNested(draftOf('singularity3', ['-c'], S34), facts(setuidInside(true, true))))).toEqual([S34, 'exec', '-c', IMG, ...PAYLOAD]);
  });

  it('Singularity 2.6 setuid, normal user: a node error (69) naming the runtime, not a runtime abort', () => {
    const e = thrown(() => applyNested(draftOf('singularity2', ['-C'], '/opt/singularity-2.6.1/bin/singularity'), facts(setuidInside(true))));
    expect(e.id).toBe('runtime.nested-setuid');
    expect(e.code).toBe(69);
    expect(e.errorClass).toBe('node');
    expect(e.line).toMatch(/^condor-job-wrapper: node error: container runtime \/opt\/singularity-2\.6\.1\/bin\/singularity: it is a setuid install/);
  });

  it('through decide() with the registered rules (rule order: nested before compat)', () => {
    const inv = parseInvocation([S34, '-s', 'exec', '-S', '/tmp', '-C', IMG, '/bin/true'], tableFor('singularity3'));
    // The image rule (registered after nested) reads the probed image: facts/paths.ts would have stat'ed it.
    const paths = new Map([[IMG, { path: IMG, kind: 'dir' as const, real: IMG }]]);
    const f = { ...facts(setuidInside(true)), paths, runtime: { path: S34, usable: true, family: 'singularity3' as const, version: '3.4.2', source: 'cache' as const } };
    const plan = decide({ dispatch: 'starter-built', command: render(inv), invocation: inv }, f);
    expect(plan.argv).toEqual([S34, '-s', 'exec', '-S', '/tmp', '--contain', '--ipc', '--cleanenv', '--userns', IMG, '/bin/true']);
  });

  it('is registered as "nested", for contained lines', () => {
    expect(nestedRule.name).toBe('nested');
    expect(nestedRule.appliesTo).toBe('contained');
  });
});
