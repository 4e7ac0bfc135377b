// Fuzz (issue 14), in process: generated starter and job lines through run() (parse → facts →
// decide → handover, with real probes of a fixture site), under every site mode. Invariants:
// an accepted line carries the payload byte for byte at the end of what is exec'd; REQUIRED
// never yields anything but the container runtime; a refused line is a WrapperError with a
// specific code, never an internal error (70). Seeded: a failure prints "seed: N" (rerun with
// CJW_FUZZ_SEED=N, see `npm run fuzz -- --help`).

import fc from 'fast-check';
import { run } from '../../src/cli/run';
import { WrapperError } from '../../src/errors';
import { endsWith, lineArbitrary, makeSite, removeSites, RUNS, SEED, type Line } from './fuzz';

const site = makeSite();
afterAll(removeSites);

interface Tally {
  lines: number;
  accepted: number;
  contained: number;
  refused: Record<string, number>;
}

async function check(line: Line, tally: Tally): Promise<void> {
  tally.lines++;
  let h;
  try {
    h = await run({
      argv: ['--config', site.config[line.mode], '--', ...line.command],
      env: new Map(Object.entries(site.env(line.image, {}, line.ad))),
      cwd: site.scratch,
      stdout: () => undefined,
      stderr: () => undefined,
    });
  } catch (e) {
    if (!(e instanceof WrapperError)) throw new Error(`not a WrapperError: ${String(e)}`);
    if (e.code === 70) throw new Error(`internal error on a generated line: ${e.message}`);
    tally.refused[e.id] = (tally.refused[e.id] ?? 0) + 1;
    return;
  }
  if (h.kind === 'exit') throw new Error(`a job line ended with exit ${h.code} and no error`);
  // The generator never names sshd: a passthrough here would be an unchecked run.
  if (h.kind === 'pass') throw new Error(`a generated line was passed through unchanged: ${JSON.stringify(line.command)}`);
  tally.accepted++;
  if (h.argv[0] === site.runtime) tally.contained++;
  if (line.mode === 'REQUIRED' && h.argv[0] !== site.runtime) throw new Error(`REQUIRED ran ${h.argv[0] ?? '?'} uncontained`);
  if (!endsWith(h.argv, line.payload)) throw new Error(`payload changed: ${JSON.stringify(line.payload)} → ${JSON.stringify(h.argv)}`);
}

it(`${RUNS} generated lines: payload intact, REQUIRED contained, refusals specific (seed ${SEED})`, async () => {
  const tally: Tally = { lines: 0, accepted: 0, contained: 0, refused: {} };
  const t0 = Date.now();
  await fc.assert(fc.asyncProperty(lineArbitrary(site), (line) => check(line, tally)), { numRuns: RUNS, seed: SEED });
  const refused = Object.entries(tally.refused).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`fuzz lines: seed ${SEED}: ${tally.lines} lines, ${tally.accepted} accepted (${tally.contained} contained), refused: ${refused}; ${Date.now() - t0} ms`);
  // A generator that only ever produced refusals would prove nothing about the payload.
  expect(tally.accepted).toBeGreaterThan(tally.lines / 10);
}, Math.max(60000, RUNS * 50));
