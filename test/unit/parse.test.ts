// Table tests for the invocation model on real lines, and fast-check properties for the round
// trip and the payload's integrity.

import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WrapperError } from '../../src/errors';
import { tableFor } from '../../src/invocation/families/index';
import type { FamilyId } from '../../src/invocation/flagTable';
import { allFlags, payloadWithoutLauncher, render } from '../../src/invocation/model';
import { parseInvocation } from '../../src/invocation/parse';

const FIX = join(__dirname, '../fixtures/observed');
const observed = readdirSync(FIX)
  .filter((f) => f.endsWith('.argv.nul') && !f.includes('vanilla'))
  .map((f) => [f, readFileSync(join(FIX, f), 'utf8').replace(/\0$/, '').split('\0')] as const);

const SCRATCH = '/var/lib/condor/execute/dir_1234';
// Lines from ../shared/docs/htcondor.md, the seed slides (HTCondor Week 2019) and HTCondor's docs.
const DOC_LINES: readonly (readonly [string, FamilyId, string[], string, string[]])[] = [
  ['htcondor.md 24.0.23 apptainer', 'apptainer', ['/usr/bin/apptainer', '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', SCRATCH, '--pwd', '/srv', '-B', `${SCRATCH}:/srv`, '-B', '/etc/hosts:/etc/hosts:ro', '-B', '/usr/share', '--home', SCRATCH, '-C', '--writable-tmpfs'], '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest', ['/bin/echo', 'hello', 'two words']],
  ['htcondor.md shared fs singularity', 'singularity3', ['/usr/bin/singularity', '-s', 'exec', '-B', '/home/u/iwd', '-W', SCRATCH, '--pwd', '/home/u/iwd', '-B', SCRATCH, '-B', '/etc/hosts', '-B', '/usr/share:/opt/share:ro', '-C'], '/home/u/iwd/image.sif', ['/bin/echo', 'shared-fs']],
  ['seed 8.8.2 line (2.6.1)', 'singularity2', ['/usr/bin/singularity', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-B', '/cloud/login/marcom', '-B', '/opt/condor/v8_8_2/local.fermicloud047/execute/dir_731235:/srv', '-B', '/opt/condor/dir2', '-B', '/opt/condor/dir1', '--ipc', '--pid', '--contain', '-C'], '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el7:latest', ['/bin/sleep', '60']],
  ['seed nested line (outer 3.1.1)', 'singularity3', ['/cvmfs/oasis.opensciencegrid.org/mis/singularity/3.1.1/bin/singularity', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-B', '/cloud/login/marcom', '-B', '/opt/condor/v8_8_2/local.fermicloud047/execute/dir_794998:/srv', '-B', '/cvmfs', '-B', '/opt/condor/dir2', '-B', '/opt/condor/dir1', '--ipc', '--pid', '--contain', '-C'], '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el7:latest',
    ['/cvmfs/oasis.opensciencegrid.org/mis/singularity/current/bin/singularity', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-B', '/cloud/login/marcom/condor-test', '-B', '/opt/condor/v8_8_2/local.fermicloud047/execute/dir_742460:/srv', '-B', '/opt/condor/dir2', '-B', '/opt/condor/dir1', '--ipc', '--pid', '--contain', '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el7:latest', '/bin/bash', '-c', 'echo "`{ read first _ < /proc/$$/uid_map ; echo "$first" ; }`>/dev/null`"']],
  ['container universe, no pid namespaces', 'apptainer', ['/usr/libexec/condor/apptainer', '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-W', SCRATCH, '--pwd', SCRATCH, '-B', SCRATCH, '--home', SCRATCH, '--contain', '--ipc', '--cleanenv'], '/images/el9.sif', ['/bin/echo', 'container-universe']],
  ['25.x GPU slot with --nv --rocm and launcher', 'apptainer', ['/usr/bin/apptainer', '-s', 'exec', '-S', '/tmp', '-S', '/var/tmp', '-B', '/usr/libexec/condor/condor_container_launcher.sh:/condor_container_launcher.sh', '-W', `${SCRATCH}/scratch`, '--pwd', '/srv/scratch', '-B', `${SCRATCH}:/srv`, '--nv', '--rocm', '--home', `${SCRATCH}/scratch`, '-C'], '/images/cuda.sif', ['/condor_container_launcher.sh', '/srv/scratch/train.py', '--epochs', '3']],
  ['pflag forms: clusters, =values, attached shorthand values', 'apptainer', ['/usr/bin/apptainer', '-q', '--nocolor', 'exec', '-ci', '--bind=/a:/b', '-B/c', '-B=/d', '--pwd=/srv', '-e=true', '--writable-tmpfs=false', '--'], 'docker://alpine:3', ['-C', '--bind', 'x']],
  // Lines from public ops/test scripts (found with the search tool): OSG worker-pod self test, HTMap's runner.
  ['OSG pod self test', 'singularity3', ['/usr/bin/singularity', 'exec', '--contain', '--ipc', '--pid', '--bind', '/cvmfs'], '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el7:latest', ['/usr/bin/dc', '-e', '3 5 + p']],
  ['htmap run_with_singularity.sh', 'singularity3', ['/usr/bin/singularity', 'exec', '--contain', '--bind', '/scratch/dir_7:/tmp', '--workdir', '/tmp'], 'docker://htcondor/htmap-exec:v0.6', ['bash', '-c', 'python3 run.py 3']],
  ['instance start (image, then the instance name)', 'singularity3', ['/usr/bin/singularity', 'instance', 'start', '-B', '/x'], 'img.sif', ['inst1']],
];

describe('parse and render real lines', () => {
  it.each(observed)('%s: round trip and the payload after the image', (_name, argv) => {
    const inv = parseInvocation(argv, tableFor('apptainer'));
    expect(render(inv)).toEqual(argv);
    expect(inv.action).toEqual(['exec']);
    expect(inv.globals.flatMap((g) => g.raw)).toEqual(['-s']);
    const imageAt = argv.indexOf(inv.image);
    expect(inv.payload).toEqual(argv.slice(imageAt + 1));
  });

  it.each(DOC_LINES)('%s', (_name, family, before, image, payload) => {
    const argv = [...before, image, ...payload];
    const inv = parseInvocation(argv, tableFor(family));
    expect(render(inv)).toEqual(argv);
    expect(inv.image).toBe(image);
    expect(inv.payload).toEqual(payload);
  });

  it('understands what flags mean whatever their spelling', () => {
    const [, , before, image, payload] = DOC_LINES[6]!;
    const inv = parseInvocation([...before, image, ...payload], tableFor('apptainer'));
    expect(allFlags(inv).map((f) => [f.def.meaning, f.value])).toEqual([
      ['contain', undefined], ['ipc', undefined], ['bind', '/a:/b'], ['bind', '/c'], ['bind', '/d'], ['pwd', '/srv'], ['cleanenv', 'true'], ['writable-tmpfs', 'false'],
    ]);
    expect(inv.endOfFlags).toBe(true);
    expect(inv.globals.flatMap((g) => g.flags.map((f) => f.def.meaning))).toEqual(['other', 'other']);
  });

  it('keeps HTCondor\'s launcher in front of the payload, and knows the payload without it', () => {
    const [, , before, image, payload] = DOC_LINES[5]!;
    const inv = parseInvocation([...before, image, ...payload], tableFor('apptainer'));
    expect(inv.payload[0]).toBe('/condor_container_launcher.sh');
    expect(payloadWithoutLauncher(inv)).toEqual(['/srv/scratch/train.py', '--epochs', '3']);
  });
});

describe('errors name the flag and the family (exit 64)', () => {
  const cases: readonly (readonly [FamilyId, string[], RegExp])[] = [
    ['apptainer', ['/usr/bin/apptainer', 'exec', '--bogus', 'img', 'x'], /runtime flag --bogus: not a flag of Apptainer/],
    ['singularity3', ['/usr/bin/singularity', 'exec', '-Z', 'img', 'x'], /runtime flag -Z: not a flag of .*Singularity/],
    ['singularity2', ['/usr/bin/singularity', 'exec', '--bind=/x', 'img', 'x'], /runtime flag --bind: not a flag of Singularity 2\.6/],
    ['singularity2', ['/usr/bin/singularity', 'exec', '-ci', 'img', 'x'], /runtime flag -ci: not a flag of Singularity 2\.6/],
    ['singularity2', ['/usr/bin/singularity', '--nocolor', 'exec', 'img', 'x'], /runtime flag --nocolor: not a flag of Singularity 2\.6.*before the action/],
    ['apptainer', ['/usr/bin/apptainer', 'frobnicate', 'img'], /runtime action frobnicate/],
    ['apptainer', ['/usr/bin/apptainer', 'exec', '-B'], /flag -B needs a value/],
    ['apptainer', ['/usr/bin/apptainer', 'exec', '-C'], /no image after "exec"/],
    ['apptainer', ['/usr/bin/apptainer', 'exec', '--contain=maybe', 'img'], /boolean flag --contain given the value "maybe"/],
  ];
  it.each(cases)('%s %j', (family, argv, message) => {
    let caught: unknown;
    try {
      parseInvocation(argv, tableFor(family));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WrapperError);
    expect((caught as WrapperError).code).toBe(64);
    expect((caught as WrapperError).line).toMatch(/^condor-job-wrapper: job error: /);
    expect((caught as WrapperError).line).toMatch(message);
  });
});

describe('properties', () => {
  const runs = Number(process.env.CJW_PROPERTY_RUNS ?? (process.env.CI ? 10000 : 1000));
  const families: FamilyId[] = ['apptainer', 'singularity3', 'singularity2'];
  const anyString = fc.string({ unit: 'binary', maxLength: 12 });
  const value = fc.oneof(anyString, fc.constantFrom('/srv', '/a b:/c', '-x', '', '--', '=', '/x,/y'));

  /** Random valid lines built from the family's own table. */
  const line = (family: FamilyId): fc.Arbitrary<{ argv: string[]; image: string; payload: string[] }> => {
    const t = tableFor(family);
    const exec = t.actions.exec ?? [];
    const names = exec.flatMap((d) => d.names.filter((n) => t.style === 'pflag' || !n.startsWith('-') || n.length > 1).map((n) => ({ n, v: d.takesValue })));
    const flag: fc.Arbitrary<string[]> = fc.constantFrom(...names).chain(({ n, v }) =>
      v ? fc.oneof(value.map((x) => [n, x]), ...(t.style === 'pflag' && n.startsWith('--') ? [value.map((x) => [`${n}=${x}`])] : [])) : fc.constant([n]),
    );
    const image = fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.startsWith('-'));
    return fc.record({ flags: fc.array(flag, { maxLength: 8 }), image, payload: fc.array(anyString, { maxLength: 6 }) }).map(({ flags, image: img, payload }) => ({
      argv: ['/usr/bin/runtime', 'exec', ...flags.flat(), img, ...payload],
      image: img,
      payload,
    }));
  };

  it.each(families)('%s: render(parse(argv)) === argv and the payload is carried intact', (family) => {
    fc.assert(
      fc.property(line(family), ({ argv, image, payload }) => {
        const inv = parseInvocation(argv, tableFor(family));
        expect(render(inv)).toEqual(argv);
        expect(inv.image).toBe(image);
        expect(inv.payload).toEqual(payload);
      }),
      { numRuns: runs },
    );
  });

  it.each(families)('%s: any argv either parses losslessly or fails with a WrapperError', (family) => {
    const token = fc.oneof(anyString, fc.constantFrom('-B', '--bind', '-C', '-ci', '--', '-', 'exec', '--pwd=/x', '-B=/y', '-s'));
    fc.assert(
      fc.property(fc.array(token, { maxLength: 10 }), (rest) => {
        const argv = ['/usr/bin/runtime', ...rest];
        try {
          expect(render(parseInvocation(argv, tableFor(family)))).toEqual(argv);
        } catch (e) {
          if (!(e instanceof WrapperError)) throw e;
          expect([64]).toContain(e.code);
        }
      }),
      { numRuns: runs },
    );
  });
});
