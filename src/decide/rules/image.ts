// Image (SPEC S5.3): the image must be allowed (CJW_IMAGE_ALLOW, by realpath) and exist; a
// symlinked image (`/cvmfs/…:latest`) is replaced by its realpath so the job sees one stable
// image; a missing image under an unreachable /cvmfs repository is the node's fault, not the job's.

import { Exit, WrapperError } from '../../errors';
import { cvmfsRepository, isUri } from '../../facts/paths';
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

export function applyImage(d: Draft, f: Facts): Draft {
  const inv = d.invocation;
  if (inv === undefined) return d;
  const image = inv.image;
  const allow = f.config.imageAllow;
  // An empty argument is no path at all (nothing probes it): the job's request is malformed.
  if (image === '') throw new WrapperError('image.empty', 'image ""', 'the runtime line names an empty image');
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
