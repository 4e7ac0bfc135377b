// Facts are plain data handed to the decide step: everything it needs to know about the job, the
// site and the host, gathered at the edge (facts/gather.ts) and only when a rule needs it.

import type { FamilyId } from '../invocation/flagTable';
import type { Config } from './config/schema';

/** A ClassAd value as read from `.job.ad` / `.machine.ad`; expressions are kept as text. */
export type AdValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'real'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'undefined' }
  | { readonly type: 'error' }
  | { readonly type: 'list'; readonly items: readonly AdValue[] }
  | { readonly type: 'expression'; readonly text: string };

/** Attribute names are case-insensitive in HTCondor: keys here are lower-cased. */
export interface ClassAd {
  readonly file: string;
  readonly attrs: ReadonlyMap<string, AdValue>;
}

export interface PathFact {
  readonly path: string;
  readonly kind: 'file' | 'dir' | 'other' | 'missing';
  /** realpath(3) of the path when it exists. */
  readonly real?: string;
  readonly executable?: boolean;
}

export interface RuntimeFact {
  readonly path: string;
  /** Exists and is executable (no subprocess spent on it, SPEC S4). */
  readonly usable: boolean;
  readonly family: FamilyId;
  /** e.g. "3.4.2", "1.3.4", "2.6.1"; absent when unknown. */
  readonly version?: string;
  /** Where family/version came from. */
  readonly source: 'cache' | 'probe' | 'basename';
}

export interface NestedFact {
  readonly inside: boolean;
  /** Why we think so, for --explain: "/.singularity.d exists", "uid_map 0 1001 1", "CJW_NESTED=yes". */
  readonly evidence: string;
  /** Inside only: whether the wrapper runs as root (a setuid runtime then still works). */
  readonly asRoot?: boolean;
  /** Inside, not root, no -u on the line: whether the runtime is a setuid install (facts/host.ts). */
  readonly runtimeSetuid?: SetuidFact;
}

/** Whether a runtime starts containers through a setuid-root helper, and what showed it. */
export interface SetuidFact {
  readonly setuid: boolean;
  readonly evidence: string;
}

/** A hook found in a hook directory (not yet run). */
export interface HookFile {
  readonly stage: 'setup' | 'test' | 'inside';
  readonly path: string;
  readonly name: string;
}

/** What a setup hook contributed through CJW_HOOK_OUTPUT, checked later by the same policy. */
export interface HookContribution {
  readonly hook: string;
  readonly binds: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}

/** The job's scratch dir (`_CONDOR_SCRATCH_DIR`: the starter sets it over the job's own value). */
export interface ScratchFact {
  readonly path: string;
  readonly kind: PathFact['kind'];
  /** Set when --explain assumed the path (no starter around): says what was assumed. */
  readonly assumed?: string;
}

export interface Facts {
  /** The job's environment exactly as the starter gave it: input, never policy. */
  readonly env: ReadonlyMap<string, string>;
  readonly config: Config;
  readonly cwd: string;
  readonly jobAd?: ClassAd;
  readonly machineAd?: ClassAd;
  readonly runtime?: RuntimeFact;
  readonly nested?: NestedFact;
  /** Wrapper-built mode only: where the job's sandbox is (absent when the starter did not say). */
  readonly scratch?: ScratchFact;
  /** Probed paths (stat + realpath), keyed by the path as written. */
  readonly paths: ReadonlyMap<string, PathFact>;
  readonly hooks: readonly HookFile[];
  readonly contributions: readonly HookContribution[];
  /** --explain only: what could not be known on this node (ads gone, scratch dir assumed), in words. */
  readonly unknowns?: readonly string[];
}
