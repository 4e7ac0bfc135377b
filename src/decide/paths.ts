// Path arithmetic by whole components: the anti-example (glideinWMS) rewrote /scratch/dir_10
// when it meant /scratch/dir_1. Every rule that maps a host path into the container uses this.

import { posix } from 'node:path';
import type { Invocation } from '../invocation/model';

/** Normalizes "//srv/./x/" to "/srv/x" (HTCondor emits doubled slashes with a target dir). */
export function normalize(p: string): string {
  // Most paths are already normal: then posix.normalize, a character loop that runs for every
  // component of every path in every rule, would return them unchanged.
  // (`/.` also catches names such as `/.hidden`: those take the slow way, to the same result.)
  if (p.startsWith('/') && !p.includes('//') && !p.includes('/.') && (p.length === 1 || !p.endsWith('/'))) return p;
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** True when `p` is `dir` or lies below it, by whole components. */
export function isWithin(p: string, dir: string): boolean {
  const a = normalize(p);
  const d = normalize(dir);
  return a === d || a.startsWith(d === '/' ? '/' : `${d}/`);
}

/** A bind spec `src[:dst[:opts]]` as the runtimes read it (no escapes: they have none). */
export interface BindSpecParts {
  readonly src: string;
  readonly dst: string;
  readonly opts: string;
}

export function parseBindSpec(spec: string): BindSpecParts {
  const [src = '', dst, ...rest] = spec.split(':');
  return { src, dst: dst === undefined || dst === '' ? src : dst, opts: rest.join(':') };
}

/** The binds of an invocation in order: each `-B a,b` value split on commas. */
export function bindsOf(inv: Invocation): BindSpecParts[] {
  const out: BindSpecParts[] = [];
  for (const g of inv.flags) {
    for (const f of g.flags) {
      if (f.def.meaning !== 'bind' || f.value === undefined) continue;
      for (const spec of f.value.split(',')) if (spec !== '') out.push(parseBindSpec(spec));
    }
  }
  return out;
}

/**
 * Where the host path `p` appears inside the container, through the bind that really carries
 * it (the longest source that contains it; a later bind to the same place wins, as in the
 * runtimes). Undefined when no bind carries it.
 */
export function insidePath(p: string, binds: readonly BindSpecParts[]): string | undefined {
  let best: BindSpecParts | undefined;
  for (const b of binds) {
    if (!isWithin(p, b.src)) continue;
    if (best === undefined || normalize(b.src).length >= normalize(best.src).length) best = b;
  }
  if (best === undefined) return undefined;
  const rest = normalize(p).slice(normalize(best.src).length);
  return normalize(`${best.dst}${rest}`);
}
