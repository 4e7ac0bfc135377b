// Table tests for the negotiation rule (SPEC S4): every cell of the glideinWMS table, the aliases,
// the defaults, the image raise, and what an unusable runtime means in both modes.

import { initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { negotiate, negotiateRule, raisedRequest, TABLE } from '../../../src/decide/rules/negotiate';
import { parseClassAd } from '../../../src/facts/classad';
import type { PolicyMode, RequestMode } from '../../../src/facts/config/schema';
import { parseConfig } from '../../../src/facts/config/load';
import type { Facts, RuntimeFact } from '../../../src/facts/types';
import { tableFor } from '../../../src/invocation/families/index';
import { parseInvocation } from '../../../src/invocation/parse';
import { thrown } from './thrown';

const SITES: PolicyMode[] = ['NEVER', 'OPTIONAL', 'PREFERRED', 'REQUIRED'];

// The slide, verbatim: rows = request, columns = site.
const SLIDE = `
NEVER      NEVER   NEVER     NEVER     FAIL
OPTIONAL   NEVER   NEVER     PREFERRED REQUIRED
PREFERRED  NEVER   PREFERRED PREFERRED REQUIRED
REQUIRED   FAIL    REQUIRED  REQUIRED  REQUIRED
DISABLE    DISABLE DISABLE   DISABLE   FAIL`;

const CELLS: [RequestMode, PolicyMode, string][] = SLIDE.trim().split('\n').flatMap((line) => {
  const [req, ...cols] = line.trim().split(/\s+/);
  return cols.map((eff, i): [RequestMode, PolicyMode, string] => [req as RequestMode, SITES[i] as PolicyMode, eff]);
});

function config(text: string) {
  return parseConfig(text === '' ? [] : [{ path: '/etc/condor-job-wrapper/wrapper.env', text }]);
}

const RT_OK: RuntimeFact = { path: '/usr/bin/apptainer', usable: true, family: 'apptainer', source: 'basename' };
const RT_MISSING: RuntimeFact = { path: '/usr/bin/apptainer', usable: false, family: 'apptainer', source: 'basename' };

function facts(cfg: string, o: { runtime?: RuntimeFact; jobAd?: string } = {}): Facts {
  return {
    env: new Map([['PATH', '/usr/bin:/bin']]),
    config: config(cfg),
    cwd: '/x/dir_1',
    runtime: o.runtime ?? RT_OK,
    ...(o.jobAd === undefined ? {} : { jobAd: parseClassAd(o.jobAd, '/x/dir_1/.job.ad') }),
    scratch: { path: '/x/dir_1', kind: 'dir' },
    paths: new Map(),
    hooks: [],
    contributions: [],
  };
}

function wrapperDraft(f: Facts, command = ['/bin/echo', 'hi']): Draft {
  return initialDraft({ dispatch: 'wrapper-built', command }, f);
}

describe('negotiate(): the glideinWMS table, request = row, site = column', () => {
  it('has 20 cells', () => { expect(CELLS).toHaveLength(20); });

  it.each(CELLS)('request %s x site %s -> %s', (request, site, effective) => {
    const r = negotiate(site, request, false);
    expect(r.effective).toBe(effective);
    expect(TABLE[request][site]).toBe(effective);
    expect(r.request).toBe(request);
    expect(r.reason).toContain(`site ${site} x request ${request} -> ${effective}: `);
  });

  it('REQUIRED x DISABLE is FAIL (the slides write "DISABLE (FAIL)")', () => {
    expect(negotiate('REQUIRED', 'DISABLE', false).reason).toBe(
      'site REQUIRED x request DISABLE -> FAIL: the two policies cannot both hold: the job belongs on another node',
    );
  });
});

describe('a job ad that names an image raises the request to at least PREFERRED', () => {
  it.each([
    ['NEVER', 'PREFERRED'],
    ['OPTIONAL', 'PREFERRED'],
    ['PREFERRED', 'PREFERRED'],
    ['REQUIRED', 'REQUIRED'],
    ['DISABLE', 'DISABLE'],
  ] as [RequestMode, RequestMode][])('%s -> %s', (from, to) => { expect(raisedRequest(from, true)).toBe(to); });

  it.each(CELLS)('request %s x site %s with an image: the raised row applies', (request, site) => {
    const raised = raisedRequest(request, true);
    const r = negotiate(site, request, true);
    expect(r.effective).toBe(TABLE[raised][site]);
    if (raised !== request) expect(r.reason).toMatch(new RegExp(`^request ${request} raised to PREFERRED because the job ad names an image; site ${site} x request PREFERRED -> `));
    else expect(r.reason).not.toContain('raised');
  });

  it('OPTIONAL x OPTIONAL: no image runs uncontained, an image runs contained', () => {
    expect(negotiate('OPTIONAL', 'OPTIONAL', false).effective).toBe('NEVER');
    expect(negotiate('OPTIONAL', 'OPTIONAL', true).effective).toBe('PREFERRED');
  });
});

describe('config values: defaults and aliases come normalized from the loader', () => {
  it('both default to OPTIONAL, which resolves to NEVER without an image', () => {
    const c = config('');
    expect([c.mode, c.voMode]).toEqual(['OPTIONAL', 'OPTIONAL']);
    expect(negotiate(c.mode, c.voMode, false).effective).toBe('NEVER');
  });
  it.each([
    ['CJW_MODE=REQUIRED_GWMS', 'REQUIRED', 'OPTIONAL'],
    ['CJW_VO_MODE=DISABLE_GWMS', 'OPTIONAL', 'DISABLE'],
    ['CJW_VO_MODE=REQUIRED_GWMS', 'OPTIONAL', 'REQUIRED'],
    ['CJW_MODE=required\nCJW_VO_MODE=disable_gwms', 'REQUIRED', 'DISABLE'],
  ])('%j', (text, mode, vo) => {
    const c = config(text);
    expect([c.mode, c.voMode]).toEqual([mode, vo]);
  });
  it('REQUIRED_GWMS x DISABLE_GWMS is FAIL', () => {
    const c = config('CJW_MODE=REQUIRED_GWMS\nCJW_VO_MODE=DISABLE_GWMS');
    expect(negotiate(c.mode, c.voMode, false).effective).toBe('FAIL');
  });
});

describe('the negotiate rule, wrapper-built mode', () => {
  it('FAIL is exit 69 naming both keys and values', () => {
    const f = facts('CJW_MODE=REQUIRED\nCJW_VO_MODE=DISABLE');
    const e = thrown(() => negotiateRule.apply(wrapperDraft(f), f));
    expect(e.id).toBe('negotiation.fail');
    expect(e.code).toBe(69);
    expect(e.line).toBe('condor-job-wrapper: node error: container policy: site CJW_MODE=REQUIRED and request CJW_VO_MODE=DISABLE cannot both hold (negotiation table: FAIL)');
  });

  it('NEVER x REQUIRED is FAIL too', () => {
    const f = facts('CJW_MODE=NEVER\nCJW_VO_MODE=REQUIRED');
    expect(thrown(() => negotiateRule.apply(wrapperDraft(f), f)).line).toContain('site CJW_MODE=NEVER and request CJW_VO_MODE=REQUIRED');
  });

  it.each([
    ['CJW_MODE=NEVER', 'NEVER'],
    ['', 'NEVER'],
    ['CJW_VO_MODE=DISABLE', 'DISABLE'],
  ])('%j: runs the job as given, with the reason recorded', (cfg, effective) => {
    const f = facts(cfg);
    const d = negotiateRule.apply(wrapperDraft(f), f);
    expect(d.negotiation?.effective).toBe(effective);
    expect(d.uncontained).toEqual(['/bin/echo', 'hi']);
    expect(d.invocation).toBeUndefined();
    expect(d.warnings).toEqual([]);
    expect(d.changes).toEqual([{ rule: 'negotiate', what: 'runs the job without a container', reason: expect.stringContaining(`-> ${effective}: `) as unknown }]);
  });

  it('records which file set each side', () => {
    const f = facts('CJW_MODE=PREFERRED');
    const n = negotiateRule.apply(wrapperDraft(f), f).negotiation;
    expect(n).toEqual({
      site: 'PREFERRED', siteOrigin: '/etc/condor-job-wrapper/wrapper.env', vo: 'OPTIONAL', voOrigin: 'default',
      request: 'OPTIONAL', effective: 'PREFERRED', reason: 'site PREFERRED x request OPTIONAL -> PREFERRED: the job runs in a container, or without one (with a warning) when the runtime is unusable',
    });
  });

  it('PREFERRED with a usable runtime leaves the building to wrapperBuilt', () => {
    const f = facts('CJW_MODE=PREFERRED');
    const d = negotiateRule.apply(wrapperDraft(f), f);
    expect(d.uncontained).toEqual(['/bin/echo', 'hi']);
    expect(d.changes).toEqual([]);
    expect(d.warnings).toEqual([]);
  });

  it('PREFERRED with the runtime missing: uncontained, exactly one warning', () => {
    const f = facts('CJW_MODE=PREFERRED', { runtime: RT_MISSING });
    const d = negotiateRule.apply(wrapperDraft(f), f);
    expect(d.uncontained).toEqual(['/bin/echo', 'hi']);
    expect(d.warnings).toEqual([
      'container runtime /usr/bin/apptainer is missing or not executable; policy PREFERRED (site CJW_MODE=PREFERRED and request CJW_VO_MODE=OPTIONAL) allows running without a container, so the job runs uncontained',
    ]);
    expect(d.changes[0]?.reason).toContain('the runtime /usr/bin/apptainer is missing or not executable and policy PREFERRED allows it');
  });

  it('OPTIONAL site, job names an image, runtime missing: uncontained with one warning', () => {
    const f = facts('', { runtime: RT_MISSING, jobAd: 'SingularityImage = "/cvmfs/img"' });
    const d = negotiateRule.apply(wrapperDraft(f), f);
    expect(d.negotiation?.effective).toBe('PREFERRED');
    expect(d.warnings).toHaveLength(1);
  });

  it.each(['CJW_MODE=REQUIRED', 'CJW_VO_MODE=REQUIRED', 'CJW_MODE=REQUIRED\nCJW_VO_MODE=PREFERRED'])(
    '%j with the runtime missing: exit 69, never uncontained',
    (cfg) => {
      const f = facts(cfg, { runtime: RT_MISSING });
      const e = thrown(() => negotiateRule.apply(wrapperDraft(f), f));
      expect(e.id).toBe('runtime.unusable');
      expect(e.code).toBe(69);
      expect(e.line).toMatch(/^condor-job-wrapper: node error: container runtime \/usr\/bin\/apptainer: missing or not executable, and policy REQUIRED \(site CJW_MODE=\w+ and request CJW_VO_MODE=\w+\) forbids running the job without a container$/);
    },
  );

  it('a job image attribute of the wrong type is the job\'s error (65)', () => {
    const f = facts('', { jobAd: 'SingularityImage = 42' });
    expect(thrown(() => negotiateRule.apply(wrapperDraft(f), f)).code).toBe(65);
  });

  it('passthrough is never negotiated', () => {
    const f = facts('CJW_MODE=REQUIRED', { runtime: RT_MISSING });
    const d = initialDraft({ dispatch: 'passthrough', command: ['/usr/sbin/sshd', '-i'] }, f);
    expect(negotiateRule.apply(d, f)).toBe(d);
  });
});

describe('the negotiate rule, starter-built fallback (S4)', () => {
  const S = '/x/execute/dir_1';
  const line = ['/usr/bin/apptainer', '-s', 'exec', '-S', '/tmp', '-W', S, '--pwd', '/srv', '-B', `${S}:/srv`, '--home', S, '-C', '/img', '/srv//echo', 'hello', 'two words'];
  const launcherLine = ['/usr/bin/apptainer', '-s', 'exec', '-B', '/opt/htcondor/libexec/condor_container_launcher.sh:/condor_container_launcher.sh', '-W', S, '--pwd', S, '-B', S, '-C', '/img', '/condor_container_launcher.sh', '/bin/echo', 'launcher'];
  const draft = (f: Facts, argv: string[]): Draft => initialDraft({ dispatch: 'starter-built', command: argv, invocation: parseInvocation(argv, tableFor('apptainer')) }, f);

  it('usable runtime: the starter\'s decision stands, policy is not consulted (even REQUIRED x DISABLE)', () => {
    const f = facts('CJW_MODE=REQUIRED\nCJW_VO_MODE=DISABLE');
    const d = draft(f, line);
    expect(negotiateRule.apply(d, f)).toBe(d);
  });

  it.each(['', 'CJW_MODE=PREFERRED', 'CJW_MODE=NEVER', 'CJW_VO_MODE=DISABLE'])('%j, runtime missing: the payload runs uncontained with one warning', (cfg) => {
    const f = facts(cfg, { runtime: RT_MISSING });
    const d = negotiateRule.apply(draft(f, line), f);
    expect(d.invocation).toBeUndefined();
    // The starter wrote the transferred executable as seen inside (/srv//echo): on the host it is in the scratch.
    expect(d.uncontained).toEqual([`${S}/echo`, 'hello', 'two words']);
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/^container runtime \/usr\/bin\/apptainer is missing or not executable; policy \w+ .* so the job runs uncontained$/);
    expect(d.changes.map((c) => c.what)).toEqual(['runs the payload without the container', `payload /srv//echo -> ${S}/echo`]);
  });

  it('the launcher of HTCondor 24.3+ is dropped, a host path is kept', () => {
    const f = facts('', { runtime: RT_MISSING });
    const d = negotiateRule.apply(draft(f, launcherLine), f);
    expect(d.uncontained).toEqual(['/bin/echo', 'launcher']);
    expect(d.changes).toHaveLength(1);
  });

  it.each(['CJW_MODE=REQUIRED', 'CJW_MODE=REQUIRED_GWMS\nCJW_VO_MODE=DISABLE', 'CJW_VO_MODE=REQUIRED', 'CJW_MODE=NEVER\nCJW_VO_MODE=REQUIRED'])(
    '%j, runtime missing: exit 69',
    (cfg) => {
      const f = facts(cfg, { runtime: RT_MISSING });
      const e = thrown(() => negotiateRule.apply(draft(f, line), f));
      expect(e.id).toBe('runtime.unusable');
      expect(e.code).toBe(69);
      expect(e.line).toContain('container runtime /usr/bin/apptainer: missing or not executable, and ');
    },
  );
});

describe('every cell through the rule (wrapper-built), with the runtime usable and unusable', () => {
  const rows = CELLS.flatMap(([request, site, effective]) => [true, false].map((usable): [RequestMode, PolicyMode, string, boolean] => [request, site, effective, usable]));
  it('has 40 cases', () => { expect(rows).toHaveLength(40); });

  it.each(rows)('request %s x site %s (-> %s), runtime usable: %s', (request, site, effective, usable) => {
    const f = facts(`CJW_MODE=${site}\nCJW_VO_MODE=${request}`, { runtime: usable ? RT_OK : RT_MISSING });
    const d0 = wrapperDraft(f);
    if (effective === 'FAIL') {
      const e = thrown(() => negotiateRule.apply(d0, f));
      expect([e.id, e.code]).toEqual(['negotiation.fail', 69]);
      expect(e.line).toBe(`condor-job-wrapper: node error: container policy: site CJW_MODE=${site} and request CJW_VO_MODE=${request} cannot both hold (negotiation table: FAIL)`);
      return;
    }
    if (effective === 'REQUIRED' && !usable) {
      const e = thrown(() => negotiateRule.apply(d0, f));
      expect([e.id, e.code]).toEqual(['runtime.unusable', 69]);
      return;
    }
    const d = negotiateRule.apply(d0, f);
    expect(d.negotiation?.effective).toBe(effective);
    expect(d.invocation).toBeUndefined(); // the wrapperBuilt rule builds the line, never negotiate
    expect(d.uncontained).toEqual(['/bin/echo', 'hi']);
    const fellBack = effective === 'PREFERRED' && !usable;
    expect(d.warnings).toHaveLength(fellBack ? 1 : 0);
    const ranAsGiven = effective === 'NEVER' || effective === 'DISABLE' || fellBack;
    expect(d.changes.map((c) => c.what)).toEqual(ranAsGiven ? ['runs the job without a container'] : []);
  });
});

describe('aliases in the FAIL message', () => {
  it('REQUIRED_GWMS x DISABLE_GWMS names both keys with the normalized values', () => {
    const f = facts('CJW_MODE=REQUIRED_GWMS\nCJW_VO_MODE=DISABLE_GWMS');
    const e = thrown(() => negotiateRule.apply(wrapperDraft(f), f));
    expect(e.code).toBe(69);
    expect(e.line).toBe('condor-job-wrapper: node error: container policy: site CJW_MODE=REQUIRED and request CJW_VO_MODE=DISABLE cannot both hold (negotiation table: FAIL)');
  });
});
