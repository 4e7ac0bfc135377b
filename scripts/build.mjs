// Builds the single-file wrapper: the bash front (scripts/front.sh) followed by the esbuild
// bundle of src/main.ts. The result is committed; CI rebuilds it and fails when it differs.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

// `--readable --out FILE`: the same bundle with its names kept, for profiling (never committed).
const readable = process.argv.includes('--readable');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : 'wrapper/condor-job-wrapper';
if (readable && out === 'wrapper/condor-job-wrapper') throw new Error('--readable needs --out FILE (the committed bundle is minified)');
const front = readFileSync('scripts/front.sh', 'utf8');
// The front hides inside a JS block comment: "*/" may appear only as its last line.
if (front.indexOf('*/') !== front.lastIndexOf('*/') || !front.endsWith('*/\n')) {
  throw new Error('scripts/front.sh: "*/" may appear only as the final line');
}
// dotenv requires 'crypto' and 'os' at load time, only for what we never call (.env.vault
// decryption, "~" in config() paths); loading them costs every job start-up time. Make those
// two requires lazy.
const lazyDotenvCrypto = {
  name: 'lazy-dotenv-crypto',
  setup(build) {
    build.onLoad({ filter: /[\\/]dotenv[\\/]lib[\\/]main\.js$/ }, (args) => {
      let src = readFileSync(args.path, 'utf8');
      const lazy = {
        "const crypto = require('crypto')": "const crypto = { createDecipheriv: (...a) => require('crypto').createDecipheriv(...a) }",
        "const os = require('os')": "const os = { homedir: () => require('os').homedir() }",
        // Its package.json only for a version printed in debug messages we never enable: the
        // whole manifest would be an object built at every job's start.
        "const packageJson = require('../package.json')": "const packageJson = { get version() { return require('../package.json').version } }",
      };
      for (const [eager, replacement] of Object.entries(lazy)) {
        if (!src.includes(eager)) throw new Error(`${args.path}: expected "${eager}"; update the lazy-dotenv-crypto plugin`);
        src = src.replace(eager, replacement);
      }
      return { contents: src, loader: 'js' };
    });
  },
};
// execa and pino are loaded only on the paths that need them (hooks, logging), but esbuild puts
// their code into the bundle, and V8 must still scan every function of it at start-up: ~10 ms per
// job for ~400 KB that most jobs never run. Each is bundled on its own and embedded as a string
// literal, compiled only when its dynamic import runs.
const LAZY_MODULES = /^(execa|pino)$/;
const lazyHeavy = {
  name: 'lazy-heavy',
  setup(b) {
    b.onResolve({ filter: LAZY_MODULES }, (args) => ({ path: args.path, namespace: 'cjw-lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'cjw-lazy' }, async (args) => {
      const inner = await build({
        stdin: { contents: `module.exports = require(${JSON.stringify(args.path)});`, resolveDir: process.cwd(), loader: 'js' },
        bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, legalComments: 'none', write: false, logLevel: 'error',
      });
      const source = inner.outputFiles[0].text;
      // Stored gzip'd (base64): a third of the bytes every job reads and scans; inflated on first use.
      const packed = gzipSync(`${source}\n//# sourceURL=cjw-lazy:${args.path}`, { level: 9 }).toString('base64');
      return {
        loader: 'js',
        contents: `const mod = { exports: {} };
const text = require('node:zlib').gunzipSync(Buffer.from(${JSON.stringify(packed)}, 'base64')).toString('utf8');
new Function('module', 'exports', 'require', text)(mod, mod.exports, require);
module.exports = mod.exports;
`,
      };
    });
  },
};
const result = await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Short names: a smaller file to read and a smaller code cache on every job.
  minifyWhitespace: true, minifySyntax: true, minifyIdentifiers: !readable,
  legalComments: 'none',
  plugins: [lazyDotenvCrypto, lazyHeavy],
  write: false,
  logLevel: 'warning',
});
const js = result.outputFiles[0].text;
// The code goes into a block comment after the loader (scripts/loader.js), already wrapped as the
// CommonJS function the loader calls: the loader hands V8 one slice of the file, with no copy.
// A comment cannot hold "*/": the sources avoid it (glob.ts, classad.ts, launcher.ts say how).
if (js.includes('*/')) {
  const at = js.indexOf('*/');
  throw new Error(`the bundle contains "*/" (…${js.slice(Math.max(0, at - 60), at + 20)}…): write it another way in the source`);
}
if (/[^\x00-\x7f]/.test(js)) throw new Error('the bundle is not ASCII (esbuild charset changed?): V8 would scan it as two-byte text');
const buildId = createHash('sha256').update(js).digest('hex').slice(0, 16);
const loaderSrc = readFileSync('scripts/loader.js', 'utf8');
if (!loaderSrc.includes('@@CJW_BUILD_ID@@') || loaderSrc.includes('*/')) throw new Error('scripts/loader.js: needs the build-id placeholder and no "*/"');
// Where the code lies in the file, counted from its end, for the loader to read just that range:
// fixed-width placeholders, so that filling them in moves nothing.
const PLACE = { start: '@@CJW_MAIN_START@@', end: '@@CJW_MAIN_END__@@' };
if (!loaderSrc.includes(PLACE.start) || !loaderSrc.includes(PLACE.end)) throw new Error('scripts/loader.js: needs the code-range placeholders');
const width = PLACE.start.length;
const main = `(function (exports, require, module, __filename, __dirname) {${js}\n})`;
const loader0 = loaderSrc.replace('@@CJW_BUILD_ID@@', buildId);
const head = `${front}${loader0}\n/*CJW-MAIN\n`;
// ASCII throughout (checked above for the bundle; the front and loader are ours): bytes = characters.
if (/[^\x00-\x7f]/.test(head)) throw new Error('the front or the loader is not ASCII: the code range would be off');
const tail = `${main}\n*/\n`.length; // from the code's first byte to the end of the file
const pad = (n) => String(n).padStart(width, '0');
if (pad(tail).length !== width || PLACE.end.length !== width) throw new Error('code range placeholders too narrow');
const loader = loader0.replace(PLACE.start, pad(tail)).replace(PLACE.end, pad(main.length));
const text = `${front}${loader}\n/*CJW-MAIN\n${main}\n*/\n`;
const start = text.length - tail;
if (text.slice(start, start + main.length) !== main) throw new Error('build: the code range does not match the file');
writeFileSync(out, text);
chmodSync(out, 0o755);
console.log(`${out}: ${Buffer.byteLength(text)} bytes, build ${buildId}`);
