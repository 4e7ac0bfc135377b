// Builds the single-file wrapper: the bash front (scripts/front.sh) followed by the esbuild
// bundle of src/main.ts. The result is committed; CI rebuilds it and fails when it differs.
import { buildSync } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

const out = 'wrapper/condor-job-wrapper';
const front = readFileSync('scripts/front.sh', 'utf8');
// The front hides inside a JS block comment: "*/" may appear only as its last line.
if (front.indexOf('*/') !== front.lastIndexOf('*/') || !front.endsWith('*/\n')) {
  throw new Error('scripts/front.sh: "*/" may appear only as the final line');
}
const result = buildSync({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: false,
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});
const js = result.outputFiles[0].text;
writeFileSync(out, `${front}${js}`);
chmodSync(out, 0o755);
console.log(`${out}: ${Buffer.byteLength(front) + Buffer.byteLength(js)} bytes`);
