// Table tests for the hooks rule (SPEC S6): setup and test hooks run with or without a container,
// inside hooks only with one, each stage recorded with its reason; and the hook discovery rules
// (byte order, skipped names, non-executables are a config error).

import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initialDraft } from '../../../src/decide/decide';
import { scheduleHooks, scheduleHooksRule } from '../../../src/decide/rules/hooks';
import { WrapperError } from '../../../src/errors';
import { parseConfig } from '../../../src/facts/config/load';
import { byteOrder, configuredHooks, isSkippedName, listHooks } from '../../../src/facts/hooks';
import type { Facts, HookFile } from '../../../src/facts/types';
import { tableFor } from '../../../src/invocation/families/index';
import { parseInvocation } from '../../../src/invocation/parse';

const SETUP: HookFile = { stage: 'setup', path: '/etc/cjw/setup.d/10-cvmfs', name: '10-cvmfs' };
const TEST: HookFile = { stage: 'test', path: '/etc/cjw/test.d/20-disk', name: '20-disk' };
const INSIDE: HookFile = { stage: 'inside', path: '/etc/cjw/inside.d/30-env', name: '30-env' };

function facts(hooks: HookFile[]): Facts {
  return {
    env: new Map(),
    config: parseConfig([{ path: '/etc/condor-job-wrapper/wrapper.env', text: 'CJW_SETUP_DIR=/etc/cjw/setup.d\nCJW_TEST_DIR=/etc/cjw/test.d\nCJW_INSIDE_DIR=/etc/cjw/inside.d\n' }]),
    cwd: '/x/dir_1',
    paths: new Map(),
    hooks,
    contributions: [],
  };
}

const contained = (f: Facts) => initialDraft({ dispatch: 'starter-built', command: [], invocation: parseInvocation(['/usr/bin/apptainer', 'exec', '-B', '/x/dir_1:/srv', '/img', '/bin/true'], tableFor('apptainer')) }, f);
const uncontained = (f: Facts) => initialDraft({ dispatch: 'wrapper-built', command: ['/bin/true'] }, f);

describe('scheduleHooks', () => {
  it('is registered for every dispatch mode (setup and test hooks check the node either way)', () => {
    expect(scheduleHooksRule.appliesTo).toBe('always');
  });

  it('no hooks: the draft is unchanged', () => {
    const f = facts([]);
    const d = contained(f);
    expect(scheduleHooks(d, f)).toBe(d);
  });

  it.each([
    ['contained: all three stages', contained, [SETUP, TEST, INSIDE], [SETUP, TEST, INSIDE], ['hooks: run setup hooks 10-cvmfs on the host before the exec', 'hooks: run test hooks 20-disk on the host before the exec']],
    ['uncontained: inside hooks skipped, with the reason', uncontained, [SETUP, TEST, INSIDE], [SETUP, TEST], ['hooks: run setup hooks 10-cvmfs on the host before the exec', 'hooks: run test hooks 20-disk on the host before the exec', 'hooks: skip inside hooks 30-env']],
    ['only inside hooks, contained: no outside change recorded', contained, [INSIDE], [INSIDE], []],
  ])('%s', (_n, draft, hooks, want, changes) => {
    const f = facts(hooks);
    const d = scheduleHooks(draft(f), f);
    expect(d.hooks).toEqual(want);
    expect(d.changes.map((c) => `${c.rule}: ${c.what}`)).toEqual(changes);
  });

  it('gives the directory and the consequence of a failure as the reason', () => {
    const f = facts([SETUP, TEST]);
    const d = scheduleHooks(contained(f), f);
    expect(d.changes.map((c) => c.reason)).toEqual([
      'CJW_SETUP_DIR /etc/cjw/setup.d holds them; a failure stops the job with exit 69',
      'CJW_TEST_DIR /etc/cjw/test.d holds them; a failure stops the job with exit 69',
    ]);
  });
});

describe('hook discovery', () => {
  it.each([
    ['.hidden', true], ['10-x~', true], ['10-x.rpmnew', true], ['10-x.rpmsave', true], ['10-x.dpkg-old', true], ['10-x.dpkg-dist', true],
    ['10-x', false], ['10-x.sh', false], ['rpmnew', false], ['x.dpkg', false],
  ])('%s skipped: %s', (name, skipped) => {
    expect(isSkippedName(name)).toBe(skipped);
  });

  it('orders by bytes, not by locale', () => {
    expect(['b', 'B', '_a', 'a', '10', '9', 'é'].sort(byteOrder)).toEqual(['10', '9', 'B', '_a', 'a', 'b', 'é']);
  });

  function dir(): string {
    return mkdtempSync(join(tmpdir(), 'cjw-hooks-unit-'));
  }
  function exe(d: string, name: string, mode = 0o755): void {
    writeFileSync(join(d, name), '#!/bin/sh\n');
    chmodSync(join(d, name), mode);
  }

  it('lists executables in byte order, skipping leftovers and subdirectories', () => {
    const d = dir();
    for (const n of ['20-b', '10-a', 'Z-upper', '.hidden', '10-a~', '10-a.rpmsave', '10-a.dpkg-new']) exe(d, n, n.startsWith('.') || n.includes('~') || n.includes('.rpm') || n.includes('.dpkg') ? 0o644 : 0o755);
    mkdirSync(join(d, '15-subdir'));
    expect(listHooks(d, 'setup').map((h) => h.name)).toEqual(['10-a', '20-b', 'Z-upper']);
    expect(listHooks(d, 'setup')[0]).toEqual({ stage: 'setup', path: join(d, '10-a'), name: '10-a' });
  });

  it.each([
    ['a non-executable regular file', (d: string) => { exe(d, '10-x', 0o644); }, 'not executable by the job user'],
    ['a broken symlink', (d: string) => { symlinkSync('/nonexistent/hook', join(d, '10-x')); }, 'cannot stat it (broken symlink?)'],
  ])('%s is a config error (78) naming the file', (_n, make, why) => {
    const d = dir();
    make(d);
    // root can execute a 0644 file for access(2) purposes only when some x bit is set, so this holds for root too.
    let err: unknown;
    try {
      listHooks(d, 'test');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WrapperError);
    const w = err as WrapperError;
    expect(w.code).toBe(78);
    expect(w.line).toContain(`test hook ${join(d, '10-x')}`);
    expect(w.why).toContain(why);
  });

  it('a missing directory is a config error naming the key', () => {
    let err: unknown;
    try {
      listHooks('/nonexistent/setup.d', 'setup');
    } catch (e) {
      err = e;
    }
    expect((err as WrapperError).line).toBe('condor-job-wrapper: node error: setup hook directory /nonexistent/setup.d (CJW_SETUP_DIR): cannot read it: ENOENT');
    expect((err as WrapperError).code).toBe(78);
  });

  it('does no I/O for unset directories', () => {
    expect(configuredHooks({ setupDir: '', testDir: '', insideDir: '' })).toEqual([]);
  });

  it('stages come in order setup, test, inside', () => {
    const [s, t, i] = [dir(), dir(), dir()];
    exe(s, 'b');
    exe(t, 'a');
    exe(i, 'c');
    expect(configuredHooks({ setupDir: s, testDir: t, insideDir: i }).map((h) => `${h.stage}:${h.name}`)).toEqual(['setup:b', 'test:a', 'inside:c']);
  });
});
