// Builds the single-file wrapper: the bash front (scripts/front.sh) followed by the esbuild
// bundle of src/main.ts. The result is committed; CI rebuilds it and fails when it differs.
import { build } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

const out = 'wrapper/condor-job-wrapper';
const front = readFileSync('scripts/front.sh', 'utf8');
// The front hides inside a JS block comment: "*/" may appear only as its last line.
if (front.indexOf('*/') !== front.lastIndexOf('*/') || !front.endsWith('*/\n')) {
  throw new Error('scripts/front.sh: "*/" may appear only as the final line');
}
// dotenv requires 'crypto' at load time only for its rarely used .env.vault decryption; loading
// crypto costs every job several ms of Node start-up. Make that one require lazy.
const lazyDotenvCrypto = {
  name: 'lazy-dotenv-crypto',
  setup(build) {
    build.onLoad({ filter: /[\\/]dotenv[\\/]lib[\\/]main\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const eager = "const crypto = require('crypto')";
      if (!src.includes(eager)) throw new Error(`${args.path}: expected "${eager}"; update the lazy-dotenv-crypto plugin`);
      return { contents: src.replace(eager, "const crypto = { createDecipheriv: (...a) => require('crypto').createDecipheriv(...a) }"), loader: 'js' };
    });
  },
};
const result = await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: false,
  legalComments: 'none',
  plugins: [lazyDotenvCrypto],
  write: false,
  logLevel: 'warning',
});
const js = result.outputFiles[0].text;
writeFileSync(out, `${front}${js}`);
chmodSync(out, 0o755);
console.log(`${out}: ${Buffer.byteLength(front) + Buffer.byteLength(js)} bytes`);
