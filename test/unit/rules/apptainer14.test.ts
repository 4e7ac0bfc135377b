// Table tests for what the real Apptainer 1.4.5 showed (test/runtime/apptainer.test.ts) and the code
// did not assume before: the flags its help lists, the -S tmpfs that hides binds below it, and the
// messages it prints for SINGULARITYENV_ copies.

import { initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { applyCompat, insideDestinations, mountDestination } from '../../../src/decide/rules/compat';
import { applyEnv } from '../../../src/decide/rules/env';
import { applyNested, keepsContainAllNested } from '../../../src/decide/rules/nested';
import { parseConfig } from '../../../src/facts/config/load';
import type { Facts } from '../../../src/facts/types';
import { tableFor } from '../../../src/invocation/families/index';
import type { FamilyId } from '../../../src/invocation/flagTable';
import { render } from '../../../src/invocation/model';
import { parseInvocation } from '../../../src/invocation/parse';

const SLOT = '/tmp/execute/dir_1';
const SCRATCH = `${SLOT}/scratch`;
const APP = '/usr/bin/apptainer';

function facts(env: Record<string, string> = {}, family: FamilyId = 'apptainer'): Facts {
  return {
    env: new Map(Object.entries({ _CONDOR_SCRATCH_DIR: SCRATCH, ...env })),
    config: parseConfig([]),
    cwd: SCRATCH,
    runtime: { path: APP, usable: true, family, source: 'basename' },
    paths: new Map(),
    hooks: [],
    contributions: [],
  };
}

function draft(argv: string[], family: FamilyId = 'apptainer', env: Record<string, string> = {}): { d: Draft; f: Facts } {
  const f = facts(env, family);
  const invocation = parseInvocation(argv, tableFor(family));
  return { d: initialDraft({ dispatch: 'starter-built', invocation, command: argv }, f), f };
}

const out = (d: Draft): string[] => (d.invocation === undefined ? [] : render(d.invocation));

describe('Apptainer 1.4.5 flags the table lacked', () => {
  it.each([
    ['exec', ['--no-pid']],
    ['exec', ['--netns-path', '/run/netns/x']],
    ['run', ['--runscript-timeout', '10s']],
    ['instance start', ['--pid-file', '/tmp/p']],
  ])('%s %j parses and renders back unchanged', (action, flags) => {
    const argv = [APP, ...action.split(' '), ...flags, '/img/x.sif', ...(action === 'instance start' ? ['inst'] : ['/bin/true'])];
    expect(render(parseInvocation(argv, tableFor('apptainer')))).toEqual(argv);
  });
});

describe('compat on Apptainer: -S over a bind destination (HTCondor 25.14\'s default line failed on 1.4.5)', () => {
  const defaultLine = [APP, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', SCRATCH, '--pwd', SCRATCH, '-B', SLOT, '--home', SCRATCH, '-C', '/img/x.sif', '/bin/true'];

  it('the default line: -S /tmp goes (the slot is bound below it), -S /var/tmp stays, with the reason', () => {
    const { d, f } = draft(defaultLine);
    const r = applyCompat(d, f);
    expect(out(r)).toEqual([APP, '-s', 'exec', '-S', '/var/tmp', '-W', SCRATCH, '--pwd', SCRATCH, '-B', SLOT, '--home', SCRATCH, '-C', '/img/x.sif', '/bin/true']);
    expect(r.changes.map((c) => c.what)).toEqual(['dropped -S /tmp']);
    expect(r.changes[0]?.reason).toContain(`a bind below it (${SLOT}) fails ("destination … doesn't exist in container")`);
  });

  it('the target-dir line (slot bound at /srv): nothing below /tmp, nothing changes', () => {
    const line = [APP, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', SCRATCH, '--pwd', '/srv/scratch', '-B', `${SLOT}:/srv`, '--home', SCRATCH, '-C', '/img/x.sif', '/bin/true'];
    const { d, f } = draft(line);
    const r = applyCompat(d, f);
    expect(out(r)).toEqual(line);
    expect(r.changes).toEqual([]);
  });

  it('a --mount destination below /var/tmp drops -S /var/tmp; the comma form keeps the rest', () => {
    const line = [APP, 'exec', '-S', '/tmp,/var/tmp', '--mount', 'type=bind,source=/data,destination=/var/tmp/d', '--contain', '/img/x.sif', '/bin/true'];
    const { d, f } = draft(line);
    expect(out(applyCompat(d, f))).toEqual([APP, 'exec', '-S', '/tmp', '--mount', 'type=bind,source=/data,destination=/var/tmp/d', '--contain', '/img/x.sif', '/bin/true']);
  });

  it('without --contain/-C the -S flags stay (they are what keeps /tmp private then)', () => {
    const line = defaultLine.filter((a) => a !== '-C');
    const { d, f } = draft(line);
    expect(out(applyCompat(d, f))).toEqual(line);
  });

  it('SingularityCE/3.x lines are not touched by this repair (3.4.2 took -S /tmp with binds, as recorded)', () => {
    const line = ['/usr/bin/singularity', ...defaultLine.slice(1)];
    const { d, f } = draft(line, 'singularity3');
    expect(out(applyCompat(d, { ...f, runtime: { path: line[0] ?? '', usable: true, family: 'singularity3', version: '3.4.2', source: 'cache' } }))).toEqual(line);
  });

  it.each([
    ['type=bind,source=/a,destination=/tmp/x', '/tmp/x'],
    ['type=bind,src=/a,dst=/d', '/d'],
    ['type=bind,"source=/a,b","destination=/t,""q"""', '/t,"q"'],
    ['type=bind,source=/a,target=/t,ro', '/t'],
    ['type=bind,source=/a', undefined],
  ])('mountDestination(%j) = %j', (spec, want) => {
    expect(mountDestination(spec)).toBe(want);
  });

  it('insideDestinations: -B lists (comma-separated, src only), --mount; not --home', () => {
    const { d } = draft([APP, 'exec', '-B', '/a,/b:/c:ro', '--mount', 'type=bind,source=/m,destination=/md', '--home', '/h:/hd', '/img/x.sif', '/bin/true']);
    expect(insideDestinations(d.invocation ?? (() => { throw new Error('no invocation'); })())).toEqual(['/a', '/c', '/md']);
  });
});

describe('env on Apptainer: SINGULARITYENV_ copies paired (1.4.5 logs an INFO per lone copy, two WARNINGs per differing pair)', () => {
  const line = [APP, 'exec', '-B', `${SLOT}:/srv`, '-C', '/img/x.sif', '/bin/env'];

  it('a lone SINGULARITYENV_X gets an equal APPTAINERENV_X; a differing one takes the APPTAINERENV_ value (it wins in the runtime too)', () => {
    const { d, f } = draft(line, 'apptainer', { SINGULARITYENV_BAR: 'b', SINGULARITYENV_FOO: 'pilot', APPTAINERENV_FOO: 'a', SINGULARITYENV_SAME: '1', APPTAINERENV_SAME: '1' });
    const r = applyEnv(d, f);
    expect(r.env.get('APPTAINERENV_BAR')).toBe('b');
    expect(r.env.get('SINGULARITYENV_BAR')).toBe('b');
    expect(r.env.get('APPTAINERENV_FOO')).toBe('a');
    expect(r.env.get('SINGULARITYENV_FOO')).toBe('a');
    expect(r.env.get('SINGULARITYENV_SAME')).toBe('1');
    const change = r.changes.find((c) => c.what.startsWith('paired'));
    expect(change?.what).toBe('paired SINGULARITYENV_BAR, SINGULARITYENV_FOO with equal APPTAINERENV_ copies');
  });

  it('on Singularity the copies are left as they are (it ignores APPTAINERENV_)', () => {
    const { d, f } = draft(['/usr/bin/singularity', ...line.slice(1)], 'singularity3', { SINGULARITYENV_BAR: 'b', SINGULARITYENV_FOO: 's', APPTAINERENV_FOO: 'a' });
    const r = applyEnv(d, f);
    expect(r.env.has('APPTAINERENV_BAR')).toBe(false);
    expect(r.env.get('SINGULARITYENV_FOO')).toBe('s');
    expect(r.changes.some((c) => c.what.startsWith('paired'))).toBe(false);
  });

  it('no APPTAINERENV_ copy of a runtime behaviour variable is ever created by the pairing', () => {
    const { d, f } = draft(line, 'apptainer', { SINGULARITYENV_APPTAINER_BINDPATH: '/etc:/x' });
    expect(applyEnv(d, f).env.has('APPTAINERENV_APPTAINER_BINDPATH')).toBe(false);
  });

  it('a dropped variable is not brought back through the pairing', () => {
    const { d, f } = draft(line, 'apptainer', { SINGULARITYENV_LD_PRELOAD: '/evil.so', SINGULARITYENV_HOME: '/h' });
    const r = applyEnv(d, f);
    expect([...r.env.keys()].filter((k) => k.endsWith('LD_PRELOAD') || k.endsWith('_HOME'))).toEqual([]);
  });
});

describe('nested on Apptainer: an unprivileged runtime keeps -C (1.4.5 makes the PID namespace nested too)', () => {
  const line = [APP, '-s', 'exec', '-C', '-p', '/img/x.sif', '/bin/true'];
  const inside = (setuid: boolean | undefined): Facts => ({
    ...facts(),
    nested: { inside: true, evidence: '/.singularity.d exists', asRoot: false, ...(setuid === undefined ? {} : { runtimeSetuid: { setuid, evidence: setuid ? 'starter-suid is setuid root' : 'no setuid helper under /usr/libexec' } }) },
  });

  it('unprivileged Apptainer (no setuid helper): the line stays as it is', () => {
    const { d } = draft(line);
    const f = inside(false);
    expect(keepsContainAllNested(d.invocation ?? (() => { throw new Error('no invocation'); })(), f)).toBe(true);
    const r = applyNested(d, f);
    expect(out(r)).toEqual(line);
    expect(r.changes).toEqual([]);
  });

  it('setuid Apptainer: --userns added and -C replaced, as before (not verified nested on 1.4)', () => {
    const { d } = draft(line);
    expect(out(applyNested(d, inside(true)))).toEqual([APP, '-s', 'exec', '--contain', '--ipc', '--cleanenv', '--userns', '/img/x.sif', '/bin/true']);
  });

  it('unknown (root: no setuid probe) or Singularity: -C is replaced, as before', () => {
    const { d } = draft(line);
    expect(out(applyNested(d, inside(undefined)))).toEqual([APP, '-s', 'exec', '--contain', '--ipc', '--cleanenv', '/img/x.sif', '/bin/true']);
    const s = draft(['/usr/bin/singularity', ...line.slice(1)], 'singularity3');
    expect(out(applyNested(s.d, { ...inside(false), runtime: { path: '/usr/bin/singularity', usable: true, family: 'singularity3', source: 'basename' } }))).toEqual(['/usr/bin/singularity', '-s', 'exec', '--contain', '--ipc', '--cleanenv', '/img/x.sif', '/bin/true']);
  });
});
