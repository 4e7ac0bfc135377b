// Table tests for the image rule (SPEC S5.3, S7): CJW_IMAGE_ALLOW by realpath, URIs only when
// listed, existence (sandbox dir or image file), the realpath of a symlinked image, and whose
// fault a missing image is (job: 66; unreachable /cvmfs repository or a site-named image: node).

import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initialDraft } from '../../../src/decide/decide';
import type { Draft } from '../../../src/decide/plan';
import { applyImage } from '../../../src/decide/rules/image';
import { parseConfig } from '../../../src/facts/config/load';
import { parseClassAd } from '../../../src/facts/classad';
import { gatherPaths, pathsToProbe } from '../../../src/facts/paths';
import type { ClassAd, Facts, PathFact } from '../../../src/facts/types';
import { tableFor } from '../../../src/invocation/families/index';
import { parseInvocation } from '../../../src/invocation/parse';
import { thrown } from './thrown';

type Kind = PathFact['kind'];

function facts(cfg: string, paths: Record<string, Kind | [Kind, string]> | Map<string, PathFact>): Facts {
  const map = paths instanceof Map ? paths : new Map<string, PathFact>(Object.entries(paths).map(([p, v]) => {
    const [kind, real] = Array.isArray(v) ? v : [v, p];
    return [p, kind === 'missing' ? { path: p, kind } : { path: p, kind, real }];
  }));
  return {
    env: new Map(),
    config: parseConfig(cfg === '' ? [] : [{ path: '/etc/condor-job-wrapper/wrapper.env', text: cfg }]),
    cwd: '/x/dir_1',
    paths: map,
    hooks: [],
    contributions: [],
  };
}

const argv = (image: string): string[] => ['/opt/singularity-3.4.2/bin/singularity', '-s', 'exec', '-B', '/x/dir_1:/srv', '-C', image, '/bin/true'];

function run(image: string, f: Facts): Draft {
  const invocation = parseInvocation(argv(image), tableFor('singularity3'));
  return applyImage(initialDraft({ dispatch: 'starter-built', invocation, command: argv(image) }, f), f);
}

const ALLOW = 'CJW_IMAGE_ALLOW="/cvmfs/singularity.opensciencegrid.org/**,/img/*.sif,docker://alpine:*"\n';
const OSG = '/cvmfs/singularity.opensciencegrid.org';

describe('image rule: allowed images pass, with the realpath', () => {
  it.each([
    // [cfg, image, paths, final image, change]
    ['', '/img/any.sif', { '/img/any.sif': 'file' }, '/img/any.sif', undefined],
    ['', '/img/sandbox', { '/img/sandbox': 'dir' }, '/img/sandbox', undefined],
    [ALLOW, `${OSG}/opensciencegrid/osgvo-el9:latest`, { [`${OSG}/opensciencegrid/osgvo-el9:latest`]: ['dir', `${OSG}/.images/ab/cd`] }, `${OSG}/.images/ab/cd`,
      `image ${OSG}/opensciencegrid/osgvo-el9:latest -> ${OSG}/.images/ab/cd | the image path is a symlink (or relative): its realpath is used so the job sees one stable image even if the link moves`],
    [ALLOW, '/img/el9.sif', { '/img/el9.sif': 'file' }, '/img/el9.sif', 'image /img/el9.sif allowed | its realpath /img/el9.sif matches the CJW_IMAGE_ALLOW glob /img/*.sif'],
    [ALLOW, 'docker://alpine:3', {}, 'docker://alpine:3', 'image docker://alpine:3 allowed | it matches the CJW_IMAGE_ALLOW glob docker://alpine:*'],
    ['CJW_IMAGES=el9=docker://site/img:1\n', 'docker://site/img:1', {}, 'docker://site/img:1', undefined],
    [`${ALLOW}CJW_IMAGES=rhel9=/site/el9.sif\n`, '/site/el9.sif', { '/site/el9.sif': 'file' }, '/site/el9.sif', undefined],
  ] as const)('%j %j', (cfg, image, paths, final, change) => {
    const d = run(image, facts(cfg, paths as Record<string, Kind | [Kind, string]>));
    expect(d.invocation?.image).toBe(final);
    expect(d.changes.map((c) => `${c.what} | ${c.reason}`).pop()).toBe(change);
  });
});

describe('image rule: refused and missing images', () => {
  it.each([
    // [cfg, image, paths, id, code, why]
    ['', 'docker://alpine', {}, 'image.not-allowed', 65, 'a URI image is fetched from the network and is allowed only when CJW_IMAGE_ALLOW lists it (it is empty)'],
    [ALLOW, 'docker://evil/alpine:3', {}, 'image.not-allowed', 65, 'matches no CJW_IMAGE_ALLOW glob (/cvmfs/singularity.opensciencegrid.org/**, /img/*.sif, docker://alpine:*)'],
    [ALLOW, '/home/me/evil.sif', { '/home/me/evil.sif': 'file' }, 'image.not-allowed', 65, '/home/me/evil.sif matches no CJW_IMAGE_ALLOW glob (/cvmfs/singularity.opensciencegrid.org/**, /img/*.sif, docker://alpine:*)'],
    [ALLOW, '/img/sub/el9.sif', { '/img/sub/el9.sif': 'file' }, 'image.not-allowed', 65, '/img/sub/el9.sif matches no CJW_IMAGE_ALLOW glob (/cvmfs/singularity.opensciencegrid.org/**, /img/*.sif, docker://alpine:*)'],
    [ALLOW, '/img/link.sif', { '/img/link.sif': ['file', '/home/me/evil.sif'] }, 'image.not-allowed', 65, '/img/link.sif (it resolves to /home/me/evil.sif) matches no CJW_IMAGE_ALLOW glob (/cvmfs/singularity.opensciencegrid.org/**, /img/*.sif, docker://alpine:*)'],
    [ALLOW, `${OSG}/../../home/me/x`, { [`${OSG}/../../home/me/x`]: ['dir', '/home/me/x'] }, 'image.not-allowed', 65, `${OSG}/../../home/me/x (it resolves to /home/me/x) matches no CJW_IMAGE_ALLOW glob (/cvmfs/singularity.opensciencegrid.org/**, /img/*.sif, docker://alpine:*)`],
    ['', '/img/gone.sif', { '/img/gone.sif': 'missing' }, 'image.missing', 66, 'does not exist'],
    ['', '/dev/null', { '/dev/null': 'other' }, 'image.missing', 66, 'is neither a directory (sandbox) nor an image file'],
    ['', `${OSG}/x/y:latest`, { [`${OSG}/x/y:latest`]: 'missing', [OSG]: 'dir' }, 'image.missing', 66, `does not exist (the repository ${OSG} is there, the path is not)`],
    ['', `${OSG}/x/y:latest`, { [`${OSG}/x/y:latest`]: 'missing', [OSG]: 'missing' }, 'image.repository-unreachable', 69, `the CVMFS repository ${OSG} is not reachable on this node (not mounted or automount failed)`],
    ['CJW_DEFAULT_IMAGE=/site/el9.sif\n', '/site/el9.sif', { '/site/el9.sif': 'missing' }, 'image.missing', 78, 'does not exist on this node; the site must fix its image setting or the node'],
  ] as const)('%j %j → %s', (cfg, image, paths, id, code, why) => {
    const e = thrown(() => run(image, facts(cfg, paths as Record<string, Kind | [Kind, string]>)));
    expect([e.id, e.code, e.why]).toEqual([id, code, why]);
    expect(e.errorClass).toBe(code >= 69 ? 'node' : 'job');
  });

  it('a 100 KB image path and one with a newline give one-line errors, quickly', () => {
    const long = `/img/${'a'.repeat(100 * 1024)}.sif`;
    const t0 = Date.now();
    const e = thrown(() => run(long, facts('CJW_IMAGE_ALLOW=/cvmfs/**\n', { [long]: 'file' })));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e.code).toBe(65);
    const nl = '/img/a\n/evil.sif';
    const e2 = thrown(() => run(nl, facts('CJW_IMAGE_ALLOW=/img/*\n', { [nl]: 'file' })));
    expect(e2.code).toBe(65);
    expect(e2.line.split('\n')).toHaveLength(1);
  });
});

describe('image rule with the real filesystem (facts/paths.ts probes)', () => {
  let root = '';
  beforeAll(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'cjw-image-')));
    mkdirSync(join(root, 'allowed/.images'), { recursive: true });
    mkdirSync(join(root, 'elsewhere'));
    writeFileSync(join(root, 'allowed/.images/v2.sif'), 'x');
    writeFileSync(join(root, 'elsewhere/evil.sif'), 'x');
    symlinkSync(join(root, 'allowed/.images/v2.sif'), join(root, 'allowed/latest.sif'));
    symlinkSync(join(root, 'elsewhere/evil.sif'), join(root, 'allowed/escape.sif'));
  });
  afterAll(() => { rmSync(root, { recursive: true, force: true }); });

  function probed(image: string, cfg: string): Facts {
    const f = facts(cfg, new Map());
    const invocation = parseInvocation(argv(image), tableFor('singularity3'));
    return { ...f, paths: gatherPaths({ dispatch: 'starter-built', invocation, config: f.config, cwd: '/' }) };
  }

  it('a symlinked image is replaced by its realpath', () => {
    const d = run(`${root}/allowed/latest.sif`, probed(`${root}/allowed/latest.sif`, `CJW_IMAGE_ALLOW=${root}/allowed/**\n`));
    expect(d.invocation?.image).toBe(`${root}/allowed/.images/v2.sif`);
  });

  it('a symlink out of the allowed tree is refused', () => {
    const e = thrown(() => run(`${root}/allowed/escape.sif`, probed(`${root}/allowed/escape.sif`, `CJW_IMAGE_ALLOW=${root}/allowed/**\n`)));
    expect(e.why).toContain(`(it resolves to ${root}/elsewhere/evil.sif)`);
  });

  it('a missing image outside /cvmfs is the job\'s 66', () => {
    const e = thrown(() => run(`${root}/nope.sif`, probed(`${root}/nope.sif`, '')));
    expect([e.id, e.code]).toEqual(['image.missing', 66]);
  });

  it('a missing /cvmfs repository is the node\'s 69 (the repository root was probed)', () => {
    const image = '/cvmfs/no-such-repo.example.org/img:latest';
    const f = probed(image, '');
    expect(f.paths.get('/cvmfs/no-such-repo.example.org')?.kind).toBe('missing');
    const e = thrown(() => run(image, f));
    expect([e.id, e.code]).toEqual(['image.repository-unreachable', 69]);
  });
});

// S5.3, the transferred image (issue 16, item 1): HTCondor 25.14.1 with container_image =
// /img/busybox-sandbox and the default transfer_container = true puts `-C busybox-sandbox` on the
// line (shared/pool/README.md, "Verified"); the copy is the job's file, the node's copy the site's.
describe('image rule: an image HTCondor transferred into the scratch dir (relative on the line)', () => {
  const ad = (attrs: string): ClassAd => parseClassAd(attrs, '/x/dir_1/.job.ad');
  const withAd = (f: Facts, attrs: string): Facts => ({ ...f, jobAd: ad(attrs) });
  // The tables are `as const` (readonly tuples); facts() takes the mutable shape.
  const table = (paths: object): Record<string, Kind | [Kind, string]> => paths as Record<string, Kind | [Kind, string]>;
  const SANDBOX = '/img/busybox-sandbox';
  const ALLOW_IMG = 'CJW_IMAGE_ALLOW=/img/*\n';
  const INTRO = 'came with the job (HTCondor transferred it into the scratch dir: transfer_container defaults to true), and a transferred copy is the job\'s own file';

  it.each([
    // [cfg, ad, paths, final image, change]
    [ALLOW_IMG, `ContainerImage = "${SANDBOX}"`, { 'busybox-sandbox': ['dir', '/x/dir_1/busybox-sandbox'], [SANDBOX]: 'dir' }, SANDBOX,
      `image busybox-sandbox -> ${SANDBOX} | the image was transferred with the job (a relative path in the scratch dir); the job ad's ContainerImage ${SANDBOX} is on this node and allowed (its realpath ${SANDBOX} matches the CJW_IMAGE_ALLOW glob /img/*), so the node's own copy runs: the transferred copy is the job's file and proves nothing (transfer_container = false avoids the copy)`],
    // What HTCondor 25.14.1 really puts in the node's .job.ad for a transferred image (pool, 2026-12-07).
    [ALLOW_IMG, `ContainerImage = "busybox-sandbox"\nContainerImageFullPath = "${SANDBOX}"\nContainerImageSource = "cedar"`, { 'busybox-sandbox': ['dir', '/x/dir_1/busybox-sandbox'], [SANDBOX]: 'dir' }, SANDBOX,
      `image busybox-sandbox -> ${SANDBOX} | the image was transferred with the job (a relative path in the scratch dir); the job ad's ContainerImageFullPath ${SANDBOX} is on this node and allowed (its realpath ${SANDBOX} matches the CJW_IMAGE_ALLOW glob /img/*), so the node's own copy runs: the transferred copy is the job's file and proves nothing (transfer_container = false avoids the copy)`],
    // ... and what 23.9.6 puts there: the submitted path only in TransferInput (pool, 2026-12-07).
    [ALLOW_IMG, `ContainerImage = "busybox-sandbox"\nContainerImageSource = "cedar"\nTransferInput = "/home/u/in.txt,${SANDBOX}/"`, { 'busybox-sandbox': ['dir', '/x/dir_1/busybox-sandbox'], [SANDBOX]: 'dir' }, SANDBOX,
      `image busybox-sandbox -> ${SANDBOX} | the image was transferred with the job (a relative path in the scratch dir); the job ad's TransferInput ${SANDBOX} is on this node and allowed (its realpath ${SANDBOX} matches the CJW_IMAGE_ALLOW glob /img/*), so the node's own copy runs: the transferred copy is the job's file and proves nothing (transfer_container = false avoids the copy)`],
    [ALLOW_IMG, 'SingularityImage = "/img/el9.sif"', { 'el9.sif': 'file', '/img/el9.sif': ['file', '/img/el9-2.sif'] }, '/img/el9-2.sif',
      'image el9.sif -> /img/el9-2.sif | the image was transferred with the job (a relative path in the scratch dir); the job ad\'s SingularityImage /img/el9.sif is on this node and allowed (its realpath /img/el9-2.sif matches the CJW_IMAGE_ALLOW glob /img/*), so the node\'s own copy runs: the transferred copy is the job\'s file and proves nothing (transfer_container = false avoids the copy)'],
    // CJW_IMAGE_ALLOW unset: the transferred copy runs as it is (by its realpath, as any image).
    ['', `ContainerImage = "${SANDBOX}"`, { 'busybox-sandbox': ['dir', '/x/dir_1/busybox-sandbox'] }, '/x/dir_1/busybox-sandbox',
      'image busybox-sandbox -> /x/dir_1/busybox-sandbox | the image path is a symlink (or relative): its realpath is used so the job sees one stable image even if the link moves'],
  ] as const)('%j %j', (cfg, attrs, paths, final, change) => {
    const d = run(Object.keys(paths)[0] ?? '', withAd(facts(cfg, table(paths)), attrs));
    expect(d.invocation?.image).toBe(final);
    expect(d.changes.map((c) => `${c.what} | ${c.reason}`).pop()).toBe(change);
  });

  it.each([
    // [ad, paths, id, code, why]
    [`ContainerImage = "${SANDBOX}"`, { [SANDBOX]: 'missing' }, 'image.not-allowed', 65, `${INTRO}; the job ad's ContainerImage ${SANDBOX} does not exist on this node; submit with transfer_container = false and an image path the site allows (CJW_IMAGE_ALLOW (/img/*))`],
    ['ContainerImage = "/home/u/mine"', { '/home/u/mine': 'dir' }, 'image.not-allowed', 65, `${INTRO}; the job ad's ContainerImage /home/u/mine matches no CJW_IMAGE_ALLOW glob (/img/*) either; submit with transfer_container = false and an image path the site allows`],
    ['ContainerImage = "/img/link"', { '/img/link': ['dir', '/home/u/mine'] }, 'image.not-allowed', 65, `${INTRO}; the job ad's ContainerImage /img/link (it resolves to /home/u/mine) matches no CJW_IMAGE_ALLOW glob (/img/*) either; submit with transfer_container = false and an image path the site allows`],
    ['ContainerImage = "busybox-sandbox"', {}, 'image.not-allowed', 65, `${INTRO}; the job ad's ContainerImage busybox-sandbox is not an absolute path on this node; submit with transfer_container = false and an image path the site allows (CJW_IMAGE_ALLOW (/img/*))`],
    ['Owner = "u"', {}, 'image.not-allowed', 65, `${INTRO}; the job ad names no ContainerImageFullPath, ContainerImage or SingularityImage that this node could run instead; submit with transfer_container = false and an image path the site allows (CJW_IMAGE_ALLOW (/img/*))`],
    ['ContainerImage = "/cvmfs/unpacked.cern.ch/x:1"', { '/cvmfs/unpacked.cern.ch/x:1': 'missing', '/cvmfs/unpacked.cern.ch': 'missing' }, 'image.repository-unreachable', 69, 'the CVMFS repository /cvmfs/unpacked.cern.ch is not reachable on this node (not mounted or automount failed)'],
  ] as const)('%j → %s', (attrs, paths, id, code, why) => {
    const f = withAd(facts(ALLOW_IMG, { 'busybox-sandbox': ['dir', '/x/dir_1/busybox-sandbox'], ...table(paths) }), attrs);
    const e = thrown(() => run('busybox-sandbox', f));
    expect([e.id, e.code, e.why]).toEqual([id, code, why]);
    if (code === 65) expect(e.line).toContain('transfer_container = false');
  });

  it('facts/paths.ts probes the node copy the job ad names, and only for a relative image with an allow list', () => {
    const config = facts(ALLOW_IMG, {}).config;
    const invocation = parseInvocation(argv('busybox-sandbox'), tableFor('singularity3'));
    const jobAd = ad(`ContainerImage = "busybox-sandbox"\nContainerImageFullPath = "${SANDBOX}"`);
    expect(pathsToProbe({ dispatch: 'starter-built', invocation, config, jobAd, cwd: '/x/dir_1' }).images).toEqual(['busybox-sandbox', SANDBOX]);
    expect(pathsToProbe({ dispatch: 'starter-built', invocation, config: facts('', {}).config, jobAd, cwd: '/x/dir_1' }).images).toEqual(['busybox-sandbox']);
    const absolute = parseInvocation(argv('/img/x.sif'), tableFor('singularity3'));
    expect(pathsToProbe({ dispatch: 'starter-built', invocation: absolute, config, jobAd, cwd: '/x/dir_1' }).images).toEqual(['/img/x.sif']);
  });
});
