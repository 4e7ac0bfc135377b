// facts/elf.ts: is the front's shell dynamically linked (and so subject to a job's LD_PRELOAD)?
import { existsSync, readFileSync } from 'node:fs';
import { elfLinkage, fileLinkage, shebangInterpreter } from '../../src/facts/elf';

/** A minimal 64-bit little-endian ELF header with the given program header types. */
function elf(types: number[], interp = '/lib64/ld-linux-x86-64.so.2'): Buffer {
  const phoff = 64;
  const interpAt = phoff + 56 * types.length;
  const buf = Buffer.alloc(interpAt + interp.length + 1);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = 2;
  buf[5] = 1;
  buf.writeBigUInt64LE(BigInt(phoff), 32);
  buf.writeUInt16LE(56, 54);
  buf.writeUInt16LE(types.length, 56);
  types.forEach((t, i) => {
    const at = phoff + 56 * i;
    buf.writeUInt32LE(t, at);
    if (t === 3) {
      buf.writeBigUInt64LE(BigInt(interpAt), at + 8);
      buf.writeBigUInt64LE(BigInt(interp.length + 1), at + 32);
    }
  });
  buf.write(interp, interpAt, 'latin1');
  return buf;
}

describe('elfLinkage', () => {
  it.each<[string, Buffer, unknown]>([
    ['PT_INTERP present', elf([6, 3, 1]), { kind: 'dynamic', interpreter: '/lib64/ld-linux-x86-64.so.2' }],
    ['no PT_INTERP', elf([1, 1, 4]), { kind: 'static' }],
    ['not ELF', Buffer.from('#!/bin/sh\n'.padEnd(80)), { kind: 'unknown', why: 'not an ELF file' }],
    ['too short', Buffer.alloc(10), { kind: 'unknown', why: 'not an ELF file' }],
  ])('%s', (_n, buf, want) => {
    expect(elfLinkage(buf)).toEqual(want);
  });

  it('is "unknown" for 32-bit files and truncated headers, never a throw', () => {
    const b32 = elf([3]);
    b32[4] = 1;
    expect(elfLinkage(b32).kind).toBe('unknown');
    expect(elfLinkage(elf([1, 3]).subarray(0, 100)).kind).toBe('unknown');
  });

  it('tells the real bash (dynamic) from the static one, where installed', () => {
    expect(fileLinkage('/bin/bash').kind).toBe('dynamic');
    if (existsSync('/bin/bash-static')) expect(fileLinkage('/bin/bash-static').kind).toBe('static');
    expect(fileLinkage('/nonexistent').kind).toBe('unknown');
  });

  it('reads the interpreter of the bundle\'s first line', () => {
    const first = readFileSync(`${__dirname}/../../wrapper/condor-job-wrapper`, 'latin1').split('\n')[0] ?? '';
    expect(shebangInterpreter(first)).toBe('/bin/bash');
    expect(shebangInterpreter('#! /bin/bash-static -p')).toBe('/bin/bash-static');
    expect(shebangInterpreter('":" /*')).toBeUndefined();
  });
});
