// The V8 flags `--check` chooses for the front (src/act/nodeFlags.ts): which set, which hard link,
// what is left behind; on this machine's own Node, that the chosen set starts it silently; and
// the front's test (`-ef`) against a Node replaced since, which must then get no flags.
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLAG_SETS, chooseNodeFlags, nodeKey, type FlagTrial } from '../../src/act/nodeFlags';

let dir: string;
let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'cjw-flags-'));
  dir = join(work, 'flags');
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A Node stand-in: any regular file serves, the links only care about its inode. */
function fakeNode(name = 'node'): string {
  const p = join(work, name);
  writeFileSync(p, '#!/bin/sh\n', { mode: 0o755 });
  return p;
}
const entries = (): string[] => readdirSync(dir).sort();
const sameFile = (a: string, b: string): boolean => statSync(a).ino === statSync(b).ino && statSync(a).dev === statSync(b).dev;

describe('chooseNodeFlags', () => {
  it('hard-links the first set the Node takes silently, named for the set and the Node', () => {
    const node = fakeNode();
    const tried: string[] = [];
    const trial: FlagTrial = (_n, flags) => {
      tried.push(flags.join(' '));
      return flags.length === 1;
    };
    const c = chooseNodeFlags(true, node, dir, trial);
    expect(c.ok).toBe(true);
    expect(tried).toEqual(['--jitless --no-expose-wasm', '--jitless']);
    expect(entries()).toEqual([`jitless.${nodeKey(node)}`]);
    expect(sameFile(join(dir, `jitless.${nodeKey(node)}`), node)).toBe(true);
    expect(c.text).toBe(`--jitless for ${node} (${process.version}; hard link ${join(dir, `jitless.${nodeKey(node)}`)})`);
  });

  it('a Node changing its set replaces its link; another Node\'s link stays; no temporary is left', () => {
    const a = fakeNode('a');
    const b = fakeNode('b');
    chooseNodeFlags(true, a, dir, () => true);
    chooseNodeFlags(true, b, dir, () => true);
    chooseNodeFlags(true, a, dir, (_n, flags) => flags.length === 1);
    expect(entries()).toEqual([`jitless-no-wasm.${nodeKey(b)}`, `jitless.${nodeKey(a)}`].sort());
  });

  it('a Node upgraded in place (a new file at the same path): its old link goes, the new one is to the new file', () => {
    const node = fakeNode();
    chooseNodeFlags(true, node, dir, () => true);
    const link = join(dir, `jitless-no-wasm.${nodeKey(node)}`);
    const replacement = join(work, 'node.new');
    copyFileSync(node, replacement);
    renameSync(replacement, node);
    // What the front tests: the link is the old file, no longer the Node at that path.
    expect(spawnSync('test', [link, '-ef', node]).status).toBe(1);
    chooseNodeFlags(true, node, dir, () => true);
    expect(spawnSync('test', [link, '-ef', node]).status).toBe(0);
    expect(entries()).toEqual([`jitless-no-wasm.${nodeKey(node)}`]);
  });

  it('none taken: no link, and the text says jobs start Node without flags', () => {
    const node = fakeNode();
    chooseNodeFlags(true, node, dir, () => true);
    const c = chooseNodeFlags(true, node, dir, () => false);
    expect(c.ok).toBe(false);
    expect(entries()).toEqual([]);
    expect(c.text).toMatch(/starts silently with none of --jitless --no-expose-wasm \/ --jitless: jobs start it without flags$/);
  });

  it('an interrupted run\'s temporary is cleaned up', () => {
    const node = fakeNode();
    chooseNodeFlags(true, node, dir, () => true);
    linkSync(node, join(dir, `jitless.${nodeKey(node)}.999.tmp`));
    chooseNodeFlags(true, node, dir, () => true);
    expect(entries()).toEqual([`jitless-no-wasm.${nodeKey(node)}`]);
  });

  it('not root: nothing is tried or written', () => {
    const c = chooseNodeFlags(false, fakeNode(), dir, () => {
      throw new Error('tried');
    });
    expect(c).toEqual({ ok: false, text: `not chosen: only root links them in ${dir} (jobs then start Node without them, about 1 ms slower)` });
    expect(() => entries()).toThrow(/ENOENT/);
  });

  it('a Node that does not exist is said, not thrown', () => {
    const c = chooseNodeFlags(true, join(work, 'missing-node'), dir, () => true);
    expect(c.ok).toBe(false);
    expect(c.text).toMatch(/^not chosen: .*missing-node: ENOENT/);
  });

  // A hard link to a file of root's needs root where fs.protected_hardlinks is on (the default).
  (process.getuid?.() === 0 ? it : it.skip)('on this machine\'s Node (as root): the chosen set starts it with nothing on stdout or stderr', () => {
    const node = process.execPath;
    const c = chooseNodeFlags(true, node, dir);
    if (!c.ok && /different filesystems/.test(c.text)) return; // a hard link cannot reach it from here
    expect(c.ok).toBe(true);
    const [name = ''] = entries();
    const set = FLAG_SETS.find((s) => name.startsWith(`${s.name}.`));
    expect(set).toBeDefined();
    const r = spawnSync(node, [...(set?.flags ?? []), '-e', 'process.stdout.write(String(typeof WebAssembly))'], { env: {}, encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'undefined', stderr: '' });
    // Node 20 and 22 need --no-expose-wasm beside --jitless; 24 has no such flag.
    const major = Number(process.versions.node.split('.')[0]);
    expect(set?.name).toBe(major >= 24 ? 'jitless' : 'jitless-no-wasm');
  });
});
