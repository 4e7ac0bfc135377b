// Fault injection for SPEC S4/S7: under REQUIRED no error path ever runs the job outside a
// container. Every rule in RULES (whatever other issues register there) and every exported
// function of the facts modules is made to fail in turn — with each error class, with a plain
// bug, and by lying — and the whole run() (parse → facts → decide → handover) must then either
// stop (throw, which main.ts turns into an exit code) or exec the container runtime. Nothing else.

import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Handover } from '../../src/act/front';
import { run } from '../../src/cli/run';
import { decide, initialDraft } from '../../src/decide/decide';
import type { Draft } from '../../src/decide/plan';
import { RULES, type Rule } from '../../src/decide/rules/index';
import { WrapperError, type ErrorId } from '../../src/errors';
import * as classad from '../../src/facts/classad';
import * as configLoad from '../../src/facts/config/load';
import * as gather from '../../src/facts/gather';
import * as hookOutput from '../../src/facts/hookOutput';
import * as hooks from '../../src/facts/hooks';
import * as host from '../../src/facts/host';
import * as paths from '../../src/facts/paths';
import * as runtime from '../../src/facts/runtime';
import * as scratch from '../../src/facts/scratch';
import type { Facts } from '../../src/facts/types';
import * as versionCache from '../../src/facts/versionCache';
import * as actHooks from '../../src/act/hooks';
import * as actLauncher from '../../src/act/launcher';
import * as actLog from '../../src/act/log';
import * as actResolve from '../../src/act/resolve';
import * as parse from '../../src/invocation/parse';
import { tableFor } from '../../src/invocation/families/index';
import { parseInvocation } from '../../src/invocation/parse';

const ROOT = resolve(__dirname, '../..');
const BASE = mkdtempSync(join(tmpdir(), 'cjw-contain-'));
const RT_DIR = join(BASE, 'bin');
mkdirSync(RT_DIR);
const RT = join(RT_DIR, 'apptainer');
copyFileSync(join(ROOT, 'test/fixtures/bin/standin-runtime'), RT);
chmodSync(RT, 0o755);
const SCRATCH = join(BASE, 'execute/dir_1');
mkdirSync(SCRATCH, { recursive: true });
const IMAGE = join(BASE, 'img.sif');
writeFileSync(IMAGE, 'not really an image');
writeFileSync(join(SCRATCH, '.job.ad'), 'Owner = "u"\nClusterId = 1\n');
writeFileSync(join(SCRATCH, '.machine.ad'), 'Name = "slot1@host"\n');

/** Each way a step can fail: one per error class, a plain bug, and a non-Error throw. */
const FAULTS: { label: string; make: () => unknown }[] = [
  ...(['jobad.malformed', 'image.missing', 'usage.unknown-option', 'runtime.unusable', 'hook.failed', 'config.bad-value', 'internal.bug'] as ErrorId[]).map((id) => ({
    label: `WrapperError ${id}`,
    make: (): unknown => new WrapperError(id, 'injected', 'fault injection'),
  })),
  { label: 'TypeError (a bug)', make: (): unknown => new TypeError('injected bug') },
  { label: 'a thrown string', make: (): unknown => 'injected string' },
];

interface Scenario {
  readonly name: string;
  readonly config: string;
  readonly argv: readonly string[];
  readonly env: Record<string, string>;
}

const JOB_ENV = { _CONDOR_SCRATCH_DIR: SCRATCH, _CONDOR_JOB_AD: join(SCRATCH, '.job.ad'), _CONDOR_MACHINE_AD: join(SCRATCH, '.machine.ad'), PATH: '/usr/bin:/bin' };
const STARTER_LINE = [RT, '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', SCRATCH, '--pwd', '/srv', '-B', `${SCRATCH}:/srv`, '--home', SCRATCH, '-C', IMAGE, '/bin/echo', 'hi'];
const PINNED = `CJW_NESTED=no\nCJW_RUNTIME=${RT}\nCJW_DEFAULT_IMAGE=${IMAGE}\n`;

/** Every configuration under which REQUIRED holds (either side), in both modes. */
const SCENARIOS: Scenario[] = [
  { name: 'starter-built, site REQUIRED', config: `${PINNED}CJW_MODE=REQUIRED`, argv: STARTER_LINE, env: JOB_ENV },
  { name: 'starter-built, VO REQUIRED', config: `${PINNED}CJW_VO_MODE=REQUIRED`, argv: STARTER_LINE, env: JOB_ENV },
  { name: 'wrapper-built, site REQUIRED', config: `${PINNED}CJW_MODE=REQUIRED`, argv: ['/bin/echo', 'hi'], env: JOB_ENV },
  { name: 'wrapper-built, site REQUIRED_GWMS x VO PREFERRED', config: `${PINNED}CJW_MODE=REQUIRED_GWMS\nCJW_VO_MODE=PREFERRED`, argv: ['/bin/echo', 'hi'], env: JOB_ENV },
  { name: 'wrapper-built, site PREFERRED x VO REQUIRED', config: `${PINNED}CJW_MODE=PREFERRED\nCJW_VO_MODE=REQUIRED`, argv: ['/bin/echo', 'hi'], env: JOB_ENV },
  { name: 'wrapper-built, site OPTIONAL x VO REQUIRED', config: `${PINNED}CJW_VO_MODE=REQUIRED`, argv: ['/bin/echo', 'hi'], env: JOB_ENV },
];

function configFile(s: Scenario): string {
  const f = join(BASE, `${s.name.replace(/\W+/g, '-')}.env`);
  writeFileSync(f, `${s.config}\n`);
  return f;
}

type Outcome = { ran: 'runtime' | 'other'; argv0: string } | { stopped: string };

async function outcome(s: Scenario): Promise<Outcome> {
  let h: Handover;
  try {
    h = await run({ argv: ['--config', configFile(s), '--', ...s.argv], env: new Map(Object.entries(s.env)), cwd: SCRATCH, stdout: () => undefined, stderr: () => undefined });
  } catch (e) {
    return { stopped: e instanceof Error ? e.message : String(e) };
  }
  if (h.kind === 'exit') return { stopped: `exit ${h.code}` };
  if (h.kind === 'pass') return { ran: 'other', argv0: s.argv[0] ?? '' };
  const argv0 = h.argv[0] ?? '';
  return { ran: argv0 === RT ? 'runtime' : 'other', argv0 };
}

/** The invariant: stopped, or the container runtime is what gets exec'd. */
function expectNeverUncontained(o: Outcome): void {
  if ('ran' in o) expect(o).toEqual({ ran: 'runtime', argv0: RT });
}

afterEach(() => jest.restoreAllMocks());

describe.each(SCENARIOS)('$name', (s) => {
  it('baseline (no fault): the runtime is exec\'d', async () => {
    expect(await outcome(s)).toEqual({ ran: 'runtime', argv0: RT });
  });

  describe('a rule fails', () => {
    const cases = RULES.flatMap((rule) => FAULTS.map((fault) => ({ rule, fault, label: `${rule.name}: ${fault.label}` })));
    it.each(cases)('$label', async ({ rule, fault }) => {
      jest.spyOn(rule, 'apply').mockImplementation(() => {
        throw fault.make();
      });
      const o = await outcome(s);
      expect(o).toHaveProperty('stopped');
    });

    it.each(RULES.map((rule) => ({ rule, label: rule.name })))('$label: a buggy rule drops the container (and claims NEVER)', async ({ rule }) => {
      const real = rule.apply.bind(rule);
      jest.spyOn(rule, 'apply').mockImplementation((d: Draft, f: Facts) => {
        const out = real(d, f);
        // eslint-disable-next-line @typescript-eslint/no-unused-vars
        const { invocation, ...rest } = out;
        const negotiation = out.negotiation === undefined ? undefined : { ...out.negotiation, effective: 'NEVER' as const };
        return { ...rest, uncontained: ['/bin/echo', 'escaped'], ...(negotiation === undefined ? {} : { negotiation }) };
      });
      const o = await outcome(s);
      expectNeverUncontained(o);
      expect(o).toHaveProperty('stopped');
    });
  });

  describe('a fact probe, the parser or an act step fails', () => {
    const MODULES: Record<string, object> = {
      classad, 'config/load': configLoad, gather, hookOutput, hooks, host, paths, runtime, scratch, versionCache, parse,
      'act/hooks': actHooks, 'act/launcher': actLauncher, 'act/log': actLog, 'act/resolve': actResolve,
    };
    const fns = Object.entries(MODULES).flatMap(([mod, m]) =>
      Object.entries(m).filter(([, v]) => typeof v === 'function').map(([name]) => ({ mod, m: m as Record<string, (...a: unknown[]) => unknown>, name })),
    );
    it('covers the probes gather and run use', () => {
      const names = fns.map((f) => `${f.mod}.${f.name}`);
      for (const n of ['gather.gatherFacts', 'runtime.runtimeFact', 'runtime.chooseRuntime', 'scratch.scratchFact', 'host.nestedFactFor', 'classad.readClassAdFile', 'paths.gatherPaths', 'versionCache.lookupRuntimeVersion', 'config/load.loadConfig', 'act/hooks.runHooksAndRedecide', 'act/resolve.resolveProgram', 'parse.parseInvocation']) {
        expect(names).toContain(n);
      }
    });
    const cases = fns.flatMap((fn) => FAULTS.map((fault) => ({ ...fn, fault, label: `${fn.mod}.${fn.name}: ${fault.label}` })));
    it.each(cases)('$label', async ({ m, name, fault }) => {
      jest.spyOn(m, name).mockImplementation(() => {
        throw fault.make();
      });
      expectNeverUncontained(await outcome(s));
    });
  });

  describe('a probe lies', () => {
    it('the runtime is reported unusable: stopped (69), never the payload', async () => {
      const real = runtime.runtimeFact;
      const realChoose = runtime.chooseRuntime;
      jest.spyOn(runtime, 'runtimeFact').mockImplementation((p: string) => ({ ...real(p), usable: false }));
      jest.spyOn(runtime, 'chooseRuntime').mockImplementation((p: string) => ({ ...realChoose(p), usable: false }));
      const o = await outcome(s);
      expect(o).toHaveProperty('stopped');
      expect('stopped' in o && o.stopped).toMatch(/container runtime .*: missing or not executable, and /);
    });
    it('the scratch dir is missing', async () => {
      jest.spyOn(scratch, 'scratchFact').mockImplementation(() => undefined);
      expectNeverUncontained(await outcome(s));
    });
    it('the probes return nothing useful (empty paths, no nested fact)', async () => {
      jest.spyOn(paths, 'gatherPaths').mockImplementation(() => new Map());
      jest.spyOn(host, 'nestedFactFor').mockImplementation(() => undefined);
      expectNeverUncontained(await outcome(s));
    });
  });
});

describe('decide() alone: assertContainment is the last line of defence', () => {
  const facts = (cfg: string): Facts => ({
    env: new Map(),
    config: configLoad.parseConfig([{ path: '/etc/condor-job-wrapper/wrapper.env', text: cfg }]),
    cwd: SCRATCH,
    runtime: { path: RT, usable: true, family: 'apptainer', source: 'basename' },
    scratch: { path: SCRATCH, kind: 'dir' },
    paths: new Map(),
    hooks: [],
    contributions: [],
  });
  const escape: Rule = { name: 'escape', appliesTo: 'always', apply: (d) => ({ ...initialDraft({ dispatch: d.dispatch, command: ['/bin/echo'] }, facts('')), changes: d.changes }) };
  it.each(['CJW_MODE=REQUIRED', 'CJW_VO_MODE=REQUIRED', 'CJW_MODE=NEVER\nCJW_VO_MODE=REQUIRED', 'CJW_MODE=REQUIRED\nCJW_VO_MODE=DISABLE'])('%j: a rule that uncontains is an internal bug (70)', (cfg) => {
    const inv = parseInvocation(STARTER_LINE, tableFor('apptainer'));
    let err: unknown;
    try {
      decide({ dispatch: 'starter-built', command: STARTER_LINE, invocation: inv }, facts(cfg), [escape]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WrapperError);
    expect((err as WrapperError).code).toBe(70);
    expect((err as WrapperError).line).toContain('the plan would run the job without a container');
  });
  it('PREFERRED: the same rule is allowed (the policy permits uncontained runs)', () => {
    const plan = decide({ dispatch: 'wrapper-built', command: ['/bin/echo'] }, facts('CJW_MODE=PREFERRED'), [escape]);
    expect(plan.contained).toBe(false);
  });
});
