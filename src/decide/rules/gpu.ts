// GPUs (SPEC S5.5): a slot that was assigned GPUs gets the site's GPU flag (CJW_GPU_FLAG) exactly
// once, so that the container sees the devices and driver libraries; a GPU-less slot never does.

import { getAttr } from '../../facts/classad';
import { WrapperError } from '../../errors';
import type { ClassAd, Facts } from '../../facts/types';
import { tableFor } from '../../invocation/families/index';
import { allFlags, groupFor } from '../../invocation/model';
import { addChange, addWarning, type Draft } from '../plan';
import { displayRuntime, isOn, missingFlagReason } from './compat';
import type { Rule } from './index';

export const RULE = 'gpu';

/**
 * HTCondor's markers for "no GPU": it sets `10000` (and NVIDIA_VISIBLE_DEVICES=none) on slots
 * without GPUs; empty entries carry nothing either.
 */
const NONE_MARKERS = new Set(['', '10000', 'none']);

/**
 * The GPUs assigned to the slot, from the starter-written machine ad (never the job's env, which
 * the job controls). A string of ids separated by commas/spaces, a list, or a bare integer.
 */
export function assignedGpus(machineAd: ClassAd | undefined): readonly string[] {
  const v = getAttr(machineAd, 'AssignedGPUs');
  let ids: string[];
  if (v === undefined || v.type === 'undefined') ids = [];
  else if (v.type === 'string') ids = v.value.split(/[\s,]+/);
  else if (v.type === 'integer') ids = [String(v.value)];
  else if (v.type === 'list') ids = v.items.map((i) => (i.type === 'string' ? i.value : i.type === 'integer' ? String(i.value) : ''));
  else {
    // The machine ad is the node's: a value we cannot read is a node error (the job is requeued).
    throw new WrapperError('machinead.bad', `machine ad ${machineAd?.file ?? ''}: AssignedGPUs`, `expected a string of GPU ids, got ${v.type}`);
  }
  return ids.map((g) => g.trim()).filter((g) => !NONE_MARKERS.has(g.toLowerCase()));
}

export function applyGpu(d: Draft, f: Facts): Draft {
  const inv = d.invocation;
  if (inv === undefined) return d;
  const gpus = assignedGpus(f.machineAd);
  if (gpus.length === 0) return d;
  const flag = f.config.gpuFlag;
  if (allFlags(inv).some((x) => x.def.names.includes(flag) && isOn(x))) return d;
  const rt = { family: inv.family, ...(f.runtime?.version === undefined ? {} : { version: f.runtime.version }) };
  const def = tableFor(inv.family).actions[inv.action.join(' ')]?.find((x) => x.names.includes(flag));
  const missing = def === undefined ? `${displayRuntime(rt)} has no ${flag}` : missingFlagReason(rt, flag, inv.action);
  if (def === undefined || missing !== undefined) {
    // Not an error per job: the node would fail every GPU job. --check reports it (78) so that
    // the STARTD_CRON health check takes the node out of matching instead.
    const why = `${missing ?? ''}: the job runs without ${flag}; fix CJW_GPU_FLAG (condor-job-wrapper --check reports it)`;
    return addWarning(addChange(d, RULE, `not added ${flag}`, `the slot was assigned GPUs ${gpus.join(',')}, but ${why}`), `GPU flag ${flag} not added: ${why}`);
  }
  const group = groupFor(def);
  return addChange(
    { ...d, invocation: { ...inv, flags: [...inv.flags, group] } },
    RULE,
    `added ${group.raw.join(' ')}`,
    `the slot was assigned GPUs ${gpus.join(',')} (machine ad AssignedGPUs); CJW_GPU_FLAG=${flag}`,
  );
}

export const gpuRule: Rule = { name: RULE, appliesTo: 'contained', apply: applyGpu };
