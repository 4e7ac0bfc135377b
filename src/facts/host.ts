// Host facts that the job cannot forge: whether the wrapper runs inside a container (SPEC S5.1)
// and whether the runtime is a setuid install (which cannot start inside one). Probed lazily:
// a stat and a 40-byte read, and only when the line has something a nested run would change.

import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestedSetting } from './config/schema';
import type { FamilyId } from '../invocation/flagTable';
import { allFlags, type Invocation } from '../invocation/model';
import type { NestedFact, SetuidFact } from './types';

/** The few reads the probes need, injectable so the table tests never depend on the host. */
export interface HostProbe {
  exists(path: string): boolean;
  /** Text of the file, or undefined when it cannot be read. */
  read(path: string): string | undefined;
  /** Mode and owner of the file (following symlinks), or undefined when absent. */
  stat(path: string): { mode: number; uid: number } | undefined;
  realpath(path: string): string | undefined;
  uid(): number;
}

export const nodeHostProbe: HostProbe = {
  exists: (path) => statOrUndefined(path) !== undefined,
  read: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  stat: statOrUndefined,
  realpath: (path) => {
    try {
      return realpathSync.native(path);
    } catch {
      return undefined;
    }
  },
  uid: () => process.getuid?.() ?? -1,
};

function statOrUndefined(path: string): { mode: number; uid: number } | undefined {
  try {
    const s = statSync(path);
    return { mode: s.mode, uid: s.uid };
  } catch {
    return undefined;
  }
}

/** The identity map of the initial user namespace: any other map means we are in a new one. */
export function isIdentityUidMap(text: string): boolean {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.length === 1 && /^0\s+0\s+4294967295$/.test(lines[0] ?? '');
}

/**
 * Whether the wrapper runs inside a container. `auto` trusts only what a job cannot create or
 * fake: `/.singularity.d` (made by the outer runtime, in a root-owned image) and the kernel's
 * uid_map. APPTAINER_CONTAINER / SINGULARITY_CONTAINER are the job's environment: never read.
 */
export function detectNested(setting: NestedSetting, probe: HostProbe = nodeHostProbe): NestedFact {
  if (setting === 'yes') return { inside: true, evidence: 'CJW_NESTED=yes' };
  if (setting === 'no') return { inside: false, evidence: 'CJW_NESTED=no' };
  if (probe.exists('/.singularity.d')) return { inside: true, evidence: '/.singularity.d exists' };
  const map = probe.read('/proc/self/uid_map');
  if (map !== undefined && !isIdentityUidMap(map)) {
    return { inside: true, evidence: `/proc/self/uid_map is "${map.trim().replace(/\s+/g, ' ')}" (a user namespace)` };
  }
  return { inside: false, evidence: map === undefined ? 'no /.singularity.d, uid_map unreadable' : 'no /.singularity.d, identity uid_map' };
}

/** The setuid helper of each family's install layout, relative to the install prefix. */
const SETUID_HELPERS: Readonly<Record<FamilyId, readonly string[]>> = {
  singularity2: ['libexec/singularity/bin/action-suid'],
  singularity3: ['libexec/singularity/bin/starter-suid'],
  apptainer: ['libexec/apptainer/bin/starter-suid'],
};

const CONFIG_FILES: Readonly<Record<FamilyId, string>> = {
  singularity2: 'singularity/singularity.conf',
  singularity3: 'singularity/singularity.conf',
  apptainer: 'apptainer/apptainer.conf',
};

/** `allow setuid = no` in the runtime's config turns a setuid install into an unprivileged one. */
function setuidAllowed(prefix: string, family: FamilyId, probe: HostProbe): boolean {
  const rel = CONFIG_FILES[family];
  // A /usr install keeps its config in /etc; a /opt/X install in /opt/X/etc.
  const candidates = prefix === '/usr' ? [join('/etc', rel)] : [join(prefix, 'etc', rel), join('/etc', rel)];
  for (const c of candidates) {
    const text = probe.read(c);
    if (text === undefined) continue;
    const m = /^\s*allow setuid\s*=\s*(\S+)/m.exec(text);
    return m?.[1]?.toLowerCase() !== 'no';
  }
  return true;
}

/**
 * Whether `runtime` starts containers through a setuid-root helper (from the install layout:
 * `<prefix>/libexec/.../starter-suid` or 2.6's `action-suid` with mode 4xxx, owned by root).
 * Inside a container such a helper cannot work (no-new-privs): "Failed to set effective UID to 0".
 */
export function detectSetuidRuntime(runtime: string, family: FamilyId, probe: HostProbe = nodeHostProbe): SetuidFact {
  const real = probe.realpath(runtime) ?? runtime;
  const prefix = dirname(dirname(real));
  for (const rel of SETUID_HELPERS[family]) {
    const helper = join(prefix, rel);
    const st = probe.stat(helper);
    if (st === undefined || st.uid !== 0 || (st.mode & 0o4000) === 0) continue;
    if (!setuidAllowed(prefix, family, probe)) return { setuid: false, evidence: `${helper} is setuid but the config says "allow setuid = no"` };
    return { setuid: true, evidence: `${helper} is setuid root` };
  }
  return { setuid: false, evidence: `no setuid helper under ${prefix}/libexec` };
}

/** Flags a nested run changes or needs: -C/--containall, -p/--pid, and -u/--userns (setuid check). */
function lineNeedsNestedFact(inv: Invocation): boolean {
  const meanings = new Set(allFlags(inv).map((f) => f.def.meaning));
  return meanings.has('containall') || meanings.has('pid') || !meanings.has('userns');
}

/**
 * The nested fact for a runtime line (or, in wrapper-built mode before the line exists, for the
 * chosen runtime), probed only when the line has something to change. The setuid probe runs only
 * inside a container, for a non-root user, without -u on the line.
 */
export function nestedFactFor(
  setting: NestedSetting,
  inv: Invocation | undefined,
  runtime: { readonly path: string; readonly family: FamilyId },
  probe: HostProbe = nodeHostProbe,
): NestedFact | undefined {
  if (setting === 'no' || (inv !== undefined && !lineNeedsNestedFact(inv))) return undefined;
  const nested = detectNested(setting, probe);
  if (!nested.inside) return nested;
  const asRoot = probe.uid() === 0;
  const hasUserns = inv !== undefined && allFlags(inv).some((f) => f.def.meaning === 'userns');
  if (asRoot || hasUserns) return { ...nested, asRoot };
  return { ...nested, asRoot, runtimeSetuid: detectSetuidRuntime(inv?.runtime ?? runtime.path, inv?.family ?? runtime.family, probe) };
}
