// Container policy negotiation (SPEC S4): the site's CJW_MODE against the VO's CJW_VO_MODE with
// the glideinWMS table, and what an unusable runtime means under each outcome, in both modes.

import { WrapperError } from '../../errors';
import { getString } from '../../facts/classad';
import type { PolicyMode, RequestMode } from '../../facts/config/schema';
import type { Facts } from '../../facts/types';
import { bindsOf, insidePath, normalize, type BindSpecParts } from '../paths';
import { payloadWithoutLauncher, type Invocation } from '../../invocation/model';
import { addChange, addWarning, type Draft, type Effective, type Negotiation } from '../plan';
import type { Rule } from './index';

export const RULE = 'negotiate';

/** The glideinWMS table (seed slides, HTCondor Week 2019): TABLE[request][site]. */
export const TABLE: Readonly<Record<RequestMode, Readonly<Record<PolicyMode, Effective>>>> = {
  NEVER: { NEVER: 'NEVER', OPTIONAL: 'NEVER', PREFERRED: 'NEVER', REQUIRED: 'FAIL' },
  OPTIONAL: { NEVER: 'NEVER', OPTIONAL: 'NEVER', PREFERRED: 'PREFERRED', REQUIRED: 'REQUIRED' },
  PREFERRED: { NEVER: 'NEVER', OPTIONAL: 'PREFERRED', PREFERRED: 'PREFERRED', REQUIRED: 'REQUIRED' },
  REQUIRED: { NEVER: 'FAIL', OPTIONAL: 'REQUIRED', PREFERRED: 'REQUIRED', REQUIRED: 'REQUIRED' },
  // The slides write "DISABLE (FAIL)" under REQUIRED: a site that requires containers cannot
  // honour a VO that disables them, so the job belongs elsewhere.
  DISABLE: { NEVER: 'DISABLE', OPTIONAL: 'DISABLE', PREFERRED: 'DISABLE', REQUIRED: 'FAIL' },
};

/**
 * A job that names an image asks for a container: NEVER and OPTIONAL become PREFERRED. DISABLE
 * stays: it is the VO's statement that containers are handled elsewhere (glideinWMS
 * DISABLE_GWMS), which a job attribute must not override.
 */
export function raisedRequest(request: RequestMode, jobNamesImage: boolean): RequestMode {
  return jobNamesImage && (request === 'NEVER' || request === 'OPTIONAL') ? 'PREFERRED' : request;
}

const MEANING: Readonly<Record<Effective, string>> = {
  NEVER: 'the job runs without a container',
  PREFERRED: 'the job runs in a container, or without one (with a warning) when the runtime is unusable',
  REQUIRED: 'the job runs only in a container, whatever fails',
  DISABLE: 'the VO disabled containers: the job runs without one',
  FAIL: 'the two policies cannot both hold: the job belongs on another node',
};

export interface NegotiationResult {
  readonly effective: Effective;
  /** The request after the image raise. */
  readonly request: RequestMode;
  readonly reason: string;
}

/** SPEC S4 as a pure function: request = row, site = column. */
export function negotiate(site: PolicyMode, request: RequestMode, jobNamesImage: boolean): NegotiationResult {
  const raised = raisedRequest(request, jobNamesImage);
  const effective = TABLE[raised][site];
  const raise = raised === request ? '' : `request ${request} raised to ${raised} because the job ad names an image; `;
  return { effective, request: raised, reason: `${raise}site ${site} x request ${raised} -> ${effective}: ${MEANING[effective]}` };
}

/** True when the job ad names an image (a wrong type is the job's error, 65). */
export function jobNamesImage(f: Facts): boolean {
  return ['SingularityImage', 'ContainerImage'].some((a) => (getString(f.jobAd, a) ?? '').trim() !== '');
}

/** The negotiation for these facts, with the file that set each side, for the plan and --explain. */
export function negotiationOf(f: Facts): Negotiation {
  const { mode, voMode, origins } = f.config;
  const r = negotiate(mode, voMode, jobNamesImage(f));
  return {
    site: mode,
    siteOrigin: origins.get('CJW_MODE') ?? 'default',
    vo: voMode,
    voOrigin: origins.get('CJW_VO_MODE') ?? 'default',
    request: r.request,
    effective: r.effective,
    reason: r.reason,
  };
}

function policyWords(n: Negotiation): string {
  return `site CJW_MODE=${n.site} and request CJW_VO_MODE=${n.vo}`;
}

function failError(n: Negotiation): WrapperError {
  return new WrapperError('negotiation.fail', 'container policy', `${policyWords(n)} cannot both hold (negotiation table: FAIL)`);
}

function unusableError(path: string, n: Negotiation): WrapperError {
  const policy = n.effective === 'FAIL' ? `${policyWords(n)} cannot both hold` : `policy ${n.effective} (${policyWords(n)}) forbids running the job without a container`;
  return new WrapperError('runtime.unusable', `container runtime ${path}`, `missing or not executable, and ${policy}`);
}

function unusableWarning(path: string, n: Negotiation): string {
  return `container runtime ${path} is missing or not executable; policy ${n.effective} (${policyWords(n)}) allows running without a container, so the job runs uncontained`;
}

/**
 * Where an inside path of the starter's line is on the host, through the bind that carries it
 * (the longest destination that contains it; a later bind to the same place wins).
 */
function hostPathOf(p: string, binds: readonly BindSpecParts[]): string | undefined {
  const reversed = binds.map((b) => ({ src: b.dst, dst: b.src, opts: b.opts }));
  return insidePath(p, reversed);
}

/**
 * The payload to run on the host when the starter's runtime is unusable: the argv after the
 * image without HTCondor's launcher, its program mapped back out of the target dir
 * (`/srv//echo` is `SCRATCH/echo` on the host). Arguments stay opaque.
 */
export function hostPayload(inv: Invocation): { argv: readonly string[]; mapped?: { from: string; to: string } } {
  const payload = payloadWithoutLauncher(inv);
  const [program, ...args] = payload;
  if (program === undefined || !program.startsWith('/')) return { argv: payload };
  const host = hostPathOf(program, bindsOf(inv));
  if (host === undefined || host === normalize(program)) return { argv: payload };
  return { argv: [host, ...args], mapped: { from: program, to: host } };
}

function withoutInvocation(d: Draft, uncontained: readonly string[]): Draft {
  // The key must go (not be undefined): exactOptionalPropertyTypes, and "no invocation" means uncontained.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { invocation, ...rest } = d;
  return { ...rest, uncontained };
}

/** Starter-built (S4): the starter's decision stands; policy matters only when its runtime is unusable. */
function starterBuilt(d: Draft, inv: Invocation, f: Facts): Draft {
  if (f.runtime === undefined || f.runtime.usable) return d;
  const n = negotiationOf(f);
  if (n.effective === 'REQUIRED' || n.effective === 'FAIL') throw unusableError(inv.runtime, n);
  const { argv, mapped } = hostPayload(inv);
  if (argv.length === 0) throw unusableError(inv.runtime, n);
  let out = withoutInvocation({ ...d, negotiation: n }, argv);
  out = addChange(out, RULE, 'runs the payload without the container', `the starter's runtime ${inv.runtime} is missing or not executable and policy ${n.effective} allows it (${n.reason})`);
  if (mapped !== undefined) {
    out = addChange(out, RULE, `payload ${mapped.from} -> ${mapped.to}`, 'the starter wrote the path as seen inside the container; on the host it is where the bind comes from');
  }
  return addWarning(out, unusableWarning(inv.runtime, n));
}

/** Wrapper-built (S4): FAIL stops; NEVER/DISABLE run as given; a container needs a usable runtime. */
function wrapperBuilt(d: Draft, f: Facts): Draft {
  const n = negotiationOf(f);
  const out: Draft = { ...d, negotiation: n };
  if (n.effective === 'FAIL') throw failError(n);
  if (n.effective === 'NEVER' || n.effective === 'DISABLE') {
    return addChange(out, RULE, 'runs the job without a container', n.reason);
  }
  const runtime = f.runtime;
  if (runtime !== undefined && runtime.usable) return out; // wrapperBuilt builds the line
  const path = runtime?.path ?? '(none configured)';
  if (n.effective === 'REQUIRED') throw unusableError(path, n);
  const fallback = addChange(out, RULE, 'runs the job without a container', `the runtime ${path} is missing or not executable and policy PREFERRED allows it (${n.reason})`);
  return addWarning(fallback, unusableWarning(path, n));
}

export const negotiateRule: Rule = {
  name: RULE,
  appliesTo: 'always',
  apply(d, f) {
    if (d.dispatch === 'passthrough') return d;
    if (d.invocation !== undefined) return starterBuilt(d, d.invocation, f);
    return wrapperBuilt(d, f);
  },
};

/** True when the negotiated policy asks for a container (the wrapperBuilt rule builds one). */
export function wantsContainer(n: Negotiation | undefined): boolean {
  return n !== undefined && (n.effective === 'PREFERRED' || n.effective === 'REQUIRED');
}
