// The bridge to the bash front (src/act/front.ts): /proc record decoding and the CJW2 framing.
import fc from 'fast-check';
import { decodeRecords, encodeHandover } from '../../src/act/front';

/** The plain definition: split at every NUL, strict UTF-8 per record, a trailing NUL ends the last record. */
function reference(buf: Buffer): string[] | 'invalid' {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      parts.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < buf.length) parts.push(buf.subarray(start));
  const dec = new TextDecoder('utf-8', { fatal: true });
  try {
    return parts.map((p) => dec.decode(p));
  } catch {
    return 'invalid';
  }
}

const decode = (buf: Buffer): string[] | 'invalid' => {
  try {
    return decodeRecords(buf, (i) => `entry ${i + 1}`);
  } catch {
    return 'invalid';
  }
};

describe('decodeRecords', () => {
  it.each([
    ['empty', '', []],
    ['one NUL', '\0', ['']],
    ['trailing NUL', 'A=1\0B=2\0', ['A=1', 'B=2']],
    ['no trailing NUL', 'A=1\0B=2', ['A=1', 'B=2']],
    ['empty records kept', 'A=1\0\0B=2\0', ['A=1', '', 'B=2']],
    ['unicode', 'X=\u00e9\u4e2d\ud83d\ude00\0', ['X=\u00e9\u4e2d\ud83d\ude00']],
  ])('%s', (_name, input, expected) => {
    expect(decodeRecords(Buffer.from(input, 'utf8'), String)).toEqual(expected);
  });

  it('names the record that is not UTF-8', () => {
    const buf = Buffer.concat([Buffer.from('A=1\0B='), Buffer.from([0xff, 0xfe]), Buffer.from('\0')]);
    expect(() => decodeRecords(buf, (i) => `environment entry ${i + 1}`)).toThrow(/environment entry 2: not valid UTF-8/);
  });

  it('agrees with the record-by-record definition on any bytes', () => {
    const bytes = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }), fc.constantFrom(0xc3, 0xa9, 0xe4, 0xb8, 0xad, 0xf0, 0x9f)), { maxLength: 64 });
    const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constant('\0')), { maxLength: 8 }).map((a) => Buffer.from(a.join(''), 'utf8'));
    fc.assert(fc.property(fc.oneof(bytes.map((b) => Buffer.from(b)), text), (buf) => {
      expect(decode(buf)).toEqual(reference(buf));
    }), { numRuns: 5000 });
  });
});

describe('encodeHandover (CJW2)', () => {
  /** What scripts/front.sh does with the bytes: header, table of lengths, records. */
  function frontRead(buf: Buffer): string[] {
    const head = buf.subarray(0, 12).toString('latin1');
    expect(head).toMatch(/^CJW2[0-9]{8}$/);
    const tableLen = Number(head.slice(4));
    const lengths = buf.subarray(12, 12 + tableLen).toString('latin1').split(' ').map(Number);
    let off = 12 + tableLen;
    const out: string[] = [];
    for (const l of lengths) {
      out.push(buf.subarray(off, off + l).toString('utf8'));
      off += l;
    }
    expect(off).toBe(buf.length);
    return out;
  }

  it('frames an exec with its environment and argv, byte lengths for multi-byte text', () => {
    const env = new Map([['A', '1'], ['U', '\u00e9 \n x'], ['E', '']]);
    const recs = frontRead(encodeHandover({ kind: 'exec', argv: ['/bin/echo', '', 'two words', '\u4e2d'], env }));
    expect(recs).toEqual(['CJW2', 'exec', '3', 'A=1', 'U=\u00e9 \n x', 'E=', '4', '/bin/echo', '', 'two words', '\u4e2d', 'END']);
  });

  it('frames an exit', () => {
    expect(frontRead(encodeHandover({ kind: 'exit', code: 69 }))).toEqual(['CJW2', 'exit', '69', 'END']);
  });

  it('refuses a NUL in a value and a program env(1) would read as an assignment', () => {
    expect(() => encodeHandover({ kind: 'exec', argv: ['/bin/true'], env: new Map([['A', 'x\0y']]) })).toThrow(/NUL/);
    expect(() => encodeHandover({ kind: 'exec', argv: ['/tmp/a=b'], env: new Map() })).toThrow(/contains "="/);
  });
});

describe('encodeHandover with text that is not Unicode', () => {
  it('refuses lone surrogates that the joined text would pair (its bytes would not match the table)', () => {
    expect(() => encodeHandover({ kind: 'exec', argv: ['/bin/true', 'a\ud800', '\udc00b'], env: new Map() })).toThrow(/not valid Unicode/);
  });
});
