// Fuzz (issue 14 item 5): the failure path's entries of a /proc environ block are found even when
// other entries are not UTF-8, and agree with the full decoding whenever the block is valid.

import fc from 'fast-check';
import { decodeRecords, envFromEntries, reportingEntries, REPORTING_KEYS } from '../../src/act/front';
import { WrapperError } from '../../src/errors';
import { RUNS, SEED } from './fuzz';

const name = fc.oneof(fc.constantFrom(...REPORTING_KEYS, 'PATH', '_CONDOR_WRAPPER_ERROR_FILEX', '_CONDOR_JOB_A', 'X'), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/));
const utf8Value = fc.string({ maxLength: 12 }).map((s) => Buffer.from(s.replace(/\0/g, ''), 'utf8'));
const badValue = fc.uint8Array({ minLength: 1, maxLength: 8 }).map((a) => Buffer.concat([Buffer.from([0xff]), Buffer.from(a.map((b) => (b === 0 ? 1 : b)))]));
const entry = (value: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> => fc.tuple(name, value).map(([k, v]) => Buffer.concat([Buffer.from(`${k}=`), v]));
const block = (entries: Buffer[]): Buffer => Buffer.concat(entries.flatMap((e) => [e, Buffer.from([0])]));

const runs = Math.max(200, Math.floor(RUNS / 4));

it(`valid blocks: reportingEntries agrees with the full decoding (seed ${SEED})`, () => {
  fc.assert(fc.property(fc.array(entry(utf8Value), { maxLength: 12 }), (entries) => {
    const env = envFromEntries(decodeRecords(block(entries), (i) => `entry ${i}`));
    const rep = reportingEntries(block(entries));
    for (const k of REPORTING_KEYS) expect(rep.get(k)).toBe(env.get(k));
  }), { numRuns: runs, seed: SEED });
});

it(`a block with a non-UTF-8 entry: refused (65), and the error file is still found (seed ${SEED})`, () => {
  fc.assert(fc.property(fc.array(entry(utf8Value), { maxLength: 6 }), entry(badValue), fc.array(entry(utf8Value), { maxLength: 6 }), fc.string({ maxLength: 20 }).map((s) => s.replace(/\0/g, '')), (before, bad, after, file) => {
    const errEntry = Buffer.from(`_CONDOR_WRAPPER_ERROR_FILE=${file}`, 'utf8');
    const buf = block([...before, bad, errEntry, ...after]);
    expect(() => decodeRecords(buf, (i) => `entry ${i}`)).toThrow(WrapperError);
    // The first entry of the name wins, as in envFromEntries.
    const first = [...before, bad].find((e) => e.toString('latin1').startsWith('_CONDOR_WRAPPER_ERROR_FILE='));
    const got = reportingEntries(buf).get('_CONDOR_WRAPPER_ERROR_FILE');
    if (first === undefined) expect(got).toBe(file);
    else if (first === bad) expect(got).toBeUndefined();
    else expect(got).toBe(first.subarray('_CONDOR_WRAPPER_ERROR_FILE='.length).toString('utf8'));
  }), { numRuns: runs, seed: SEED });
});
