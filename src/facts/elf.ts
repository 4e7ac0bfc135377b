// Is a program dynamically linked? The ELF program headers say: a PT_INTERP entry names the
// dynamic linker, which honours LD_PRELOAD/LD_AUDIT from the environment before the program's
// own code runs. Used by --check for the interpreter of the bundle's bash front.

import { closeSync, openSync, readSync } from 'node:fs';

const PT_INTERP = 3;

export type Linkage = { readonly kind: 'static' } | { readonly kind: 'dynamic'; readonly interpreter: string } | { readonly kind: 'unknown'; readonly why: string };

/** The linkage from the first bytes of an ELF file (64-bit little-endian; others are 'unknown'). */
export function elfLinkage(head: Buffer): Linkage {
  if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46) return { kind: 'unknown', why: 'not an ELF file' };
  if (head[4] !== 2 || head[5] !== 1) return { kind: 'unknown', why: 'not a 64-bit little-endian ELF file' };
  const phoff = Number(head.readBigUInt64LE(32));
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  if (phentsize < 56) return { kind: 'unknown', why: 'malformed program headers' };
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > head.length) return { kind: 'unknown', why: 'program headers beyond the bytes read' };
    if (head.readUInt32LE(at) !== PT_INTERP) continue;
    const off = Number(head.readBigUInt64LE(at + 8));
    const size = Number(head.readBigUInt64LE(at + 32));
    const interp = off + size <= head.length ? head.toString('latin1', off, off + size).replace(/\0+$/, '') : '(beyond the bytes read)';
    return { kind: 'dynamic', interpreter: interp };
  }
  return { kind: 'static' };
}

/** Reads the first 4 KiB of `path` (program headers live there in practice) and classifies it. */
export function fileLinkage(path: string): Linkage {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return { kind: 'unknown', why: `cannot read it: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return elfLinkage(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** The interpreter a `#!` line names (its first word), or undefined. */
export function shebangInterpreter(firstLine: string): string | undefined {
  const m = /^#!\s*(\S+)/.exec(firstLine);
  return m?.[1];
}
