#!/usr/bin/env node
// Long fuzz runs (issue 14): the suite of test/fuzz at a chosen size and seed.
//   npm run fuzz -- --runs 200000 --seed 42 --bundle-runs 2000
// --runs: generated lines through the in-process parse/decide path (default 20000);
// --bundle-runs: lines through the real bundle, one process each (default 500);
// --seed: fast-check seed (default: random, printed; a failure prints it too).
// `npm test` runs the same suite at 2,000 / 150.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20000' },
    'bundle-runs': { type: 'string', default: '500' },
    seed: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('npm run fuzz -- [--runs N] [--bundle-runs N] [--seed S]');
  process.exit(0);
}
for (const k of ['runs', 'bundle-runs', 'seed']) {
  if (values[k] !== undefined && !/^[0-9]+$/.test(values[k])) {
    console.error(`--${k}: a non-negative integer, not ${values[k]}`);
    process.exit(64);
  }
}
const seed = values.seed ?? String((Date.now() ^ (process.pid << 8)) >>> 0);
console.log(`fuzz: ${values.runs} lines in process, ${values['bundle-runs']} through the bundle, seed ${seed}`);
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const r = spawnSync('npx', ['jest', '--runInBand', 'test/fuzz'], {
  stdio: 'inherit',
  env: { ...process.env, CJW_FUZZ_RUNS: values.runs, CJW_FUZZ_BUNDLE_RUNS: values['bundle-runs'], CJW_FUZZ_SEED: seed },
});
process.exit(r.status ?? 1);
