#!/usr/bin/env node
// Regenerates the documentation that is rendered from code (src/docs/generate.ts lists it).
// The sources are TypeScript, so they are bundled with esbuild to a temporary CommonJS file first.
// Usage: node scripts/gen-docs.mjs [--check]   (--check: write nothing, exit 1 naming stale files)
import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const tmp = mkdtempSync(join(tmpdir(), 'cjw-gen-docs-'));
let docs;
try {
  const outfile = join(tmp, 'generate.cjs');
  buildSync({
    entryPoints: [join(root, 'src/docs/generate.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  docs = createRequire(import.meta.url)(outfile).generatedDocs(root);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const stale = [];
for (const { file, text } of docs) {
  const path = join(root, file);
  let current;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  stale.push(file);
  if (!check) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${file}`);
  }
}
if (check && stale.length > 0) {
  console.error(`stale generated docs (run npm run docs): ${stale.join(', ')}`);
  process.exit(1);
}
