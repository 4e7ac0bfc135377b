// Image (SPEC S5.3): the image must be allowed (CJW_IMAGE_ALLOW, by realpath) and exist; a
// symlinked image (`/cvmfs/…:latest`) is replaced by its realpath so the job sees one stable
// image; a missing image under an unreachable /cvmfs repository is the node's fault, not the job's.
// A relative image is the copy HTCondor transferred into the scratch dir (container universe,
// transfer_container defaults to true): the node's own copy of the job ad's ContainerImage runs
// instead when the site allows that path, else the job is told to set transfer_container = false.

import { Exit, WrapperError } from '../../errors';
import { cvmfsRepository, isTransferredImage, isUri, transferredImageOrigin } from '../../facts/paths';
import type { Facts } from '../../facts/types';
import { firstMatch } from '../glob';
import { normalize } from '../paths';
import { addChange, type Draft } from '../plan';
import type { Rule } from './index';

export const RULE = 'image';

/** Images the site itself names (CJW_DEFAULT_IMAGE, CJW_IMAGES) are allowed by definition. */
function siteImage(f: Facts, image: string): string | undefined {
  if (f.config.defaultImage !== '' && image === f.config.defaultImage) return 'CJW_DEFAULT_IMAGE';
  for (const [os, img] of f.config.images) if (img === image) return `CJW_IMAGES (${os})`;
  return undefined;
}

function notAllowed(image: string, why: string): WrapperError {
  return new WrapperError('image.not-allowed', `image ${image}`, why);
}

const TRANSFER_FIX = 'submit with transfer_container = false and an image path the site allows';

/**
 * S5.3, transferred image: the line names the job's own copy in the scratch dir. With
 * CJW_IMAGE_ALLOW set, only the node's copy of the job ad's image may run; undefined means the
 * allow list is unset and the transferred copy runs as it is (checked like any other path).
 */
function nodeCopyOf(d: Draft, f: Facts, image: string): Draft | undefined {
  const allow = f.config.imageAllow;
  if (allow.length === 0) return undefined;
  const inv = d.invocation;
  if (inv === undefined) return undefined;
  const came = `image ${image}`;
  const intro = 'came with the job (HTCondor transferred it into the scratch dir: transfer_container defaults to true), and a transferred copy is the job\'s own file';
  const ad = transferredImageOrigin(f.jobAd, image);
  const globs = `CJW_IMAGE_ALLOW (${allow.join(', ')})`;
  if (ad === undefined) {
    const none = f.jobAd === undefined ? 'no job ad was read (_CONDOR_JOB_AD), so no ContainerImageFullPath, ContainerImage or SingularityImage is known' : 'the job ad names no ContainerImageFullPath, ContainerImage or SingularityImage';
    throw notAllowed(image, `${intro}; ${none} that this node could run instead; ${TRANSFER_FIX} (${globs})`);
  }
  const named = `the job ad's ${ad.attr} ${ad.value}`;
  if (!ad.value.startsWith('/') || isUri(ad.value)) {
    throw notAllowed(image, `${intro}; ${named} is not an absolute path on this node; ${TRANSFER_FIX} (${globs})`);
  }
  const bySite = siteImage(f, ad.value);
  const fact = f.paths.get(ad.value);
  if (fact === undefined) throw new WrapperError('internal.bug', 'internal error', `the image ${ad.value} was not probed (facts/paths.ts); please report it`);
  if (fact.kind === 'missing' || fact.kind === 'other') {
    const repo = cvmfsRepository(normalize(ad.value));
    if (repo !== undefined && f.paths.get(repo)?.kind !== 'dir') {
      throw new WrapperError('image.repository-unreachable', `image ${ad.value} (${ad.attr})`, `the CVMFS repository ${repo} is not reachable on this node (not mounted or automount failed)`);
    }
    throw notAllowed(image, `${intro}; ${named} ${fact.kind === 'missing' ? 'does not exist on this node' : 'is neither a directory (sandbox) nor an image file'}; ${TRANSFER_FIX} (${globs})`);
  }
  const real = fact.real ?? ad.value;
  const hit = bySite ?? firstMatch(allow, real);
  if (hit === undefined) {
    const resolves = real === ad.value ? '' : ` (it resolves to ${real})`;
    throw notAllowed(image, `${intro}; ${named}${resolves} matches no CJW_IMAGE_ALLOW glob (${allow.join(', ')}) either; ${TRANSFER_FIX}`);
  }
  const how = bySite === undefined ? `its realpath ${real} matches the CJW_IMAGE_ALLOW glob ${hit}` : `it is the site's ${bySite}`;
  return addChange({ ...d, invocation: { ...inv, image: real } }, RULE, `${came} -> ${real}`, `the image was transferred with the job (a relative path in the scratch dir); ${named} is on this node and allowed (${how}), so the node's own copy runs: the transferred copy is the job's file and proves nothing (transfer_container = false avoids the copy)`);
}

export function applyImage(d: Draft, f: Facts): Draft {
  const inv = d.invocation;
  if (inv === undefined) return d;
  const image = inv.image;
  const allow = f.config.imageAllow;
  // An empty argument is no path at all (nothing probes it): the job's request is malformed.
  if (image === '') throw new WrapperError('image.empty', 'image ""', 'the runtime line names an empty image');
  if (d.dispatch === 'starter-built' && isTransferredImage(image)) {
    const node = nodeCopyOf(d, f, image);
    if (node !== undefined) return node;
  }
  const bySite = siteImage(f, image);

  if (isUri(image)) {
    if (bySite !== undefined) return d;
    const hit = firstMatch(allow, image);
    if (hit === undefined) {
      const why = allow.length === 0
        ? 'a URI image is fetched from the network and is allowed only when CJW_IMAGE_ALLOW lists it (it is empty)'
        : `matches no CJW_IMAGE_ALLOW glob (${allow.join(', ')})`;
      throw notAllowed(image, why);
    }
    return addChange(d, RULE, `image ${image} allowed`, `it matches the CJW_IMAGE_ALLOW glob ${hit}`);
  }

  const fact = f.paths.get(image);
  if (fact === undefined) throw new WrapperError('internal.bug', 'internal error', `the image ${image} was not probed (facts/paths.ts); please report it`);
  if (fact.kind === 'missing') {
    const repo = cvmfsRepository(normalize(image));
    if (repo !== undefined && f.paths.get(repo)?.kind !== 'dir') {
      throw new WrapperError('image.repository-unreachable', `image ${image}`, `the CVMFS repository ${repo} is not reachable on this node (not mounted or automount failed)`);
    }
    if (bySite !== undefined) {
      // The site named it: its absence is the node's problem (requeue), not the job owner's.
      throw new WrapperError('image.missing', `image ${image} (${bySite})`, 'does not exist on this node; the site must fix its image setting or the node', { code: Exit.CONFIG });
    }
    throw new WrapperError('image.missing', `image ${image}`, repo === undefined ? 'does not exist' : `does not exist (the repository ${repo} is there, the path is not)`);
  }
  if (fact.kind === 'other') throw new WrapperError('image.missing', `image ${image}`, 'is neither a directory (sandbox) nor an image file');

  const real = fact.real ?? image;
  let out = d;
  if (bySite === undefined && allow.length > 0) {
    const hit = firstMatch(allow, real);
    if (hit === undefined) {
      const resolves = real === image ? '' : ` (it resolves to ${real})`;
      throw notAllowed(image, `${image}${resolves} matches no CJW_IMAGE_ALLOW glob (${allow.join(', ')})`);
    }
    out = addChange(out, RULE, `image ${image} allowed`, `its realpath ${real} matches the CJW_IMAGE_ALLOW glob ${hit}`);
  }
  if (real !== image) {
    out = addChange({ ...out, invocation: { ...inv, image: real } }, RULE, `image ${image} -> ${real}`, 'the image path is a symlink (or relative): its realpath is used so the job sees one stable image even if the link moves');
  }
  return out;
}

export const imageRule: Rule = {
  name: RULE,
  appliesTo: 'contained',
  apply: applyImage,
};
