// Path probes (stat, then realpath) for exactly the paths the bind and image rules will look at:
// the image, site and job bind sources, hook bind sources, and the /cvmfs repository root of a
// missing image. The stat comes first because it is what triggers a /cvmfs automount.

import { realpathSync, statSync } from 'node:fs';
import { getString, getStringList } from './classad';
import type { Config } from './config/schema';
import type { ClassAd, Facts, HookContribution, PathFact } from './types';
import type { DispatchMode } from '../decide/plan';
import type { Invocation } from '../invocation/model';
import { parseBindSpec } from '../decide/paths';
import { chooseImage } from '../decide/rules/wrapperBuilt';

/** `docker://…`, `oras://…`, `library://…`: an image the runtime fetches, not a local path. */
export function isUri(image: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(image);
}

/**
 * A relative image on the starter's line: the copy HTCondor transferred into the scratch dir
 * (container universe, transfer_container defaults to true), named relative to its cwd.
 */
export function isTransferredImage(image: string): boolean {
  return image !== '' && !image.startsWith('/') && !isUri(image);
}

/**
 * Where the job ad names the image a transferred copy came from, in order. HTCondor rewrites
 * ContainerImage to the copy's basename; 25.14.1 keeps the submitted path in
 * ContainerImageFullPath, 23.9.6 only in TransferInput (both seen on the pool with
 * container_image = /img/busybox-sandbox: ContainerImage = "busybox-sandbox").
 */
export const TRANSFERRED_IMAGE_ATTRS = ['ContainerImageFullPath', 'ContainerImage', 'SingularityImage'] as const;

/**
 * The job ad's origin of the transferred copy `image`: the first absolute path among
 * TRANSFERRED_IMAGE_ATTRS, else the absolute TransferInput entry whose basename is `image`, else
 * the first value found (for the message), else undefined. A non-string attribute is skipped.
 */
export function transferredImageOrigin(jobAd: ClassAd | undefined, image: string): { attr: string; value: string } | undefined {
  let first: { attr: string; value: string } | undefined;
  for (const attr of TRANSFERRED_IMAGE_ATTRS) {
    const value = quietly(() => getString(jobAd, attr))?.trim();
    if (value === undefined || value === '') continue;
    if (value.startsWith('/')) return { attr, value };
    first ??= { attr, value };
  }
  const base = image.replace(/\/+$/, '');
  const inputs = quietly(() => getString(jobAd, 'TransferInput')) ?? '';
  for (const entry of inputs.split(',').map((e) => e.trim().replace(/\/+$/, ''))) {
    if (entry.startsWith('/') && entry.slice(entry.lastIndexOf('/') + 1) === base) return { attr: 'TransferInput', value: entry };
  }
  return first;
}

/** `/cvmfs/<repo>` for a path below a CVMFS repository, else undefined. */
export function cvmfsRepository(path: string): string | undefined {
  const m = /^\/cvmfs\/([^/]+)(?:\/|$)/.exec(path);
  return m?.[1] === undefined ? undefined : `/cvmfs/${m[1]}`;
}

export function probePath(path: string): PathFact {
  let kind: PathFact['kind'];
  try {
    const st = statSync(path);
    kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    // ENOENT, EACCES, ELOOP, ENOTDIR…: the job user cannot reach it, as the runtime could not.
    return { path, kind: 'missing' };
  }
  try {
    return { path, kind, real: realpathSync.native(path) };
  } catch {
    return { path, kind };
  }
}

export function probePaths(paths: Iterable<string>, into = new Map<string, PathFact>()): Map<string, PathFact> {
  for (const p of paths) if (p !== '' && !into.has(p)) into.set(p, probePath(p));
  return into;
}

/** Reads an ad attribute for probing only: a bad value is reported later by the rule that reads it. */
function quietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

export interface PathProbeInput {
  readonly dispatch: DispatchMode;
  readonly invocation?: Invocation;
  readonly config: Config;
  readonly jobAd?: ClassAd;
  /** The wrapper's cwd: a relative job image is relative to it (as the wrapperBuilt rule reads it). */
  readonly cwd: string;
}

/** The job's `SingularityBind` entries (split on commas and spaces), for probing. */
function jobBindEntries(jobAd: ClassAd | undefined): readonly string[] {
  return quietly(() => getStringList(jobAd, 'SingularityBind')) ?? [];
}

/** The images and bind sources the rules will look at. */
export function pathsToProbe(input: PathProbeInput): { images: string[]; bindSources: string[] } {
  const { invocation, config, jobAd } = input;
  const images: string[] = [];
  const bindSources = config.binds.map((b) => b.src);
  const entries = jobBindEntries(jobAd);
  if (invocation !== undefined) {
    images.push(invocation.image);
    // A transferred copy: the image rule looks at the node's copy of the job ad's image instead.
    if (input.dispatch === 'starter-built' && isTransferredImage(invocation.image) && config.imageAllow.length > 0) {
      const origin = transferredImageOrigin(jobAd, invocation.image);
      if (origin !== undefined) images.push(origin.value);
    }
    // Only the starter's -B values that are job-requested get a policy check (and a probe).
    const wanted = new Set(entries);
    for (const g of invocation.flags) {
      for (const f of g.flags) {
        if (f.def.meaning !== 'bind' || f.value === undefined || !wanted.has(f.value)) continue;
        // As the runtime (and the binds rule) reads a -B: a comma list of specs.
        for (const spec of f.value.split(',')) if (spec !== '') bindSources.push(parseBindSpec(spec).src);
      }
    }
  }
  if (input.dispatch === 'wrapper-built') {
    // The same choice the wrapperBuilt rule makes, so exactly that image is probed.
    const chosen = quietly(() => chooseImage(jobAd, config, input.cwd).image);
    if (chosen !== undefined) images.push(chosen);
    for (const e of entries) bindSources.push(parseBindSpec(e).src);
  }
  return { images: images.filter((i) => i !== '' && !isUri(i)), bindSources };
}

/** Probes the paths of pathsToProbe, plus the /cvmfs repository root of each missing image. */
export function gatherPaths(input: PathProbeInput): Map<string, PathFact> {
  const { images, bindSources } = pathsToProbe(input);
  const facts = probePaths([...images, ...bindSources]);
  for (const image of images) {
    const repo = cvmfsRepository(image);
    if (repo !== undefined && facts.get(image)?.kind === 'missing') probePaths([repo], facts);
  }
  return facts;
}

/** The bind sources a setup hook contributed (CJW_ADD_BIND=src[:dst[:opts]]). */
export function hookBindSources(contributions: readonly HookContribution[]): string[] {
  return contributions.flatMap((c) => c.binds.map((b) => parseBindSpec(b).src));
}

/**
 * Facts with the hook bind sources probed as well: call after the setup hooks ran and before
 * decide, so the binds rule can check them like any other source.
 */
export function withHookBindPaths(facts: Facts): Facts {
  const sources = hookBindSources(facts.contributions).filter((s) => !facts.paths.has(s));
  if (sources.length === 0) return facts;
  return { ...facts, paths: probePaths(sources, new Map(facts.paths)) };
}
