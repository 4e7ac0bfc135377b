// Table tests for site extra arguments (SPEC S5.6): one argv entry per list entry, never
// shell-split, before the image, and only flags the installed runtime has (else a site error, 78).

import { initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { applyExtraArgs } from '../../../src/decide/rules/extraArgs';
import { parseConfig } from '../../../src/facts/config/load';
import type { Facts, RuntimeFact } from '../../../src/facts/types';
import { tableFor } from '../../../src/invocation/families/index';
import type { FamilyId } from '../../../src/invocation/flagTable';
import { render } from '../../../src/invocation/model';
import { parseInvocation } from '../../../src/invocation/parse';
import { thrown } from './thrown';

const IMG = '/images/el9.sif';
const RT = '/usr/bin/rt';

function facts(cfg: string, runtime: Partial<RuntimeFact> = {}): Facts {
  return {
    env: new Map(),
    config: parseConfig([{ path: '/etc/condor-job-wrapper/wrapper.env', text: cfg }]),
    cwd: '/x',
    runtime: { path: RT, usable: true, family: 'apptainer', source: 'cache', ...runtime },
    paths: new Map(),
    hooks: [],
    contributions: [],
  };
}

function draft(family: FamilyId): Draft {
  const inv = parseInvocation([RT, 'exec', '-C', IMG, '/bin/echo', '--ipc'], tableFor(family));
  return initialDraft({ dispatch: 'starter-built', command: render(inv), invocation: inv }, facts(''));
}

const line = (d: Draft): string[] => (d.invocation === undefined ? [] : render(d.invocation));

describe('applyExtraArgs: accepted', () => {
  it.each([
    ['none configured: untouched', 'apptainer', '', [], {}],
    ['boolean flags', 'apptainer', 'CJW_EXTRA_ARGS=--ipc,--no-eval', ['--ipc', '--no-eval'], {}],
    ['a flag and its value as two entries', 'apptainer', 'CJW_EXTRA_ARGS=--env,OSG=1', ['--env', 'OSG=1'], {}],
    ['--flag=value as one entry', 'apptainer', 'CJW_EXTRA_ARGS=--env=OSG=1', ['--env=OSG=1'], {}],
    ['a space stays inside one entry (no shell splitting)', 'apptainer', 'CJW_EXTRA_ARGS="-B,/data/my dir:/data"', ['-B', '/data/my dir:/data'], {}],
    ['a literal comma with \\,', 'apptainer', 'CJW_EXTRA_ARGS=-B,/a\\,b', ['-B', '/a,b'], {}],
    ['newline-separated list', 'apptainer', 'CJW_EXTRA_ARGS="--ipc\n--cleanenv"', ['--ipc', '--cleanenv'], {}],
    ['Singularity 2.6 flags', 'singularity2', 'CJW_EXTRA_ARGS=-B,/cvmfs', ['-B', '/cvmfs'], { family: 'singularity2', version: '2.6.1' }],
    ['Singularity 3.4 --nv', 'singularity3', 'CJW_EXTRA_ARGS=--nv', ['--nv'], { family: 'singularity3', version: '3.4.2' }],
  ] as const)('%s', (_n, family, cfg, added, rt) => {
    const d = applyExtraArgs(draft(family), facts(cfg, rt));
    expect(line(d)).toEqual([RT, 'exec', '-C', ...added, IMG, '/bin/echo', '--ipc']);
    if (added.length > 0) expect(d.changes).toEqual([{ rule: 'extraArgs', what: `added ${added.join(' ')}`, reason: 'site CJW_EXTRA_ARGS, one argv entry per list entry, before the image' }]);
  });
});

describe('applyExtraArgs: refused as a site error (78), naming the entry', () => {
  it.each([
    ['an unknown flag', 'apptainer', 'CJW_EXTRA_ARGS=--bogus', {}, 'invocation.unknown-flag', /--bogus/],
    ['a whole "flag value" in one entry', 'apptainer', 'CJW_EXTRA_ARGS=--env OSG=1', {}, 'invocation.unknown-flag', /--env OSG=1|not a flag/],
    ['a positional word', 'apptainer', 'CJW_EXTRA_ARGS=--ipc,hello', {}, 'invocation.unknown-flag', /entry "hello" is not a flag of Apptainer/],
    ['a flag value missing at the end', 'apptainer', 'CJW_EXTRA_ARGS=-B', {}, 'invocation.unknown-flag', /CJW_EXTRA_ARGS/],
    ['--rocm on Singularity 3.4.2', 'singularity3', 'CJW_EXTRA_ARGS=--rocm', { family: 'singularity3', version: '3.4.2' }, 'runtime.unsupported-flag', /Singularity 3\.4\.2 has no --rocm \(added in 3\.5\)/],
    ['--env on Singularity 2.6', 'singularity2', 'CJW_EXTRA_ARGS=--env,A=1', { family: 'singularity2', version: '2.6.1' }, 'invocation.unknown-flag', /--env/],
  ] as const)('%s', (_n, family, cfg, rt, id, msg) => {
    const e = thrown(() => applyExtraArgs(draft(family), facts(cfg, rt)));
    expect(e.id).toBe(id);
    expect(e.code).toBe(78);
    expect(e.errorClass).toBe('node');
    expect(e.line).toMatch(msg);
  });
});
